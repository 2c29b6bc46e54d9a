import { afterEach, describe, expect, it } from "vitest";
import type { BotMessage } from "../fakes/telegram-emulator.ts";
import { OWNER_ID } from "../helpers/hermes-harness.ts";
import { buttons, type Cleanups, startChat, stopAll } from "./chat-setup.ts";

/**
 * Where a typed message goes (issue 13): an answer is echoed on the question it answered, a new
 * idea typed mid-question becomes a new idea (said so, with a one-tap undo), questions name their
 * idea, answers have a length limit, every cancel closes the idea's questions and settles their
 * messages, a stale button says the question is closed, and suggestions stay with their question.
 */
const cleanups: Cleanups = [];
afterEach(() => stopAll(cleanups));

const isQuestion = (n: number) => (m: BotMessage) => m.text.startsWith(`❓ ${n}.`);
const isAck = (m: BotMessage) => m.text.startsWith("💡 Got it");

async function setup() {
  const { tg, h } = await startChat(cleanups);
  const client = tg.client(OWNER_ID);
  const db = h.hermes.database.sqlite;
  const answers = () =>
    db
      .prepare(
        "SELECT user_response FROM conversations WHERE user_response IS NOT NULL AND user_response NOT LIKE '(%'",
      )
      .pluck()
      .all();
  const press = (m: BotMessage, label: string | RegExp) => {
    const b = buttons(m).find((x) => (typeof label === "string" ? x.text === label : label.test(x.text)));
    if (!b) throw new Error(`no button ${label} on ${m.text}`);
    return client.sendCallback(
      client.makeCallbackQuery(b.callback_data, {
        message: { message_id: m.message_id, chat: { id: OWNER_ID } } as never,
      }),
    );
  };
  const say = (text: string) => client.sendMessage(client.makeMessage(text));
  const latest = (m: BotMessage) =>
    tg.botMessages(OWNER_ID).find((x) => x.message_id === m.message_id) as BotMessage;
  /** The conversation as the user sees it now (messages in their current, edited state). */
  const transcript = () =>
    tg
      .botMessages(OWNER_ID)
      .map(
        (m) =>
          `bot: ${m.text}${
            buttons(m).length
              ? `  [${buttons(m)
                  .map((b) => b.text)
                  .join("] [")}]`
              : ""
          }`,
      )
      .join("\n");
  return { tg, h, db, client, answers, press, say, latest, transcript };
}

