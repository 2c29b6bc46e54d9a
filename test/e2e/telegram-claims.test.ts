import { afterEach, describe, expect, it } from "vitest";
import { FakeOllama } from "../fakes/fake-ollama.ts";
import { type BotMessage, TelegramEmulator } from "../fakes/telegram-emulator.ts";
import { OWNER_ID, startTestHermes } from "../helpers/hermes-harness.ts";

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

type Markup = { inline_keyboard: { text: string; callback_data: string }[][] };
const buttons = (m: BotMessage) => (m.reply_markup as Markup | undefined)?.inline_keyboard.flat() ?? [];
const TYPED = "Under fifty euros, by next Friday";

async function setup() {
  const tg = await TelegramEmulator.start();
  cleanups.push(() => tg.stop());
  const ollama = await FakeOllama.start();
  cleanups.push(() => ollama.stop());
  // Room for every kind of question, and no value floor, so skipping always reaches the
  // budget/deadline one (the learner's time estimates come from the real clock, slower when busy).
  const h = await startTestHermes(
    { TELEGRAM_BOT_TOKEN: tg.token, TELEGRAM_API_ROOT: tg.apiRoot, OLLAMA_HOST: ollama.url },
    // The model's analysis is off: what is under test is the memory /forget purges, not the model.
    { "hermes.learning.max_questions_per_conversation": "10", "hermes.classification.enable_llm": "false" },
    undefined,
    { valueFloor: 0 },
  );
  cleanups.push(() => h.stop());
  return { tg, h, client: tg.client(OWNER_ID) };
}

