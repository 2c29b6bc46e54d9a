import { afterEach, describe, expect, it } from "vitest";
import type { RunResult } from "../../src/backends/backend.ts";
import type { EngineEvent } from "../../src/engine/engine.ts";
import type { Actor } from "../../src/engine/threads/service.ts";
import { SLOTS } from "../../src/learning/quick-analysis.ts";
import type { DispatchOutcome } from "../../src/queue/scheduler/scheduler.ts";
import { understandingFor } from "../fakes/understanding.ts";
import { testHermes } from "../helpers/test-hermes.ts";

// Hermes' rule for a new idea: never block draft 1 on a question, and never lose the first
// question either — whatever order draft 1, the model's analysis and its deadline
// (hermes.classification.deadline_ms, on the injected clock) finish in, the first question is
// asked exactly once (or not at all, for a true reason such as a cancel) and draft 1 is delivered.

type Built = Awaited<ReturnType<typeof build>>;
/** How each test's Hermes is stopped: open analyses and drafts end, the manual clock moves the grace period along. */
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

const DEADLINE_MS = 1500;
const OWNER: Actor = { userId: "u1", role: "owner" };
const IDEA = "a birthday present for my sister";
const UNDERSTOOD = understandingFor("this birthday present for your sister");

interface Pending<T> {
  promise: Promise<T>;
  settle(value: T): void;
  fail(error: Error): void;
}

function pending<T>(): Pending<T> {
  let settle: (v: T) => void = () => {};
  let fail: (e: Error) => void = () => {};
  const promise = new Promise<T>((resolve, reject) => {
    settle = resolve;
    fail = reject;
  });
  return { promise, settle, fail };
}

const outcome = (text: string): DispatchOutcome => ({
  text,
  summary: text,
  backend: "ollama",
  model: "llama3.1:8b",
  costCents: 0,
  executionMs: 1,
});

/**
 * Hermes on a manual clock where the test decides when each draft finishes and when each idea
 * analysis answers (draft 1's assumptions are read as none at once).
 */
async function build(draftAssumptions: object[] = []) {
  const drafts = new Map<number, Pending<DispatchOutcome>>();
  const built = await testHermes({
    config: { "hermes.learning.random_seed": "1", "hermes.classification.deadline_ms": String(DEADLINE_MS) },
    dispatch: (ctx) => {
      const p = pending<DispatchOutcome>();
      drafts.set(ctx.job.id, p);
      return p.promise;
    },
  });
  const analyses: (Pending<Partial<RunResult>> & { idea: string; aborted: () => boolean })[] = [];
  built.ollama.structured = (req, signal) => {
    if (req.responseFormat?.name !== "idea_understanding")
      return { text: JSON.stringify({ assumptions: draftAssumptions }) };
    const p = pending<Partial<RunResult>>();
    analyses.push({ ...p, idea: req.messages.at(-1)?.content ?? "", aborted: () => signal.aborted });
    return p.promise;
  };
  const delivered: EngineEvent[] = [];
  built.hermes.engine.onEvent((e) => {
    if (e.event.type === "completed") delivered.push(e);
  });
  await built.hermes.start();
  cleanups.push(async () => {
    for (const c of analyses) c.settle({ text: "{}" });
    for (const d of drafts.values()) d.settle(outcome("late"));
    let stopped = false;
    const stopping = built.hermes.stop().then(() => {
      stopped = true;
    });
    while (!stopped) {
      built.clock.advance(10);
      await new Promise((r) => setImmediate(r));
    }
    await stopping;
  });
  return { ...built, drafts, analyses, delivered };
}

/** Lets pending promise callbacks and I/O run (the manual clock does not move). */
async function settle() {
  for (let i = 0; i < 30; i++) await new Promise((r) => setImmediate(r));
}

/** Submits through ThreadService (as every transport does) without waiting for the first question. */
function submit(b: Built, text = IDEA, chatId = "c1") {
  let done: Awaited<ReturnType<Built["hermes"]["threadService"]["submit"]>> | undefined;
  const submitted = b.hermes.threadService.submit(OWNER, { chatId, text, source: "telegram" }).then((r) => {
    done = r;
    return r;
  });
  return { submitted, result: () => done };
}