describe("where a typed message goes", () => {
  it("a typed answer is echoed on its question, which names its idea and loses its buttons", async () => {
    const { tg, answers, say, latest } = await setup();
    await say("Write a weekly newsletter about local food");
    const ack = await tg.waitFor(OWNER_ID, isAck, 5000, "ack");
    const q1 = await tg.waitFor(OWNER_ID, isQuestion(1), 5000, "question 1");
    const shortId = /thread ([0-9a-f]{8})/.exec(ack.text)?.[1];
    expect(q1.text).toContain(`💡 ${shortId} · Write a weekly newsletter about local…`);
    await say("Mostly neighbours in my street");
    await expect.poll(() => answers(), { timeout: 5000 }).toEqual(["Mostly neighbours in my street"]);
    await expect
      .poll(() => latest(q1).text, { timeout: 5000 })
      .toContain("→ ✍ Mostly neighbours in my street");
    // Its only button now is the undo, in case the text was a new idea.
    expect(buttons(latest(q1)).map((b) => b.text)).toEqual(["💡 It's a new idea"]);
  });

  it("/status counts an open question as in progress, even after draft 1 is done", async () => {
    const { tg, client, say } = await setup();
    await say("Write a weekly newsletter about local food");
    const ack = await tg.waitFor(OWNER_ID, isAck, 5000, "ack");
    await tg.waitFor(OWNER_ID, (m) => m.text.startsWith("📝 Draft 1"), 5000, "draft 1");
    await tg.waitFor(OWNER_ID, isQuestion(1), 5000, "question 1");
    const shortId = /thread ([0-9a-f]{8})/.exec(ack.text)?.[1];
    await client.sendCommand(client.makeCommand("/status"));
    const status = await tg.waitFor(
      OWNER_ID,
      (m) => m.text.startsWith("Your ideas in progress"),
      5000,
      "status",
    );
    expect(status.text).toContain(`Waiting for your answer: question 1 of ${shortId}`);
    expect(status.text).not.toContain("Nothing of yours is in progress");
  });

  it("a new idea typed mid-question is a new idea, said so; one tap takes it as the answer instead", async () => {
    const { tg, db, answers, press, say, latest, transcript } = await setup();
    await say("Write a weekly newsletter about local food");
    const q1 = await tg.waitFor(OWNER_ID, isQuestion(1), 5000, "question 1");
    const idea = "Different thing: find a birthday present for my dad, he likes fishing";
    await say(idea);
    await tg.waitFor(OWNER_ID, (m) => isAck(m) && m.text.includes("birthday present"), 5000, "second ack");
    const notice = await tg.waitFor(OWNER_ID, (m) => m.text.startsWith("↪"), 5000, "the new-idea notice");
    expect(notice.text).toMatch(/Taken as a new idea, not as the answer to question 1 of [0-9a-f]{8}/);
    // Draft 1 of the new idea is done (a fast backend): the undo is still there.
    await expect
      .poll(() => db.prepare("SELECT count(*) FROM jobs WHERE status = 'completed'").pluck().get(), {
        timeout: 5000,
      })
      .toBe(2);
    expect(buttons(latest(notice)).map((b) => b.text)).toEqual(["↩ No — that was my answer to question 1"]);
    expect(answers()).toEqual([]);
    expect(db.prepare("SELECT count(*) FROM idea_threads").pluck().get()).toBe(2);
    expect(buttons(latest(q1)).length).toBeGreaterThan(0); // still open

    await press(latest(notice), /that was my answer/);
    await expect.poll(() => answers(), { timeout: 5000 }).toEqual([idea]);
    await expect.poll(() => latest(q1).text, { timeout: 5000 }).toContain(`→ ✍ ${idea}`);
    expect(buttons(latest(q1))).toEqual([]);
    expect(latest(notice).text).toContain("taken as your answer instead");
    expect(buttons(latest(notice))).toEqual([]);
    const second = db
      .prepare("SELECT status FROM jobs WHERE thread_id = (SELECT max(id) FROM idea_threads)")
      .pluck()
      .all();
    expect(second.every((s) => s === "cancelled" || s === "completed")).toBe(true);
    // The new idea's own question (if it asked one) is closed too.
    expect(
      db
        .prepare(
          "SELECT count(*) FROM conversations WHERE thread_id = (SELECT max(id) FROM idea_threads) AND responded_date IS NULL AND conversation_position IS NOT NULL",
        )
        .pluck()
        .get(),
    ).toBe(0);
    console.log(`--- transcript: new idea mid-question, then undo ---\n${transcript()}`);
  });

  it("an answer longer than the limit is refused with a clear message and nothing is recorded", async () => {
    const { tg, answers, say, latest } = await setup();
    await say("Write a weekly newsletter about local food");
    const q1 = await tg.waitFor(OWNER_ID, isQuestion(1), 5000, "question 1");
    await say("x".repeat(20_000));
    await tg.waitFor(OWNER_ID, (m) => m.text.includes("an answer can have at most 1000"), 5000, "limit");
    expect(answers()).toEqual([]);
    expect(buttons(latest(q1)).length).toBeGreaterThan(0);
  });
});

