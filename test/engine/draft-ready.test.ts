import { afterEach, describe, expect, it } from "vitest";
import { ManualClock } from "../../src/clock.ts";
import { whatChanged } from "../../src/engine/draft-ready.ts";
import { Engine, type EngineDeps, type EngineEvent } from "../../src/engine/engine.ts";
import { QueueEvents } from "../../src/queue/events.ts";
import type { HermesDatabase } from "../../src/store/database.ts";
import { JobsRepo } from "../../src/store/jobs/repo.ts";
import { ThreadsRepo } from "../../src/store/threads/repo.ts";
import { memoryDb } from "../helpers/memory-db.ts";

let db: HermesDatabase | undefined;
afterEach(async () => {
  await db?.close();
  db = undefined;
});

const NOW = Date.UTC(2026, 0, 1);

/** An Engine over a real store whose only job here is relaying queue events to a listener. */
async function relayHarness() {
  db = await memoryDb();
  const threadId = Number(
    db.sqlite
      .prepare(
        "INSERT INTO idea_threads (uuid, title, original_request, source, chat_id) VALUES ('abcdef12-x', 't', 'idea', 'telegram', '42') RETURNING id",
      )
      .pluck()
      .get(),
  );
  const repo = new JobsRepo(db.sqlite);
  const queueEvents = new QueueEvents();
  const errors: unknown[] = [];
  const engine = new Engine({
    threads: new ThreadsRepo(db.db),
    queueEvents,
    clock: new ManualClock(NOW),
    log: { error: (obj: object) => errors.push(obj), warn: () => {} },
  } as unknown as EngineDeps);
  // The relay is asynchronous (it reads the thread): each emit resolves the next waiting promise.
  let deliver: (e: EngineEvent) => void = () => {};
  const next = () => new Promise<EngineEvent>((resolve) => (deliver = resolve));
  engine.onEvent((e) => deliver(e));
  /** Runs a job to completion in the store and announces it as the scheduler does. */
  const complete = async (job: Parameters<JobsRepo["enqueue"]>[0]) => {
    const queued = repo.enqueue(job, NOW);
    const claimed = repo.claimNext(NOW, "me", 1000);
    if (claimed?.id !== queued.id) throw new Error("not claimed");
    repo.complete(
      queued.id,
      claimed.attempt,
      {
        fullResult: "The draft.",
        resultSummary: "The draft.",
        backendUsed: "ollama",
        modelUsed: "llama3",
        costCents: 0,
        executionSeconds: 1,
        processingSeconds: 1,
        queueSeconds: 0,
      },
      NOW,
    );
    const event = next();
    queueEvents.emit({ type: "completed", job: repo.get(queued.id) ?? queued });
    return event;
  };
  const start = (job: Parameters<JobsRepo["enqueue"]>[0]) => {
    const event = next();
    queueEvents.emit({ type: "started", job: repo.enqueue(job, NOW) });
    return event;
  };
  return { threadId, complete, start, errors };
}

describe("the draft-ready event", () => {
  it("carries the draft, its number, backend, model and what changed", async () => {
    const h = await relayHarness();
    const first = await h.complete({ threadId: h.threadId, jobType: "t", priority: 5 });
    expect(first?.draft).toMatchObject({
      threadId: h.threadId,
      draftNumber: 1,
      text: "The draft.",
      backend: "ollama",
      model: "llama3",
      whatChanged: undefined,
    });
    const refined = await h.complete({
      threadId: h.threadId,
      jobType: "t",
      jobSubtype: "refine",
      jobSequence: 2,
      priority: 5,
      promptVariables: { idea: "idea", answers: "- For\n   beginners" },
    });
    expect(refined?.draft).toMatchObject({
      jobId: refined?.event.job.id,
      draftNumber: 2,
      whatChanged: "Refined with your answers: for beginners.",
    });
    expect(h.errors).toEqual([]);
  });

  it("is absent from events that do not finish a draft", async () => {
    const h = await relayHarness();
    const started = await h.start({ threadId: h.threadId, jobType: "t", priority: 5 });
    expect(started.event.type).toBe("started");
    expect(started.draft).toBeUndefined();
  });
});

describe("whatChanged", () => {
  const job = (
    job_sequence: number,
    job_subtype: string | null,
    prompt_variables: Record<string, unknown> | null,
  ) => ({
    job_sequence,
    job_subtype,
    prompt_variables,
  });

  it("says nothing for a first draft", () => {
    expect(whatChanged(job(1, null, { answers: "x" }))).toBeUndefined();
  });

  it("says an adjustment as what was measured, not as the prompt's instruction promised", () => {
    const shorter = {
      ...job(3, "rewrite", {
        instruction:
          "Make it noticeably shorter — about half the length: keep the essentials and the next steps, cut the rest.",
      }),
    };
    expect(whatChanged({ ...shorter, full_result: "x".repeat(610) }, "y".repeat(1240))).toBe(
      "Shorter, as you asked: 1,240 → 610 characters (49%).",
    );
    expect(whatChanged({ ...shorter, full_result: "x".repeat(1300) }, "y".repeat(1240))).toBe(
      "You asked for shorter, but this version is not shorter: 1,240 → 1,300 characters (105%). Press ✂ Shorter again to retry.",
    );
    // Without the draft it worked on, no length is claimed.
    expect(whatChanged(shorter)).toBe("Rewritten shorter, as you asked.");
  });

  it("lists the answers for a person, not the prompt lines", () => {
    const answers = [
      '- Context — "Who is this newsletter for?" → The public',
      '- Scope — "How big should the answer be?" → Focused on the first issue.',
      "- Additional information from the user: I live in Berlin",
      "- Audience (assumed from earlier conversations): beginners",
    ].join("\n");
    expect(whatChanged(job(2, "refine", { answers }))).toBe(
      "Refined with your answers: the public; focused on the first issue. Added what you told me: I live in Berlin. Assumed from earlier conversations: beginners.",
    );
  });

  it("cuts a very long answer", () => {
    const long = `- Goal — "Why?" → ${"a".repeat(300)}`;
    expect(whatChanged(job(2, "refine", { answers: long }))).toBe(
      `Refined with your answers: ${"a".repeat(79)}….`,
    );
  });

  it("falls back to a refinement without answers", () => {
    expect(whatChanged(job(2, "refine", { answers: "" }))).toBe("Refined from the first draft.");
    expect(whatChanged(job(2, "refine", { answers: "(no answers — they asked to go ahead)" }))).toBe(
      "Refined from the first draft.",
    );
  });
});