/** Draft 1 of the idea finishes now and its event is relayed. */
async function finishDraft(b: Built, threadId: number) {
  const job = b.hermes.queue.activeForThread(threadId).find((j) => j.job_sequence === 1);
  const p = job ? b.drafts.get(job.id) : undefined;
  if (!job || !p) throw new Error(`draft 1 of thread ${threadId} is not running`);
  p.settle(outcome(`Draft 1 of thread ${threadId}.`));
  await settle();
}

const threadIdOf = (b: Built, text = IDEA) =>
  (
    b.hermes.database.sqlite
      .prepare("SELECT id FROM idea_threads WHERE original_request = ? ORDER BY id DESC")
      .get(text) as { id: number }
  ).id;

/** Every question asked on the thread (the conversation rows with a position). */
const asked = (b: Built, threadId: number) =>
  b.hermes.database.sqlite
    .prepare(
      "SELECT id, question_asked, responded_date FROM conversations WHERE thread_id = ? AND conversation_position IS NOT NULL",
    )
    .all(threadId) as { id: number; question_asked: string; responded_date: string | null }[];

const draftsDelivered = (b: Built, threadId: number) =>
  b.delivered.filter((e) => e.thread.id === threadId && e.draft?.draftNumber === 1).length;

/** The idea is submitted, its analysis is under way, and draft 1 finished and was delivered meanwhile. */
async function draftOneFirst(b: Built) {
  const s = submit(b);
  await settle();
  expect(b.analyses).toHaveLength(1);
  const threadId = threadIdOf(b);
  await finishDraft(b, threadId);
  expect(draftsDelivered(b, threadId)).toBe(1);
  expect(s.result()).toBeUndefined(); // the first question still waits for the analysis (or its deadline)
  return { ...s, threadId };
}

/** The first question came back from submit, is the one open question of the idea, and was asked once. */
async function expectOneFirstQuestion(b: Built, threadId: number, submitted: Promise<unknown>) {
  const r = (await submitted) as {
    question?: { id: number; threadId: number; position: number; text: string };
  };
  expect(r.question?.threadId).toBe(threadId);
  expect(r.question?.position).toBe(1);
  expect(r).not.toHaveProperty("noQuestion");
  await settle();
  const rows = asked(b, threadId);
  expect(rows).toHaveLength(1);
  expect(rows[0]?.id).toBe(r.question?.id);
  expect((await b.hermes.flow.pending(threadId))?.id).toBe(r.question?.id);
  expect(draftsDelivered(b, threadId)).toBe(1);
  if (!r.question) throw new Error("no first question");
  return r.question;
}

