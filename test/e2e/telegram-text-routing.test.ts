import { afterEach, describe, expect, it } from "vitest";
import { INFORMATION } from "../../src/store/threads/conversations-repo.ts";
import type { BotMessage } from "../fakes/telegram-emulator.ts";
import { OWNER_ID } from "../helpers/hermes-harness.ts";
import { buttons, type Cleanups, startChat, stopAll } from "./chat-setup.ts";

/**
 * Plain text goes to the first feature that claims it (bot/bot.ts): after a bare /new it is the
 * new idea, a reply to a thread's message continues that thread, otherwise it answers the pending
 * question, otherwise it is a new idea; commands never count as text.
 */
const cleanups: Cleanups = [];
afterEach(() => stopAll(cleanups));

const isQuestion1 = (m: BotMessage) => m.text.startsWith("❓ 1.");

async function setup() {
  const { tg, h } = await startChat(cleanups);
  const client = tg.client(OWNER_ID);
  const sql = (query: string) => h.hermes.database.sqlite.prepare(query).pluck().get();
  /** The answers given so far, to any idea's questions or (latestOnly) to the latest idea's. */
  const answers = (latestOnly = false) =>
    h.hermes.database.sqlite
      .prepare(
        `SELECT user_response FROM conversations WHERE user_response IS NOT NULL${latestOnly ? " AND thread_id = (SELECT max(id) FROM idea_threads)" : ""}`,
      )
      .pluck()
      .all();
  const count = (p: (m: BotMessage) => boolean) => () => tg.botMessages(OWNER_ID).filter(p).length;
  return { tg, client, sql, answers, count };
}

describe("which feature a plain text goes to", () => {
  it("after a bare /new the next text is a new idea, not an answer; the text after it answers", async () => {
    const { tg, client, sql, answers, count } = await setup();
    await client.sendMessage(client.makeMessage("Explain how tides work"));
    await tg.waitFor(OWNER_ID, isQuestion1, 5000, "question 1 of the first idea");
    await client.sendCommand(client.makeCommand("/new"));
    await tg.waitFor(OWNER_ID, (m) => m.text === "Send me the new idea.", 5000, "the /new prompt");
    await client.sendMessage(client.makeMessage("Plan a garden for bees"));
    await expect
      .poll(
        count((m) => m.text.startsWith("💡 Got it")),
        { timeout: 5000 },
      )
      .toBe(2);
    expect(sql("SELECT count(*) FROM idea_threads")).toBe(2);
    expect(answers()).toEqual([]);

    await expect.poll(count(isQuestion1), { timeout: 5000 }).toBe(2);
    await client.sendMessage(client.makeMessage("Mostly clover and lavender"));
    await expect.poll(() => answers(), { timeout: 5000 }).toEqual(["Mostly clover and lavender"]);
    expect(sql("SELECT count(*) FROM idea_threads")).toBe(2);
  });

  it("a reply to a thread's message continues that thread even with another question pending", async () => {
    const { tg, client, sql, answers } = await setup();
    await client.sendMessage(client.makeMessage("Explain how tides work"));
    const ack = await tg.waitFor(OWNER_ID, (m) => m.text.startsWith("💡 Got it"), 5000, "the ack");
    const q1 = await tg.waitFor(OWNER_ID, isQuestion1, 5000, "question 1");
    const tap = (m: BotMessage, data: string) =>
      client.sendCallback(
        client.makeCallbackQuery(data, {
          message: { message_id: m.message_id, chat: { id: OWNER_ID } } as never,
        }),
      );
    // One answer, then "enough": the questions are over and draft 2 is on its way.
    await tap(q1, buttons(q1).find((b) => /^q:\d+:\d+:0$/.test(b.callback_data))?.callback_data ?? "");
    const q2 = await tg.waitFor(OWNER_ID, (m) => m.text.startsWith("❓ 2."), 5000, "question 2");
    await tap(q2, buttons(q2).find((b) => b.text === "Enough — go ahead")?.callback_data ?? "");
    await tg.waitFor(
      OWNER_ID,
      (m) => m.text.includes("refining the draft with your answers"),
      5000,
      "refining",
    );
    await client.sendCommand(client.makeCommand("/new Plan a garden for bees"));
    await tg.waitFor(OWNER_ID, (m) => m.text.includes("Plan a garden for bees"), 5000, "second ack");
    await expect.poll(() => tg.botMessages(OWNER_ID).filter(isQuestion1).length, { timeout: 5000 }).toBe(2);

    await client.sendMessage(
      client.makeMessage("Add a section on spring tides", {
        reply_to_message: { message_id: ack.message_id, chat: { id: OWNER_ID } } as never,
      }),
    );
    // The status line is edited to "✅ Done." once the draft lands, which can be before this looks.
    await tg.waitFor(
      OWNER_ID,
      (m) => m.text.startsWith("🛠 Adding that and refining the draft…"),
      5000,
      "continued",
    );
    expect(answers(true)).toEqual([]);
    expect(sql("SELECT count(*) FROM jobs WHERE thread_id = (SELECT min(id) FROM idea_threads)")).toBe(3);
  });

  it("a reply to draft 1 while a question is open is kept as information, not filed as that question's answer", async () => {
    const { tg, client, sql, answers } = await setup();
    await client.sendMessage(client.makeMessage("Explain how tides work"));
    const draft = await tg.waitFor(OWNER_ID, (m) => m.text.startsWith("📝 Draft 1"), 5000, "draft 1");
    const q1 = await tg.waitFor(OWNER_ID, isQuestion1, 5000, "question 1");
    await client.sendMessage(
      client.makeMessage("Also: I live in Berlin", {
        reply_to_message: { message_id: draft.message_id, chat: { id: OWNER_ID } } as never,
      }),
    );
    const kept = await tg.waitFor(OWNER_ID, (m) => m.text.startsWith("📎 Added to"), 5000, "kept");
    expect(kept.text).toContain("Question 1 is still open");
    // Stored as added information (for the refined draft), not as an answer.
    const info = sql(`SELECT user_response FROM conversations WHERE question_asked = '${INFORMATION}'`);
    expect(info).toBe("Also: I live in Berlin");
    expect(answers().filter((a) => a !== info)).toEqual([]);
    // Question 1 still has its buttons: nothing answered it.
    const now = tg.botMessages(OWNER_ID).find((m) => m.message_id === q1.message_id) as BotMessage;
    expect(buttons(now).length).toBeGreaterThan(0);
  });

  it("an unknown command is not an answer, and a message without text gets the text-only reply", async () => {
    const { tg, client, answers } = await setup();
    await client.sendMessage(client.makeMessage("Explain how tides work"));
    await tg.waitFor(OWNER_ID, isQuestion1, 5000, "question 1");
    await client.sendCommand(client.makeCommand("/frobnicate"));
    await tg.waitFor(
      OWNER_ID,
      (m) => m.text === "I don't know that command. /help lists the ones I have.",
      5000,
      "unknown command",
    );
    expect(answers()).toEqual([]);
    const sticker = client.makeMessage("", { sticker: { file_id: "s1", width: 1, height: 1 } }) as {
      text?: string;
    };
    delete sticker.text;
    await client.sendMessage(sticker as never);
    await tg.waitFor(
      OWNER_ID,
      (m) => m.text === "For now I understand text only — describe your idea in words.",
      5000,
      "text only",
    );
  });
});
