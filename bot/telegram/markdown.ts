import { createRequire } from "node:module";
import type { MessageEntity } from "grammy/types";
import type { Token, Tokens } from "marked";

/**
 * Model Markdown → Telegram text + message entities. Entities rather than parse_mode HTML/MarkdownV2
 * because nothing has to be escaped: whatever a model writes, the text is sent as it reads and the
 * formatting rides alongside. `marked` is the parser because it is well kept, has no dependencies
 * and its lexer gives a plain token tree (no HTML rendering needed).
 * Offsets and lengths are UTF-16 code units, which is what JS string lengths count (emoji = 2).
 */
export interface Formatted {
  text: string;
  entities: MessageEntity[];
  /** Offsets where a block starts: the places a long message may be split without cutting a block. */
  blockStarts: number[];
}

class Builder {
  text = "";
  readonly entities: MessageEntity[] = [];
  readonly blockStarts: number[] = [];

  add(s: string): void {
    this.text += s;
  }

  /** Runs `body`, then covers what it wrote with an entity (skipped when it wrote nothing visible). */
  wrap(entity: DistributiveOmit<MessageEntity, "offset" | "length">, body: () => void): void {
    const start = this.text.length;
    body();
    const length = this.text.length - start;
    if (length > 0 && this.text.slice(start).trim().length > 0)
      this.entities.push({ ...entity, offset: start, length } as MessageEntity);
  }