describe("the first question, whatever finishes first", () => {
  it("draft 1 finishes before the analysis answers: the model's question is asked once", async () => {
    const b = await build();
    const s = await draftOneFirst(b);
    b.analyses[0]?.settle({ text: JSON.stringify(UNDERSTOOD) });
    const q = await expectOneFirstQuestion(b, s.threadId, s.submitted);
    expect(q.text).toMatch(/^Model question about/);
    expect(b.hermes.understanding.snapshot()).toMatchObject({ model: 1, timeout: 0 });
  });

  it("draft 1 finishes, then the deadline passes on the injected clock: a template question, once", async () => {
    const b = await build();
    const s = await draftOneFirst(b);
    b.clock.advance(DEADLINE_MS - 1);
    await settle();
    expect(s.result()).toBeUndefined();
    b.clock.advance(1);
    const q = await expectOneFirstQuestion(b, s.threadId, s.submitted);
    expect(q.text).not.toMatch(/^Model question/);
    expect(b.analyses[0]?.aborted()).toBe(true);
    expect(b.hermes.understanding.snapshot()).toMatchObject({ model: 0, timeout: 1 });
  });

  it("the analysis answers after the deadline: the late answer asks nothing more", async () => {
    const b = await build();
    const s = await draftOneFirst(b);
    b.clock.advance(DEADLINE_MS);
    const q = await expectOneFirstQuestion(b, s.threadId, s.submitted);
    b.analyses[0]?.settle({ text: JSON.stringify(UNDERSTOOD) });
    await settle();
    expect(asked(b, s.threadId).map((r) => r.id)).toEqual([q.id]);
    expect((await b.hermes.flow.pending(s.threadId))?.id).toBe(q.id);
    expect(b.hermes.understanding.snapshot()).toMatchObject({ model: 0, timeout: 1 });
  });

  it("the deadline passes before draft 1 finishes: the question is asked once and draft 1 still arrives", async () => {
    const b = await build();
    const s = submit(b);
    await settle();
    const threadId = threadIdOf(b);
    b.clock.advance(DEADLINE_MS);
    const r = await s.submitted;
    expect(r.question).toBeDefined();
    await finishDraft(b, threadId);
    await expectOneFirstQuestion(b, threadId, s.submitted);
  });

  it("the analysis fails after draft 1 finished: a template question, once", async () => {
    const b = await build();
    const s = await draftOneFirst(b);
    b.analyses[0]?.fail(new Error("connection reset"));
    const q = await expectOneFirstQuestion(b, s.threadId, s.submitted);
    expect(q.text).not.toMatch(/^Model question/);
    expect(b.hermes.understanding.snapshot()).toMatchObject({ error: 1 });
  });

  it("the analysis answers malformed JSON after draft 1 finished: a template question, once", async () => {
    const b = await build();
    const s = await draftOneFirst(b);
    b.analyses[0]?.settle({ text: '{"idea_type": "creation", "slots": {' });
    const q = await expectOneFirstQuestion(b, s.threadId, s.submitted);
    expect(q.text).not.toMatch(/^Model question/);
    expect(b.hermes.understanding.snapshot()).toMatchObject({ malformed: 1 });
  });

  it("a second idea from the same chat in between: each idea gets its own first question, once", async () => {
    const b = await build();
    const first = submit(b, IDEA);
    await settle();
    const second = submit(b, "a garden for bees");
    await settle();
    expect(b.analyses.map((a) => a.idea)).toEqual([IDEA, "a garden for bees"]);
    const [t1, t2] = [threadIdOf(b, IDEA), threadIdOf(b, "a garden for bees")];
    // One job slot: the second idea's draft 1 runs once the first one's is done.
    await finishDraft(b, t1);
    await finishDraft(b, t2);
    // The later idea's analysis answers first, the earlier one's after its deadline.
    b.analyses[1]?.settle({ text: JSON.stringify(understandingFor("your bee garden")) });
    await expectOneFirstQuestion(b, t2, second.submitted);
    expect(first.result()).toBeUndefined();
    b.clock.advance(DEADLINE_MS);
    await expectOneFirstQuestion(b, t1, first.submitted);
    b.analyses[0]?.settle({ text: JSON.stringify(UNDERSTOOD) });
    await settle();
    expect(asked(b, t1)).toHaveLength(1);
    expect(asked(b, t2)).toHaveLength(1);
  });

  it("the idea is cancelled while the analysis runs: no question is offered, draft 1 stops", async () => {
    const b = await build();
    const s = submit(b);
    await settle();
    const threadId = threadIdOf(b);
    const uuid = b.hermes.database.sqlite
      .prepare("SELECT uuid FROM idea_threads WHERE id = ?")
      .pluck()
      .get(threadId);
    const cancelling = b.hermes.threadService.cancel(OWNER, { ref: String(uuid) });
    await settle();
    b.analyses[0]?.settle({ text: JSON.stringify(UNDERSTOOD) });
    const cancelled = await cancelling;
    const r = await s.submitted;
    expect(cancelled?.cancelled.length).toBe(1);
    expect(r.question).toBeUndefined();
    expect(r.noQuestion).toBe("No questions: the idea was cancelled meanwhile.");
    expect(await b.hermes.flow.pending(threadId)).toBeUndefined();
    expect(asked(b, threadId).every((q) => q.responded_date !== null)).toBe(true);
  });

  it("draft 1 finished, then the idea is cancelled before the analysis answers: no question is offered", async () => {
    const b = await build();
    const s = await draftOneFirst(b);
    const job = b.hermes.database.sqlite
      .prepare("SELECT id FROM jobs WHERE thread_id = ? AND job_sequence = 1")
      .pluck()
      .get(s.threadId) as number;
    // The button under the acknowledgement (cancel draft 1) cancels the idea: its questions close.
    const cancelling = b.hermes.threadService.cancelJob(OWNER, job);
    await settle();
    b.clock.advance(DEADLINE_MS);
    const cancelled = await cancelling;
    const r = await s.submitted;
    expect(cancelled.questionsClosed).toBe(true);
    expect(r.question).toBeUndefined();
    expect(r.noQuestion).toBe("No questions: the idea was cancelled meanwhile.");
    expect(await b.hermes.flow.pending(s.threadId)).toBeUndefined();
    expect(draftsDelivered(b, s.threadId)).toBe(1);
  });

  it("draft 1's assumptions read before the first question was planned are kept, not lost", async () => {
    const b = await build(
      SLOTS.map((slot) => ({ slot, assumption: `the ${slot} you had in mind`, risk: 0.8 })),
    );
    const s = await draftOneFirst(b);
    b.analyses[0]?.settle({ text: JSON.stringify(UNDERSTOOD) });
    const q1 = await expectOneFirstQuestion(b, s.threadId, s.submitted);
    await settle();
    const state = JSON.parse(
      b.hermes.database.sqlite
        .prepare("SELECT clarity_slots FROM idea_threads WHERE id = ?")
        .pluck()
        .get(s.threadId) as string,
    );
    expect(state.assumptions?.length).toBeGreaterThan(0);
    expect(b.hermes.draftAssumptions.snapshot().model).toBe(1);
    // The next question confirms one of them.
    const next = (await b.hermes.flow.answer(s.threadId, q1.id, { kind: "skip" }, "u1")).next;
    expect(next?.text).toMatch(/^I assumed the \w+ you had in mind — right\?$/);
  });

  it("no first question because the idea says enough: the submit says so, and draft 1 still arrives", async () => {
    const b = await build();
    const s = await draftOneFirst(b);
    const says = { says: "for my sister's 30th, under 50 euros", missing: "" };
    const all = understandingFor("it", {
      intent: says,
      constraints: says,
      success: says,
      context: says,
      scope: says,
    });
    b.analyses[0]?.settle({ text: JSON.stringify(all) });
    const r = await s.submitted;
    expect(r.question).toBeUndefined();
    expect(r.noQuestion).toBe("No questions needed: the idea says enough for the draft.");
    expect(asked(b, s.threadId)).toHaveLength(0);
    expect(draftsDelivered(b, s.threadId)).toBe(1);
  });

  it("a question limit says its own value, not a fixed number", async () => {
    const b = await testHermes({
      config: {
        "hermes.learning.random_seed": "1",
        "hermes.classification.enable_llm": "false",
        "hermes.learning.max_questions_per_conversation": "0",
      },
      dispatch: async (ctx) => outcome(`Draft of job ${ctx.job.id}.`),
    });
    cleanups.push(() => b.hermes.stop());
    await b.hermes.start();
    const r = await b.hermes.threadService.submit(OWNER, { chatId: "c1", text: IDEA, source: "telegram" });
    expect(r.question).toBeUndefined();
    expect(r.noQuestion).toBe(
      "No questions: the limit of questions per idea is 0 (hermes.learning.max_questions_per_conversation).",
    );
  });

  it("planning the questions fails after draft 1 finished: the submit says so, and the idea stands", async () => {
    const b = await build();
    // What submit calls to open the questions (ConversationPort.open; start where open is missing).
    b.hermes.flow.open = () => Promise.reject(new Error("database is locked"));
    const r = await b.hermes.threadService.submit(OWNER, { chatId: "c1", text: IDEA, source: "telegram" });
    expect(r.question).toBeUndefined();
    expect(r.noQuestion).toBe(
      "No questions this time: they could not be prepared; the draft comes without them.",
    );
    await settle();
    await finishDraft(b, r.thread.id);
    expect(draftsDelivered(b, r.thread.id)).toBe(1);
  });

  it("slow answers to earlier ideas price a later idea's questions out: it is told why, not left waiting", async () => {
    // In a busy run the learner's answer times (real clock) grow; here 30 s per answer on the
    // manual clock, until an idea's first question is not worth the user's time any more.
    const b = await testHermes({
      config: { "hermes.learning.random_seed": "1", "hermes.classification.enable_llm": "false" },
      dispatch: async (ctx) => outcome(`Draft of job ${ctx.job.id}.`),
    });
    cleanups.push(() => b.hermes.stop());
    await b.hermes.start();
    let none: { noQuestion?: string | undefined } | undefined;
    for (let i = 0; i < 8 && !none; i++) {
      const r = await b.hermes.threadService.submit(OWNER, {
        chatId: "c1",
        text: `Write a weekly newsletter about local food, issue ${i}`,
        source: "telegram",
      });
      if (!r.question) none = r;
      for (let q = r.question; q; ) {
        b.clock.advance(30_000);
        q = (await b.hermes.flow.answer(r.thread.id, q.id, { kind: "text", text: "the neighbours" }, "u1"))
          .next;
      }
    }
    expect(none?.noQuestion).toBe("No questions this time: none looked worth your time for this idea.");
  });
});
