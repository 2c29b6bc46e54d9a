import { afterEach, describe, expect, it } from "vitest";
import { FakeOllama } from "../fakes/fake-ollama.ts";
import { type BotMessage, TelegramEmulator } from "../fakes/telegram-emulator.ts";
import { OWNER_ID, startTestHermes } from "../helpers/hermes-harness.ts";

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

async function setup(draft: string | { chunks: string[]; chunkDelayMs: number }) {
  const tg = await TelegramEmulator.start();
  cleanups.push(() => tg.stop());
  const ollama = await FakeOllama.start();
  cleanups.push(() => ollama.stop());
  ollama.setResponder(() => (typeof draft === "string" ? { text: draft } : draft));
  const h = await startTestHermes({
    TELEGRAM_BOT_TOKEN: tg.token,
    TELEGRAM_API_ROOT: tg.apiRoot,
    OLLAMA_HOST: ollama.url,
  });
  cleanups.push(() => h.stop());
  return { tg, h, client: tg.client(OWNER_ID) };
}

type Markup = { inline_keyboard: { text: string }[][] };
const hasRating = (m: BotMessage) =>
  ((m.reply_markup as Markup | undefined)?.inline_keyboard.flat() ?? []).some((b) => b.text === "★★★★★");
const entityText = (m: BotMessage, type: string) =>
  (m.entities ?? []).filter((e) => e.type === type).map((e) => m.text.slice(e.offset, e.offset + e.length));

const MARKDOWN = [
  "# Weekly plan 🎉",
  "**Assumptions:** you have *two* hours; see [the guide](https://example.org/guide).",
  "- Step one: run `npm test`",
  "- Step two",
  "```ts\nconst ok = true;\n```",
  "| Day | Task |\n| --- | --- |\n| Mon | Write |",
].join("\n\n");

describe("drafts in Telegram", () => {
  it("a Markdown draft arrives as entities, no raw markers, previews off, rating buttons on the draft itself", async () => {
    const { tg, client } = await setup(MARKDOWN);
    await client.sendMessage(client.makeMessage("Plan my week"));
    const draft = await tg.waitFor(OWNER_ID, (m) => m.text.startsWith("📝 Draft 1"), 10_000, "draft 1");
    expect(draft.text).not.toMatch(/\*\*|^#|```|\[the guide\]/m);
    expect(entityText(draft, "bold")).toEqual(expect.arrayContaining(["Weekly plan 🎉", "Assumptions:"]));
    expect(entityText(draft, "italic")).toContain("two");
    expect(entityText(draft, "code")).toContain("npm test");
    expect(entityText(draft, "text_link")).toContain("the guide");
    expect(entityText(draft, "pre")).toEqual(
      expect.arrayContaining(["const ok = true;", expect.stringContaining("Mon | Write")]),
    );
    expect(draft.entities?.find((e) => e.type === "pre" && e.language === "ts")).toBeDefined();
    expect(draft.link_preview_options?.is_disabled).toBe(true);
    expect(hasRating(draft)).toBe(true);
    expect(tg.botMessages(OWNER_ID).some((m) => m.text === "How is this draft?")).toBe(false);
  });

  it("a long formatted draft is split on block boundaries, numbered, buttons on the last part only", async () => {
    const sections = Array.from(
      { length: 10 },
      (_, i) => `## Section ${i}\n\n**Point ${i}:** ${"word ".repeat(110).trim()}.`,
    );
    const { tg, client } = await setup(sections.join("\n\n"));
    await client.sendMessage(client.makeMessage("Write a long report"));
    await tg.waitFor(OWNER_ID, (m) => m.text.startsWith("(2/2)"), 10_000, "part 2 of 2");
    const parts = tg.botMessages(OWNER_ID).filter((m) => /^\(\d\/2\)/.test(m.text));
    expect(parts.map((p) => p.text.slice(0, 5))).toEqual(["(1/2)", "(2/2)"]);
    for (const p of parts) {
      expect(p.text.length).toBeLessThanOrEqual(4096);
      expect(p.text).not.toContain("**");
      // Every heading is bold in whichever part it landed.
      for (const h of p.text.match(/Section \d/g) ?? []) expect(entityText(p, "bold")).toContain(h);
    }
    expect(parts.map(hasRating)).toEqual([false, true]);
    // Nothing (a question, a status) between the parts.
    const all = tg.botMessages(OWNER_ID);
    const index = (m: BotMessage) => all.findIndex((x) => x.message_id === m.message_id);
    expect(index(parts[1] as BotMessage) - index(parts[0] as BotMessage)).toBe(1);
    const joined = parts.map((p) => p.text).join("\n");
    for (let i = 0; i < 10; i++) expect(joined).toContain(`Point ${i}: word`);
  });

  it("with a fast backend the first question comes before draft 1, and no status follows its draft", async () => {
    const { tg, client } = await setup("A quick **draft**.");
    await client.sendMessage(client.makeMessage("Write a weekly newsletter for my neighbourhood"));
    const draft1 = await tg.waitFor(OWNER_ID, (m) => m.text.startsWith("📝 Draft 1"), 10_000, "draft 1");
    const sent = () => tg.botMessages(OWNER_ID);
    const q1 = sent().find((m) => m.text.startsWith("❓ 1.")) as BotMessage;
    expect(q1).toBeDefined();
    expect(q1.message_id ?? 0).toBeLessThan(draft1.message_id ?? 0);
    const keyboard = (m: BotMessage) =>
      (
        m.reply_markup as { inline_keyboard: { text: string; callback_data: string }[][] }
      ).inline_keyboard.flat();
    const press = (m: BotMessage, data: string) =>
      client.sendCallback(
        client.makeCallbackQuery(data, {
          message: { message_id: m.message_id, chat: { id: OWNER_ID } } as never,
        }),
      );
    // One answer (a draft 2 needs something new to say), then "Enough".
    await press(q1, keyboard(q1)[0]?.callback_data ?? "");
    const q2 = await tg.waitFor(OWNER_ID, (m) => m.text.startsWith("❓ 2."), 10_000, "question 2");
    await press(q2, keyboard(q2).find((b) => b.text === "Enough — go ahead")?.callback_data ?? "");
    const draft2 = await tg.waitFor(OWNER_ID, (m) => m.text.startsWith("📝 Draft 2"), 10_000, "draft 2");
    const refining = sent().filter((m) => m.text.startsWith("🛠"));
    for (const r of refining) expect(r.message_id ?? 0).toBeLessThan(draft2.message_id ?? 0);
    expect(sent().some((m) => m.text.includes("the draft is below"))).toBe(false);
  });

  it("streaming refused (the emulator has no sendMessageDraft): tried once, status line instead, draft arrives", async () => {
    const chunks = ["# Title\n\n", ...Array.from({ length: 30 }, (_, i) => `**w${i}** `)];
    const { tg, client } = await setup({ chunks, chunkDelayMs: 40 });
    await client.sendMessage(client.makeMessage("Stream me a draft"));
    const draft = await tg.waitFor(OWNER_ID, (m) => m.text.startsWith("📝 Draft 1"), 10_000, "draft 1");
    expect(draft.text).toContain("Title\n\nw0 w1");
    expect(hasRating(draft)).toBe(true);
    const drafts = tg.calls.filter((c) => c.method === "sendMessageDraft");
    expect(drafts).toEqual([{ method: "sendMessageDraft", ok: false }]);
    // The status line carried the progress instead.
    expect(tg.calls.filter((c) => c.method === "editMessageText").length).toBeGreaterThan(0);
  });
});
