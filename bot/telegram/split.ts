import type { MessageEntity } from "grammy/types";

/** Telegram's hard limit on a text message, in UTF-16 code units. */
export const TELEGRAM_TEXT_LIMIT = 4096;

/**
 * Splits text into parts under the limit, preferring paragraph boundaries, then lines, then
 * sentences/words, and only as a last resort a hard cut. Nothing is lost or reordered.
 */
export function splitMessage(text: string, limit = TELEGRAM_TEXT_LIMIT): string[] {
  if (text.length <= limit) return [text];
  const parts: string[] = [];
  let rest = text;
  while (rest.length > limit) {
    const window = rest.slice(0, limit);
    const cut =
      lastBreak(window, /\n\s*\n/g, limit) ??
      lastBreak(window, /\n/g, limit) ??
      lastBreak(window, /[.!?]\s/g, limit) ??
      lastBreak(window, /\s/g, limit) ??
      safeHardCut(window);
    parts.push(rest.slice(0, cut).trimEnd());
    rest = rest.slice(cut).replace(/^\s+/, "");
  }
  if (rest.length > 0) parts.push(rest);
  return parts.filter((p) => p.length > 0);
}

/** End index of the last match that keeps at least a quarter of the window (avoids tiny parts). */
function lastBreak(window: string, re: RegExp, limit: number): number | undefined {
  let best: number | undefined;
  for (const m of window.matchAll(re)) {
    const end = (m.index ?? 0) + m[0].length;
    if (end >= limit / 4 && end <= window.length) best = end;
  }
  return best;
}

/** Never split a surrogate pair (an emoji) in half. */
function safeHardCut(window: string): number {
  const last = window.charCodeAt(window.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? window.length - 1 : window.length;
}

export interface FormattedPart {
  text: string;
  entities: MessageEntity[];
}

/**
 * Splits formatted text into parts under the limit, at block starts where it can (then at the
 * plain-text breaks above). An entity that crosses a cut is split in two, so both parts keep their
 * formatting; offsets are shifted to each part. `reserve` leaves room for a "(1/2)" prefix.
 */
export function splitFormatted(
  f: { text: string; entities: readonly MessageEntity[]; blockStarts?: readonly number[] },
  limit = TELEGRAM_TEXT_LIMIT,
  reserve = 0,
): FormattedPart[] {
  const max = limit - reserve;
  const cuts: { start: number; end: number }[] = [];
  let start = 0;
  while (f.text.length - start > max) {
    const window = f.text.slice(start, start + max);
    const block = [...(f.blockStarts ?? [])].reverse().find((o) => o > start + max / 4 && o <= start + max);
    // No block start in reach: one character past the window makes splitMessage pick its best break.
    const cut =
      block !== undefined ? block - start : (splitMessage(`${window}\u0000`, max)[0]?.length ?? max);
    const end = start + Math.min(cut, max);
    cuts.push({ start, end });
    start = end;
    while (start < f.text.length && /\s/.test(f.text[start] as string)) start++;
  }
  cuts.push({ start, end: f.text.length });
  return cuts
    .map(({ start: s, end: e }) => sliceFormatted(f.text, f.entities, s, e))
    .filter((p) => p.text.length > 0);
}

/** The text between s and e (trailing blanks trimmed) with the entities clipped and shifted to it. */
function sliceFormatted(
  text: string,
  entities: readonly MessageEntity[],
  s: number,
  e: number,
): FormattedPart {
  const part = text.slice(s, e).trimEnd();
  const end = s + part.length;
  const clipped: MessageEntity[] = [];
  for (const ent of entities) {
    const from = Math.max(ent.offset, s);
    const to = Math.min(ent.offset + ent.length, end);
    if (to > from) clipped.push({ ...ent, offset: from - s, length: to - from });
  }
  return { text: part, entities: clipped };
}

/** Shifts entities right by a prefix's length (UTF-16 units, like every entity offset). */
export function withPrefix(prefix: string, p: FormattedPart): FormattedPart {
  return {
    text: prefix + p.text,
    entities: p.entities.map((e) => ({ ...e, offset: e.offset + prefix.length })),
  };
}
