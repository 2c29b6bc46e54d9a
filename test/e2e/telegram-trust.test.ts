import { writeFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import type { FakeChatRequest } from "../fakes/fake-server.ts";
import type { BotMessage } from "../fakes/telegram-emulator.ts";
import { OWNER_ID } from "../helpers/hermes-harness.ts";
import { buttons, type Cleanups, startChat, stopAll } from "./chat-setup.ts";

/**
 * A conversation the user can trust (issue 13), through the Telegram emulator: a typed answer can
 * be undone in one tap ("It's a new idea") with everything learned from it; with two ideas open a
 * typed answer goes to the question asked last and says which idea; ✂ Shorter keeps every answer,
 * added information and preference; what a rewrite says about its length is measured; /status
 * speaks to a person. The last test drives one whole conversation and keeps its transcript.
 */
const cleanups: Cleanups = [];
afterEach(() => stopAll(cleanups));

const isQuestion = (n: number) => (m: BotMessage) => m.text.startsWith(`❓ ${n}.`);
const isAck = (m: BotMessage) => m.text.startsWith("💡 Got it");
const lastUser = (r: FakeChatRequest) => r.messages.at(-1)?.content ?? "";
/** A user's step and the chat (message id → how it reads) just before it. */
type Step = { text: string; before: Map<number, string> };

async function setup(responder?: (req: FakeChatRequest) => { text: string }) {
  const { tg, h, ollama } = await startChat(cleanups);
  if (responder) ollama.setResponder(responder);
  const client = tg.client(OWNER_ID);
  const db = h.hermes.database.sqlite;
  const press = (m: BotMessage, label: string | RegExp) => {
    const b = buttons(m).find((x) => (typeof label === "string" ? x.text === label : label.test(x.text)));
    if (!b) throw new Error(`no button ${label} on ${m.text}`);
    step(`[taps “${b.text}” under “${m.text.split("\n")[0]}”]`);
    return client.sendCallback(
      client.makeCallbackQuery(b.callback_data, {
        message: { message_id: m.message_id, chat: { id: OWNER_ID } } as never,
      }),
    );
  };
  /** The user's steps, each with the chat as it stood just before (for the transcript). */
  const transcriptLog: Step[] = [];
  const step = (text: string) => transcriptLog.push({ text, before: shown(tg.botMessages(OWNER_ID)) });
  const say = (text: string, replyTo?: BotMessage) => {
    step(`${replyTo ? `(replying to “${replyTo.text.split("\n")[0]}”) ` : ""}${text}`);
    return client.sendMessage(
      client.makeMessage(
        text,
        replyTo
          ? { reply_to_message: { message_id: replyTo.message_id, chat: { id: OWNER_ID } } as never }
          : {},
      ),
    );
  };
  const command = (text: string) => {
    step(text);
    return client.sendCommand(client.makeCommand(text));
  };
  const latest = (m: BotMessage) =>
    tg.botMessages(OWNER_ID).find((x) => x.message_id === m.message_id) as BotMessage;
  const wait = (pred: (m: BotMessage) => boolean, what: string) => tg.waitFor(OWNER_ID, pred, 5000, what);
  const rows = (q: string, ...args: unknown[]) => db.prepare(q).all(...args);
  return { tg, h, ollama, db, client, press, say, command, latest, wait, rows, transcriptLog };
}

/** What one answer may have taught, as rows: restoring must bring every one of them back. */
function learnedRows(db: Awaited<ReturnType<typeof setup>>["db"]) {
  return {
    templates: db.prepare("SELECT * FROM question_templates ORDER BY id").all(),
    patterns: db.prepare("SELECT * FROM learned_patterns ORDER BY id").all(),
    preferences: db.prepare("SELECT * FROM user_preferences ORDER BY id").all(),
    thread: db
      .prepare(
        "SELECT clarity_slots, final_clarity_score, total_conversation_time_minutes FROM idea_threads WHERE id = 1",
      )
      .get(),
  };
}

describe("a typed answer can be undone: It's a new idea", () => {
  it("undoes the answer and what was learned from it, asks the question again and starts the idea", async () => {
    const s = await setup();
    const { db, say, press, latest, wait } = s;
    await say("Write a weekly newsletter about local food");
    const q1 = await wait(isQuestion(1), "question 1");
    await wait((m) => m.text.startsWith("📝 Draft 1"), "draft 1");
    const before = learnedRows(db);
    const text = "Keep it short please, mostly for my neighbours";
    await say(text);
    await expect.poll(() => latest(q1).text, { timeout: 5000 }).toContain(`→ ✍ ${text}`);
    expect(buttons(latest(q1)).map((b) => b.text)).toEqual(["💡 It's a new idea"]);
    // The answer taught something (the thread's clarity at least) before the undo.
    await expect.poll(() => learnedRows(db), { timeout: 5000 }).not.toEqual(before);

    await press(latest(q1), "💡 It's a new idea");
    await wait((m) => isAck(m) && m.text.includes("Keep it short please"), "the new idea's ack");
    await wait((m) => m.text.startsWith("↩ Not an answer"), "the undo notice");
    // The question asks again, with its answer buttons; nothing of the answer is stored or learned.
    await expect.poll(() => latest(q1).text, { timeout: 5000 }).not.toContain("→ ✍");
    expect(buttons(latest(q1)).some((b) => b.text === "Skip")).toBe(true);
    const q1row = db.prepare("SELECT user_response, responded_date FROM conversations WHERE id = 1").get();
    expect(q1row).toEqual({ user_response: null, responded_date: null });
    const after = learnedRows(db);
    // Templates: the first idea's row as before; the new idea's first question adds its own use.
    expect(after.thread).toEqual(before.thread);
    expect(after.patterns).toEqual(before.patterns);
    expect(after.preferences).toEqual(before.preferences);
    const statsOf = (t: unknown[]) =>
      (t as { id: number; average_response_time: number; success_rate: number }[]).map((r) => [
        r.id,
        r.average_response_time,
        r.success_rate,
      ]);
    expect(statsOf(after.templates)).toEqual(statsOf(before.templates));
    expect(db.prepare("SELECT original_request FROM idea_threads WHERE id = 2").pluck().get()).toBe(text);
    // The answer predictor forgot it: no question offers the withdrawn text as a suggestion.
    await s.command("/new Plan a street party for the neighbours");
    await wait((m) => m.text.includes("street party") && isAck(m), "third idea");
    const offered = s.tg.botMessages(OWNER_ID).flatMap((m) => buttons(m).map((b) => b.text));
    expect(offered).not.toContain(text);
  });

  it("a stale undo (another answer of the idea since) says so and loses its button", async () => {
    const { say, press, latest, wait, tg: t, db } = await setup();
    const undoKept = () =>
      db
        .prepare(
          "SELECT id FROM conversations WHERE json_extract(optimization_suggested, '$.undo') IS NOT NULL",
        )
        .pluck()
        .all();
    await say("Write a weekly newsletter about local food");
    const q1 = await wait(isQuestion(1), "question 1");
    await say("Mostly neighbours in my street");
    await expect.poll(() => buttons(latest(q1)).length, { timeout: 5000 }).toBe(1);
    const stale = latest(q1);
    const q2 = await wait(isQuestion(2), "question 2");
    await say("Monthly is fine");
    await expect.poll(() => latest(q2).text, { timeout: 5000 }).toContain("→ ✍ Monthly is fine");
    // The first answer's undo went when the idea's next question was answered (and its snapshot).
    expect(buttons(latest(q1))).toEqual([]);
    expect(undoKept()).toHaveLength(1);
    await press(stale, "💡 It's a new idea");
    await expect.poll(() => t.toasts.at(-1), { timeout: 5000 }).toContain("was answered since");
  });
});

describe("two ideas open: a typed answer goes to the question asked last, and says which idea", () => {
  it("answers the last-asked question even after the other idea was touched since", async () => {
    const { db, say, press, latest, wait, command } = await setup();
    await say("Write a weekly newsletter about local food");
    const qa1 = await wait(isQuestion(1), "question 1 of A");
    await wait((m) => m.text.startsWith("📝 Draft 1") && m.text.includes(""), "draft 1 of A");
    await command("/new Plan a garden for bees");
    const ackB = await wait((m) => isAck(m) && m.text.includes("bees"), "ack B");
    const shortB = /thread ([0-9a-f]{8})/.exec(ackB.text)?.[1] as string;
    const draftB = await wait((m) => m.text.startsWith("📝 Draft 1") && m.text.includes(shortB), "draft B");
    const qb1 = await wait((m) => isQuestion(1)(m) && m.text.includes(shortB), "question 1 of B");
    // Answer A's question by tap: A's next question is asked — the lowest in the chat.
    await press(latest(qa1), /.+/);
    const qa2 = await wait((m) => isQuestion(2)(m) && !m.text.includes(shortB), "question 2 of A");
    // Touch B after that (a rating): B becomes the most recently active idea.
    await press(latest(draftB), "★★★★★");
    await expect
      .poll(() => db.prepare("SELECT user_feedback FROM jobs WHERE thread_id = 2").pluck().get(), {
        timeout: 5000,
      })
      .toBe(5);
    await say("Only beginners");
    await expect.poll(() => latest(qa2).text, { timeout: 5000 }).toContain("→ ✍ Only beginners");
    const note = await wait((m) => m.text.startsWith("✍ Taken as your answer"), "which idea");
    const shortA = /💡 ([0-9a-f]{8})/.exec(qa2.text)?.[1] as string;
    expect(note.text).toContain(`question 2 of ${shortA}`);
    expect(note.text).toContain(`question 1 of ${shortB}`);
    // B's question is still open, untouched.
    expect(latest(qb1).text).not.toContain("→");
    expect(
      db
        .prepare("SELECT user_response FROM conversations WHERE thread_id = 2 AND conversation_position = 1")
        .pluck()
        .get(),
    ).toBeNull();
  });
});

describe("✂ Shorter keeps the whole context", () => {
  it("a rewrite while questions are open carries the idea, the answers so far, added information, the draft and preferences", async () => {
    const { ollama, say, press, latest, wait } = await setup();
    await say("Write a weekly newsletter about local food");
    const draft = await wait((m) => m.text.startsWith("📝 Draft 1"), "draft 1");
    const q1 = await wait(isQuestion(1), "question 1");
    await say("Mostly neighbours in my street");
    await wait(isQuestion(2), "question 2 (still open)");
    await say("Also: I live in Berlin", draft);
    await wait((m) => m.text.startsWith("📎 Added to"), "information kept");
    expect(latest(q1).text).toContain("→ ✍ Mostly neighbours in my street");
    await press(latest(draft), "✂ Shorter");
    await wait((m) => m.text.startsWith("📝 Draft 2"), "the shorter draft");
    const prompt = lastUser(
      ollama.requests.find((r) => lastUser(r).includes("Rewrite the draft below")) as FakeChatRequest,
    );
    expect(prompt).toContain("Write a weekly newsletter about local food");
    expect(prompt).toContain("→ Mostly neighbours in my street");
    expect(prompt).toContain("Additional information from the user: Also: I live in Berlin");
    expect(prompt).toContain("Keep it short and to the point."); // the preference ✂ Shorter recorded
    expect(prompt).toContain(draft.text.split("\n").at(-1) as string); // the draft it rewrites
  });

  it("what the shorter draft says about its length is measured, not promised", async () => {
    const long = `${"A long paragraph about local food. ".repeat(30)}`;
    const { say, press, wait, latest } = await setup((req) =>
      lastUser(req).includes("Rewrite the draft below")
        ? { text: "Short: buy local, cook seasonal." }
        : { text: long },
    );
    await say("Write a weekly newsletter about local food");
    const draft = await wait((m) => m.text.startsWith("📝 Draft 1"), "draft 1");
    await press(latest(draft), "✂ Shorter");
    const shorter = await wait((m) => m.text.startsWith("📝 Draft 2"), "the shorter draft");
    const before = long.trim().length.toLocaleString("en");
    expect(shorter.text).toContain(`Shorter, as you asked: ${before} → 32 characters`);
    expect(shorter.text).not.toContain("about half the length");
  });

  it("a rewrite that is not shorter says so", async () => {
    const { say, press, wait, latest } = await setup(() => ({
      text: "The same draft, word for word, again.",
    }));
    await say("Write a weekly newsletter about local food");
    const draft = await wait((m) => m.text.startsWith("📝 Draft 1"), "draft 1");
    await press(latest(draft), "✂ Shorter");
    const again = await wait((m) => m.text.startsWith("📝 Draft 2"), "the rewrite");
    expect(again.text).toContain("You asked for shorter, but this version is not shorter");
  });
});

describe("/status speaks to a person", () => {
  it("says which idea is being written and how many drafts are ahead of a waiting one", async () => {
    const { ollama, wait, command, say } = await setup();
    // Every draft streams for longer than the test: the first runs, the others wait.
    ollama.setResponder(() => ({
      chunks: Array.from({ length: 2000 }, (_, i) => `t${i} `),
      chunkDelayMs: 30,
    }));
    await say("Outline a board game about trains");
    await wait(isAck, "ack 1");
    await wait(() => ollama.inFlight() === 1, "the first draft to stream");
    await command("/new Plan a garden for bees");
    await wait((m) => isAck(m) && m.text.includes("bees"), "ack 2");
    await command("/new Write a talk about tides");
    await wait((m) => isAck(m) && m.text.includes("tides"), "ack 3");
    await command("/status");
    const head = await wait((m) => m.text.startsWith("Your ideas in progress"), "status");
    expect(head.text).not.toMatch(/queued,|running,|retrying/);
    await wait((m) => m.text.includes("“Outline a board game about trains”"), "running line");
    const trains = await wait((m) => m.text.startsWith("Your idea “Outline a board game"), "trains");
    expect(trains.text).toMatch(/draft 1 is being written now\.$/);
    const bees = await wait((m) => m.text.startsWith("Your idea “Plan a garden for bees”"), "bees");
    expect(bees.text).toMatch(/draft 1 is next in line\.$/);
    const tides = await wait((m) => m.text.startsWith("Your idea “Write a talk about tides”"), "tides");
    expect(tides.text).toMatch(/draft 1 is waiting its turn; 1 ahead of it\.$/);
    expect(buttons(tides)[0]?.callback_data).toMatch(/^cancel:\d+$/);
  });
});

describe("one whole conversation, as the user sees it", () => {
  it("idea, tap, typed answer, new idea mid-question, reply to a draft, cancel, Shorter, /forget", async () => {
    const s = await setup(storyModel);
    const { db, say, press, latest, wait, command, transcriptLog } = s;
    await say("Write a weekly newsletter about local food");
    const ack = await wait(isAck, "ack");
    const draft1 = await wait((m) => m.text.startsWith("📝 Draft 1"), "draft 1");
    const q1 = await wait(isQuestion(1), "question 1");
    await press(latest(q1), /.+/); // answer by tap
    const q2 = await wait(isQuestion(2), "question 2");
    await say("Mostly neighbours in my street"); // answer by typing
    await expect.poll(() => latest(q2).text, { timeout: 5000 }).toContain("→ ✍ Mostly neighbours");
    // A new idea typed mid-question starts its own thread (said so), the question stays open.
    const q3 = await wait(isQuestion(3), "question 3").catch(() => undefined);
    await say("Different thing: find a birthday present for my dad, he likes fishing");
    const ack2 = await wait((m) => isAck(m) && m.text.includes("birthday"), "second idea");
    if (q3) await wait((m) => m.text.startsWith("↪ Taken as a new idea"), "the new-idea notice");
    expect(db.prepare("SELECT count(*) FROM idea_threads").pluck().get()).toBe(2);
    if (q3) expect(latest(q3).text).not.toContain("→");
    // A short text right after is taken as the answer to the question asked last (the birthday
    // idea's) — but it was an idea of its own: one tap undoes it.
    const qb1 = await wait((m) => isQuestion(1)(m) && m.text.includes("birthday"), "birthday question");
    await say("Bake sale for the school fair");
    await expect.poll(() => latest(qb1).text, { timeout: 5000 }).toContain("→ ✍ Bake sale");
    // Two ideas have a question open: the echo says which idea the answer went to.
    const which = await wait((m) => m.text.startsWith("✍ Taken as your answer to question 1"), "which idea");
    expect(which.text).toContain("birthday");
    await wait((m) => isQuestion(2)(m) && m.text.includes("birthday"), "its next question").catch(
      () => undefined,
    );
    await press(latest(qb1), "💡 It's a new idea");
    await wait((m) => isAck(m) && m.text.includes("Bake sale"), "third idea");
    await expect
      .poll(() => buttons(latest(qb1)).some((b) => b.text === "Skip"), { timeout: 5000 })
      .toBe(true);
    // Reply to draft 1: information for the refined draft.
    await say("Also: I live in Berlin", draft1);
    await wait((m) => m.text.startsWith("📎 Added to"), "information kept");
    // Cancel the second idea (its draft is done; its question closes).
    const shortB = /thread ([0-9a-f]{8})/.exec(ack2.text)?.[1] as string;
    await command(`/cancel ${shortB}`);
    await wait((m) => m.text.startsWith("✖") && m.text.includes(shortB), "cancelled");
    // Shorter on draft 1.
    await press(latest(draft1), "✂ Shorter");
    const shorter = await wait(
      (m) => m.text.startsWith("📝 Draft") && /Shorter, as you asked|not shorter/.test(m.text),
      "the shorter draft",
    );
    expect(shorter.text).not.toContain("about half the length");
    await wait((m) => m.text.startsWith("✏️ Writing a shorter version") && m.text.includes("Done"), "status");
    // /forget: everything goes.
    await command("/forget");
    const confirm = await wait((m) => buttons(m).some((b) => b.text === "Yes, delete everything"), "confirm");
    await press(confirm, "Yes, delete everything");
    await wait((m) => /Deleted \d+ record/.test(m.text), "forgotten");
    expect(db.prepare("SELECT count(*) FROM idea_threads").pluck().get()).toBe(0);
    expect(db.prepare("SELECT count(*) FROM conversations").pluck().get()).toBe(0);
    expect(ack.text).toContain("newsletter");
    const transcript = readable(s.tg.botMessages(OWNER_ID), transcriptLog);
    if (process.env.HERMES_TRANSCRIPT) writeFileSync(process.env.HERMES_TRANSCRIPT, transcript);
    expect(transcript).toContain("→ ✍ Mostly neighbours in my street");
  });
});

/** A model that writes short, readable drafts (the transcript is for people). */
function storyModel(req: FakeChatRequest): { text: string } {
  const prompt = lastUser(req);
  const idea = /Idea:\n(.*)/.exec(prompt)?.[1] ?? "your idea";
  if (prompt.includes("Rewrite the draft below"))
    return { text: `${idea} — in short: three market picks, one recipe, one farm story. Send Fridays.` };
  if (prompt.includes("refined version"))
    return {
      text: `${idea} (refined)\n\n- For your neighbours in Berlin: what is in season at the Saturday market\n- One cheap recipe\n- One local grower's story\n\nNext step: write issue 1 this week.`,
    };
  return {
    text: `${idea}\n\nAssumed: a short email, monthly.\n\n- What is in season and where to buy it\n- One recipe\n- One local grower's story\n\nNext step: collect three market picks.`,
  };
}

/** How each bot message reads now, with its buttons. */
function shown(messages: BotMessage[]): Map<number, string> {
  return new Map(
    messages.map((m): [number, string] => {
      const b = buttons(m).map((x) => `[${x.text}]`);
      const text = m.text.length > 300 ? `${m.text.slice(0, 300)}…` : m.text;
      return [
        m.message_id as number,
        `${text.replaceAll("\n", "  \n")}${b.length ? `  \n${b.join(" ")}` : ""}`,
      ];
    }),
  );
}

/**
 * The chat in order, as the user saw it happen: each step of theirs, then what Hermes sent after it
 * and which of its earlier messages it edited (a question showing its answer, a status line "Done").
 */
function readable(messages: BotMessage[], steps: Step[]): string {
  const out: string[] = [
    "# One conversation in the Telegram emulator, as the user saw it",
    "",
    "_Written by test/e2e/telegram-trust.test.ts (HERMES_TRANSCRIPT=path); fake model, real Hermes._",
    "",
  ];
  const snapshots = [...steps.map((x) => x.before), shown(messages)];
  let previous = new Map<number, string>();
  snapshots.forEach((now, i) => {
    if (i > 0) out.push(`**You:** ${(steps[i - 1] as Step).text}`, "");
    for (const [id, text] of now) {
      const was = previous.get(id);
      if (was === undefined) out.push(`**Hermes:** ${text}`, "");
      else if (was !== text) out.push(`*Hermes edits “${was.split("  \n")[0]}” to:* ${text}`, "");
    }
    previous = now;
  });
  return out.join("\n");
}
