import { describe, expect, it } from "vitest";
import { backticksToEntities, loadMarked, markdownToEntities } from "../../bot/telegram/markdown.ts";
import { splitFormatted, withPrefix } from "../../bot/telegram/split.ts";

type E = { type: string; offset: number; length: number };
const covered = (f: { text: string; entities: E[] }, type: string) =>
  f.entities.filter((e) => e.type === type).map((e) => f.text.slice(e.offset, e.offset + e.length));

describe("markdownToEntities", () => {
  it("counts offsets in UTF-16 code units, so text after an emoji is still covered exactly", () => {
    const f = markdownToEntities("🎉🎉 **bold** then `code`");
    expect(f.text).toBe("🎉🎉 bold then code");
    expect(f.entities).toEqual([
      { type: "bold", offset: 5, length: 4 },
      { type: "code", offset: 15, length: 4 },
    ]);
  });

  it("headings become bold lines and nested emphasis keeps both entities", () => {
    const f = markdownToEntities("## Title\n\n**bold *and italic* here**");
    expect(f.text).toBe("Title\n\nbold and italic here");
    expect(covered(f, "bold")).toEqual(["Title", "bold and italic here"]);
    expect(covered(f, "italic")).toEqual(["and italic"]);
  });

  it("code blocks are pre with their language, contents verbatim (no HTML escaping)", () => {
    const f = markdownToEntities("```python\nif a < b and c > d: print('&')\n```");
    expect(f.text).toBe("if a < b and c > d: print('&')");
    expect(f.entities).toEqual([{ type: "pre", language: "python", offset: 0, length: f.text.length }]);
  });

  it("web links become text links; other schemes stay plain text (Telegram refuses bad URLs)", () => {
    const f = markdownToEntities("[site](https://example.org) and [local](file:///etc/passwd)");
    expect(f.text).toBe("site and local");
    expect(f.entities).toEqual([{ type: "text_link", url: "https://example.org", offset: 0, length: 4 }]);
  });

  it("lists get bullets or numbers, nested items indented, inline formatting kept", () => {
    const f = markdownToEntities("- one **b**\n  - inner\n- two\n\n3. three\n4. four");
    expect(f.text).toBe("• one b\n   • inner\n• two\n\n3. three\n4. four");
    expect(covered(f, "bold")).toEqual(["b"]);
  });

  it("tables become aligned monospace blocks", () => {
    const f = markdownToEntities("| Day | Task |\n|---|---|\n| Monday | Write |");
    expect(f.text).toBe("Day    | Task\n-------|------\nMonday | Write");
    expect(covered(f, "pre")).toEqual([f.text]);
  });

  it("blockquotes are blockquote entities", () => {
    const f = markdownToEntities("> wise *words*");
    expect(f.text).toBe("wise words");
    expect(covered(f, "blockquote")).toEqual(["wise words"]);
    expect(covered(f, "italic")).toEqual(["words"]);
  });
});

describe("splitFormatted", () => {
  it("splits at block starts and cuts an entity that crosses a cut into both parts", () => {
    const f = markdownToEntities(`**${"a".repeat(30)}**\n\n*${"b ".repeat(40).trim()}*`);
    const parts = splitFormatted(f, 50);
    expect(parts[0]).toEqual({ text: "a".repeat(30), entities: [{ type: "bold", offset: 0, length: 30 }] });
    expect(parts.length).toBeGreaterThan(2);
    for (const p of parts.slice(1)) {
      expect(p.text.length).toBeLessThanOrEqual(50);
      expect(p.entities).toEqual([{ type: "italic", offset: 0, length: p.text.length }]);
    }
    expect(parts.map((p) => p.text).join(" ")).toBe(`${"a".repeat(30)} ${"b ".repeat(40).trim()}`);
  });

  it("never splits an emoji's surrogate pair, and a prefix shifts every entity", () => {
    const parts = splitFormatted(
      { text: "🎉".repeat(30), entities: [{ type: "bold", offset: 0, length: 60 }] },
      25,
    );
    for (const p of parts) expect(p.text).toMatch(/^(🎉)+$/u);
    const numbered = withPrefix("(1/3) ", parts[0] as never);
    expect(numbered.entities[0]).toMatchObject({ offset: 6 });
  });
});

describe("backticksToEntities", () => {
  it("turns Hermes' own `commands` into code entities", () => {
    expect(backticksToEntities("Start Ollama (`ollama serve`) now")).toEqual({
      text: "Start Ollama (ollama serve) now",
      entities: [{ type: "code", offset: 14, length: 12 }],
    });
    expect(backticksToEntities("no code here")).toBeUndefined();
  });
});

describe("loadMarked (marked is loaded on the first format, not at start-up)", () => {
  it("loads marked's lexer from node_modules", () => {
    const lex = loadMarked();
    expect(lex("**b**")[0]).toMatchObject({ type: "paragraph" });
  });

  it("names the package when it cannot be loaded, instead of failing later without a reason", () => {
    const missing = (id: string) => {
      throw new Error(`Cannot find module '${id}'`);
    };
    expect(() => loadMarked(missing)).toThrow(
      /needs the "marked" package, which did not load: Cannot find module 'marked'/,
    );
    expect(() => loadMarked(() => ({}))).toThrow(/has no lexer\(\)/);
  });
});