  /** Separates blocks by one blank line. */
  blockBreak(): void {
    if (this.text.length === 0) return;
    this.text = this.text.replace(/\n*$/, "\n\n");
    this.blockStarts.push(this.text.length);
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

type Lexer = (markdown: string) => Token[];
let markedLexer: Lexer | undefined;

/**
 * `marked` is loaded when the first draft is formatted, not at start-up: an idle bot never needs
 * it (about 1 MB of resident memory, bench/process.ts). require() of an ES module is synchronous
 * on Node ≥ 22.12, so formatting stays synchronous; the bundle leaves marked in node_modules, as
 * it does pino-pretty. A missing or broken package fails the first format with its name.
 */
export function loadMarked(require: (id: string) => unknown = createRequire(import.meta.url)): Lexer {
  let mod: { lexer?: unknown };
  try {
    mod = require("marked") as { lexer?: unknown };
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new Error(`Formatting for Telegram needs the "marked" package, which did not load: ${why}`, {
      cause: error,
    });
  }
  if (typeof mod.lexer !== "function")
    throw new Error('Formatting for Telegram needs the "marked" package, which has no lexer() here.');
  return mod.lexer as Lexer;
}

function lexer(markdown: string): Token[] {
  markedLexer ??= loadMarked();
  return markedLexer(markdown);
}

export function markdownToEntities(markdown: string): Formatted {
  const b = new Builder();
  blocks(b, lexer(markdown), 0);
  const text = b.text.replace(/\s+$/, "");
  const entities = b.entities
    .map((e) => ({ ...e, length: Math.min(e.length, text.length - e.offset) }))
    .filter((e) => e.length > 0)
    .sort((x, y) => x.offset - y.offset || y.length - x.length);
  return { text, entities, blockStarts: b.blockStarts.filter((o) => o > 0 && o < text.length) };
}

function blocks(b: Builder, tokens: Token[], depth: number): void {
  for (const t of tokens) {
    if (t.type === "space") continue;
    if (depth === 0) b.blockBreak();
    block(b, t, depth);
  }
}

function block(b: Builder, t: Token, depth: number): void {
  switch (t.type) {
    case "heading":
      b.wrap({ type: "bold" }, () => inline(b, (t as Tokens.Heading).tokens));
      return;
    case "paragraph":
      inline(b, (t as Tokens.Paragraph).tokens);
      return;
    case "code": {
      const c = t as Tokens.Code;
      const language = c.lang?.trim().split(/\s/)[0];
      b.wrap({ type: "pre", ...(language ? { language } : {}) }, () => b.add(c.text));
      return;
    }
    case "blockquote":
      b.wrap({ type: "blockquote" }, () => blocksInline(b, (t as Tokens.Blockquote).tokens, depth));
      return;
    case "list":
      list(b, t as Tokens.List, depth);
      return;
    case "table":
      b.wrap({ type: "pre" }, () => b.add(table(t as Tokens.Table)));
      return;
    case "hr":
      b.add("———");
      return;
    case "text": {
      const tt = t as Tokens.Text;
      if (tt.tokens) inline(b, tt.tokens);
      else b.add(tt.text);
      return;
    }
    default:
      b.add("raw" in t ? String(t.raw).trimEnd() : "");
  }
}

/** Blocks inside a quote or list item: separated by newlines, not split points. */
function blocksInline(b: Builder, tokens: Token[], depth: number): void {
  let first = true;
  for (const t of tokens) {
    if (t.type === "space") continue;
    if (!first && !b.text.endsWith("\n")) b.add("\n");
    first = false;
    block(b, t, depth);
  }
}

function list(b: Builder, l: Tokens.List, depth: number): void {
  const indent = "   ".repeat(depth);
  const start = typeof l.start === "number" ? l.start : 1;
  l.items.forEach((item, i) => {
    if (i > 0 || depth > 0) if (!b.text.endsWith("\n") && b.text.length > 0) b.add("\n");
    const checkbox = item.task ? (item.checked ? "☑ " : "☐ ") : "";
    b.add(`${indent}${l.ordered ? `${start + i}.` : "•"} ${checkbox}`);
    const tokens = item.tokens.filter((t) => t.type !== "checkbox");
    blocksInline(b, tokens, depth + 1);
  });
}

/** A table as aligned monospace columns: Telegram has no tables, and columns only line up in a pre. */
function table(t: Tokens.Table): string {
  const rows = [t.header.map((c) => plain(c.tokens)), ...t.rows.map((r) => r.map((c) => plain(c.tokens)))];
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? [];
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join(" | ")
      .trimEnd();
  const [head, ...body] = rows;
  return [line(head ?? []), widths.map((w) => "-".repeat(w)).join("-|-"), ...body.map(line)].join("\n");
}

function plain(tokens: Token[]): string {
  const b = new Builder();
  inline(b, tokens);
  return b.text;
}

function inline(b: Builder, tokens: Token[] | undefined): void {
  for (const t of tokens ?? []) {
    switch (t.type) {
      case "strong":
        b.wrap({ type: "bold" }, () => inline(b, (t as Tokens.Strong).tokens));
        break;
      case "em":
        b.wrap({ type: "italic" }, () => inline(b, (t as Tokens.Em).tokens));
        break;
      case "del":
        b.wrap({ type: "strikethrough" }, () => inline(b, (t as Tokens.Del).tokens));
        break;
      case "codespan":
        b.wrap({ type: "code" }, () => b.add(unescapeHtml((t as Tokens.Codespan).text)));
        break;
      case "br":
        b.add("\n");
        break;
      case "link":
        link(b, t as Tokens.Link);
        break;
      case "image":
        b.add((t as Tokens.Image).text || (t as Tokens.Image).href);
        break;
      case "text":
      case "escape": {
        const tt = t as Tokens.Text;
        if (tt.tokens && tt.tokens.length > 0) inline(b, tt.tokens);
        else b.add(unescapeHtml(tt.text));
        break;
      }
      default:
        b.add("raw" in t ? String(t.raw) : "");
    }
  }
}

/** Only web links become clickable: Telegram refuses a whole message for a bad URL. */
function link(b: Builder, l: Tokens.Link): void {
  if (/^https?:\/\//i.test(l.href)) b.wrap({ type: "text_link", url: l.href }, () => inline(b, l.tokens));
  else inline(b, l.tokens);
}

/** marked leaves some characters HTML-escaped in its tokens (it was written for an HTML renderer). */
function unescapeHtml(s: string): string {
  return s
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, "&");
}

/**
 * Hermes' own texts: only `inline code` is formatted (they are written by us, not by a model, and
 * may quote user text with stray asterisks). Returns undefined when there is nothing to format.
 */
export function backticksToEntities(text: string): { text: string; entities: MessageEntity[] } | undefined {
  if (!/`[^`\n]+`/.test(text)) return undefined;
  let out = "";
  const entities: MessageEntity[] = [];
  let last = 0;
  for (const m of text.matchAll(/`([^`\n]+)`/g)) {
    out += text.slice(last, m.index);
    entities.push({ type: "code", offset: out.length, length: (m[1] as string).length });
    out += m[1];
    last = (m.index ?? 0) + m[0].length;
  }
  return { text: out + text.slice(last), entities };
}