describe("what Hermes tells the user is true", () => {
  it("forgets what is held in memory too: the next idea no longer offers earlier typed answers", async () => {
    const { tg, h, client } = await setup();
    const isBudget = (m: BotMessage) => /^❓ \d+\. Is there a budget or a deadline/.test(m.text);
    const questions = () => tg.botMessages(OWNER_ID).filter((m) => m.text.startsWith("❓ "));
    const press = (m: BotMessage, data: string) =>
      client.sendCallback(
        client.makeCallbackQuery(data, {
          message: { message_id: m.message_id, chat: { id: OWNER_ID } } as never,
        }),
      );
    /**
     * Sends an idea and skips its questions until the budget/deadline one (the one answered by
     * typing), or until `over`. Only this idea's questions (their header names its thread): the
     * previous idea goes on asking its own, and on a busy machine they interleave.
     */
    // The buttons each question came with (answered and skipped questions lose theirs afterwards).
    const offeredLog: string[][] = [];
    const budgetQuestionOf = async (idea: string, over = () => false): Promise<BotMessage | undefined> => {
      await client.sendCommand(client.makeCommand(`/new ${idea}`));
      const isAck = (m: BotMessage) => m.text.startsWith("💡 Got it") && m.text.includes(idea);
      const ack = await tg.waitFor(OWNER_ID, isAck, 15_000, `the ack of "${idea}"`);
      const thread = /thread ([0-9a-f]{8})/.exec(ack.text)?.[1];
      const mine = () => questions().filter((m) => m.text.includes(`💡 ${thread} ·`));
      let seen = 0;
      for (;;) {
        await expect.poll(() => mine().length > seen || over(), { timeout: 15_000 }).toBe(true);
        if (over()) return undefined;
        seen = mine().length;
        const q = mine().at(-1) as BotMessage;
        offeredLog.push(buttons(q).map((b) => b.text));
        if (isBudget(q)) return q;
        await press(q, buttons(q).find((b) => b.text === "Skip")?.callback_data ?? "");
      }
    };
    await budgetQuestionOf("Write a short speech for a retirement party");
    await client.sendMessage(client.makeMessage(TYPED));
    const typed = h.hermes.database.sqlite.prepare(
      "SELECT count(*) FROM conversations WHERE user_response = ?",
    );
    await expect.poll(() => typed.pluck().get(TYPED)).toBe(1);
    // Before /forget the typed answer is offered again for the same question.
    const again = await budgetQuestionOf("Write a short speech for a wedding");
    expect(buttons(again as BotMessage).map((b) => b.text)).toContain(TYPED);

    await client.sendCommand(client.makeCommand("/forget"));
    const ask = await tg.waitFor(OWNER_ID, (m) => m.text.includes("cannot be undone"), 5000, "confirm");
    await press(ask, "forget:yes");
    await tg.waitFor(OWNER_ID, (m) => m.text.includes("no longer has any of your data"), 5000, "deleted");
    expect(typed.pluck().get(TYPED)).toBe(0);
    // Every question of the next idea, skipped through to the end: none offers the typed answer.
    const seen = offeredLog.length;
    const before = tg.botMessages(OWNER_ID).length;
    await budgetQuestionOf("Write a short speech for a birthday", () =>
      tg
        .botMessages(OWNER_ID)
        .slice(before)
        .some((m) => m.text.includes("No more questions")),
    );
    const offered = offeredLog.slice(seen).flat();
    expect(offered.length).toBeGreaterThan(0);
    expect(offered).not.toContain(TYPED);
  });

  it("an idea sent while the only backend is turned off gets the real remedy: /backends enable, no restart", async () => {
    const { tg, client } = await setup();
    await client.sendCommand(client.makeCommand("/backends disable ollama"));
    await tg.waitFor(OWNER_ID, (m) => m.text === "ollama is now disabled.", 5000, "disabled");
    await client.sendMessage(client.makeMessage("Plan a garden for bees"));
    const ack = await tg.waitFor(OWNER_ID, (m) => m.text.startsWith("💡 Got it"), 5000, "the ack");
    expect(ack.text).toContain("ollama is turned off");
    expect(ack.text).toContain("/backends enable ollama — no restart needed");
    expect(ack.text).not.toContain("OLLAMA_HOST");
    await client.sendCommand(client.makeCommand("/backends enable ollama"));
    await tg.waitFor(OWNER_ID, (m) => m.text.startsWith("📝 Draft 1"), 10_000, "the draft, once enabled");
  });

  it("/thread shows a question still waiting for its answer as open, not skipped", async () => {
    const { tg, client } = await setup();
    await client.sendMessage(client.makeMessage("Explain how tides work"));
    const ack = await tg.waitFor(OWNER_ID, (m) => m.text.startsWith("💡 Got it"), 5000, "the ack");
    const q1 = await tg.waitFor(OWNER_ID, (m) => m.text.startsWith("❓ 1."), 5000, "question 1");
    const shortId = /thread ([0-9a-f]{8})/.exec(ack.text)?.[1] ?? "";
    await client.sendCommand(client.makeCommand(`/thread ${shortId}`));
    const details = await tg.waitFor(OWNER_ID, (m) => m.text.startsWith(`🧵 ${shortId}`), 5000, "/thread");
    expect(details.text).toContain(
      `1. ${q1.text.slice(5).split("\n")[0]}\n   → (open — waiting for your answer)`,
    );
    expect(details.text).not.toContain("(skipped)");
  });

  it("an idea sent while Ollama is down: the ack says it is not reachable and how to fix it, never 'Drafting now'", async () => {
    const tg = await TelegramEmulator.start();
    cleanups.push(() => tg.stop());
    const dead = await FakeOllama.start();
    const url = dead.url;
    await dead.stop();
    const h = await startTestHermes({
      TELEGRAM_BOT_TOKEN: tg.token,
      TELEGRAM_API_ROOT: tg.apiRoot,
      OLLAMA_HOST: url,
    });
    cleanups.push(() => h.stop());
    for (let i = 0; i < 5; i++) await h.hermes.backends.checkHealth();
    expect(h.hermes.backends.status().find((b) => b.name === "ollama")?.health).toBe("unhealthy");
    const client = tg.client(OWNER_ID);
    await client.sendMessage(client.makeMessage("Plan a garden for bees"));
    const ack = await tg.waitFor(OWNER_ID, (m) => m.text.startsWith("💡 Got it"), 5000, "the ack");
    expect(ack.text).toContain("is not reachable right now");
    expect(ack.text).toContain("start Ollama (ollama serve)");
    // The command is shown as code (an entity), not with raw backticks.
    expect(ack.entities?.some((e) => e.type === "code")).toBe(true);
    expect(ack.text).not.toContain("Drafting now");
    expect(ack.text).not.toContain("and restart");
  });
});