describe("every cancel closes the idea's questions", () => {
  it("✖ Cancel on the acknowledgement after draft 1 arrived: questions close, lose their buttons; a stale tap says so", async () => {
    const { tg, db, h, answers, press, say, latest } = await setup();
    await say("Write a weekly newsletter about local food");
    const ack = await tg.waitFor(OWNER_ID, isAck, 5000, "ack");
    const q1 = await tg.waitFor(OWNER_ID, isQuestion(1), 5000, "question 1");
    // A fast backend: draft 1 is done before the user presses Cancel.
    await expect
      .poll(() => db.prepare("SELECT status FROM jobs").pluck().get(), { timeout: 5000 })
      .toBe("completed");
    // The ack as it was sent (on a slow machine the copy read here may already be edited).
    const sent = tg.requests.find(
      (r) => r.method === "sendMessage" && String(r.params?.text ?? "").startsWith("💡 Got it"),
    );
    const markup = sent?.params?.reply_markup as
      | { inline_keyboard: { text: string; callback_data: string }[][] }
      | undefined;
    expect(markup?.inline_keyboard.flat().map((b) => b.text)).toContain("✖ Cancel");
    await press({ ...ack, reply_markup: markup } as BotMessage, "✖ Cancel");
    await expect.poll(() => latest(q1).text, { timeout: 5000 }).toContain("→ (cancelled)");
    expect(buttons(latest(q1))).toEqual([]);
    expect(tg.toasts.at(-1)).toContain("questions are closed");

    await say("Monthly is fine");
    await tg.waitFor(OWNER_ID, (m) => isAck(m) && m.text.includes("Monthly is fine"), 5000, "a new idea");
    expect(answers()).toEqual([]);
    expect(db.prepare("SELECT count(*) FROM jobs WHERE job_sequence = 2").pluck().get()).toBe(0);

    // A tap on the cancelled question's old buttons (a stale copy of the message).
    await press(q1, /.+/);
    await expect
      .poll(() => tg.toasts.at(-1), { timeout: 5000 })
      .toBe("That question is closed — nothing was recorded.");
    expect(answers()).toEqual([]);
    void h;
  });

  it("/cancel settles the open question's message too", async () => {
    const { tg, client, say, latest } = await setup();
    await say("Write a weekly newsletter about local food");
    const q1 = await tg.waitFor(OWNER_ID, isQuestion(1), 5000, "question 1");
    await client.sendCommand(client.makeCommand("/cancel"));
    await tg.waitFor(OWNER_ID, (m) => m.text.startsWith("✖ "), 5000, "cancelled");
    await expect.poll(() => latest(q1).text, { timeout: 5000 }).toContain("→ (cancelled)");
    expect(buttons(latest(q1))).toEqual([]);
  });

  it("a second tap on an answered question says it is closed (not 'Noted.')", async () => {
    const { tg, press, answers } = await setup();
    const { say } = {
      say: (t: string) => tg.client(OWNER_ID).sendMessage(tg.client(OWNER_ID).makeMessage(t)),
    };
    await say("Write a weekly newsletter about local food");
    const q1 = await tg.waitFor(OWNER_ID, isQuestion(1), 5000, "question 1");
    const first = buttons(q1)[0]?.text ?? "";
    await press(q1, first);
    await expect.poll(() => answers().length, { timeout: 5000 }).toBe(1);
    await press(q1, first);
    await expect.poll(() => tg.toasts.length, { timeout: 5000 }).toBe(2);
    expect(tg.toasts).toEqual(["Noted.", "That question is closed — nothing was recorded."]);
  });
});

describe("suggested answers", () => {
  it("a suggestion is only ever an answer to the same kind of question; seeded ones fit any idea", async () => {
    const { tg, db, say, client } = await setup();
    const ideas = [
      "Write a weekly newsletter about local food",
      "Plan a garden for bees",
      "Write a talk about tides",
      "Plan a weekend trip to Lisbon",
      "Write a guide to compost bins",
    ];
    const asked = () => tg.botMessages(OWNER_ID).filter((m) => m.text.startsWith("❓"));
    for (const [i, idea] of ideas.entries()) {
      await client.sendCommand(client.makeCommand(`/new ${idea}`));
      for (let n = 1; n <= 3; n++) {
        const seen = asked().length;
        const grew = await expect
          .poll(() => asked().length, { timeout: 3000 })
          .toBeGreaterThan(seen)
          .then(() => true)
          .catch(() => false);
        if (!grew) break;
        // A distinctive typed answer per question, as a user would give.
        await say(`Answer ${i}-${n} by me`);
      }
    }
    await expect
      .poll(
        () =>
          db.prepare("SELECT count(*) FROM conversations WHERE user_response LIKE 'Answer %'").pluck().get(),
        {
          timeout: 5000,
        },
      )
      .toBeGreaterThan(5);
    const rows = db
      .prepare(
        `SELECT c.question_template_id AS t, c.optimization_suggested AS plan, q.style_variations AS style
           FROM conversations c JOIN question_templates q ON q.id = c.question_template_id
          WHERE c.conversation_position IS NOT NULL`,
      )
      .all() as { t: number; plan: string; style: string }[];
    expect(rows.length).toBeGreaterThan(5);
    const answeredTo = new Map<number, Set<string>>();
    for (const r of db
      .prepare(
        "SELECT question_template_id AS t, user_response AS a FROM conversations WHERE user_response IS NOT NULL",
      )
      .all() as { t: number; a: string }[]) {
      answeredTo.set(r.t, (answeredTo.get(r.t) ?? new Set()).add(r.a.toLowerCase()));
    }
    for (const r of rows) {
      const own = (JSON.parse(r.style) as { suggestions: string[] }).suggestions.map((s) => s.toLowerCase());
      for (const s of (JSON.parse(r.plan) as { suggestions: string[] }).suggestions) {
        const fits = own.includes(s.toLowerCase()) || (answeredTo.get(r.t)?.has(s.toLowerCase()) ?? false);
        expect(fits, `"${s}" offered for template ${r.t}`).toBe(true);
      }
    }
    const problem = db
      .prepare("SELECT style_variations FROM question_templates WHERE template_name = 'intent_problem'")
      .pluck()
      .get() as string;
    expect(problem).not.toContain("Convince someone");
  });
});
