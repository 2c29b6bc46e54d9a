import { afterEach, describe, expect, it } from "vitest";
import { ManualClock } from "../../src/clock.ts";
import { Engine, type EngineDeps, type EngineEvent, PROGRESS_INTERVAL_MS } from "../../src/engine/engine.ts";
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

const fields = {
  fullResult: "the draft",
  resultSummary: "the draft",
  backendUsed: "b",
  modelUsed: "m",
  costCents: 0,
  executionSeconds: 1,
  processingSeconds: 1,
  queueSeconds: 0,
};

/** Lets every pending relay (a few awaits deep) finish. */
const settle = async () => {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
};

describe("Engine relay of streamed tokens", () => {
  it("sends progress with its thread, throttled in memory, reading the database only at lifecycle events", async () => {
    db = await memoryDb();
    const threadId = Number(
      db.sqlite
        .prepare(
          "INSERT INTO idea_threads (uuid, title, original_request, source, chat_id) VALUES ('abcdef12-x', 't', 'idea', 'telegram', '42') RETURNING id",
        )
        .pluck()
        .get(),
    );
    const threads = new ThreadsRepo(db.db);
    let reads = 0;
    const byId = threads.byId.bind(threads);
    threads.byId = (id: number) => {
      reads++;
      return byId(id);
    };
    const queueEvents = new QueueEvents();
    const clock = new ManualClock(0);
    const engine = new Engine({
      threads,
      queueEvents,
      clock,
      log: { error: () => {}, warn: () => {} },
    } as unknown as EngineDeps);
    const seen: EngineEvent[] = [];
    engine.onEvent((e) => {
      seen.push(e);
    });
    const job = new JobsRepo(db.sqlite).enqueue({ threadId, jobType: "t", priority: 5 }, 0);

    queueEvents.emit({ type: "started", job });
    await settle();
    const readsAtStart = reads;
    // 100 tokens, one every 100 ms: listeners get one progress event per 250 ms at most.
    const sentAt: number[] = [];
    engine.onEvent((e) => {
      if (e.event.type === "progress") sentAt.push(clock.now());
    });
    for (let i = 1; i <= 100; i++) {
      clock.advance(100);
      queueEvents.emit({ type: "progress", job, tokens: i, textSoFar: "x".repeat(i) });
      await settle();
    }

    expect(readsAtStart).toBe(1);
    expect(reads).toBe(1);
    expect(sentAt[0]).toBe(100);
    expect(sentAt.slice(1).every((t, i) => t - (sentAt[i] ?? 0) >= PROGRESS_INTERVAL_MS)).toBe(true);
    expect(sentAt).toHaveLength(34); // 100, 400, …, 10,000 ms
    expect(seen).toHaveLength(1 + 34);
    expect(seen.every((e) => e.thread.id === threadId && e.shortId === "abcdef12")).toBe(true);

    // The job's end drops the cached row: a later job of the thread reads the current row again.
    queueEvents.emit({ type: "failed", job, error: { code: "X", message: "boom" } });
    await settle();
    db.sqlite.prepare("UPDATE idea_threads SET title = 'renamed' WHERE id = ?").run(threadId);
    clock.advance(1000);
    queueEvents.emit({ type: "progress", job, tokens: 101, textSoFar: "y" });
    await settle();
    expect(seen.at(-1)?.thread.title).toBe("renamed");
  });

  it("reads a job's thread once while it waits and runs, even when it is claimed before the first read is in", async () => {
    db = await memoryDb();
    const threadId = Number(
      db.sqlite
        .prepare(
          "INSERT INTO idea_threads (uuid, title, original_request, source, chat_id) VALUES ('33333333-r', 't', 'idea', 'telegram', '42') RETURNING id",
        )
        .pluck()
        .get(),
    );
    const threads = new ThreadsRepo(db.db);
    let reads = 0;
    const byId = threads.byId.bind(threads);
    threads.byId = (id: number) => {
      reads++;
      return byId(id);
    };
    const queueEvents = new QueueEvents();
    const engine = new Engine({
      threads,
      queueEvents,
      clock: new ManualClock(0),
      log: { error: () => {}, warn: () => {} },
    } as unknown as EngineDeps);
    const seen: EngineEvent[] = [];
    engine.onEvent((e) => {
      seen.push(e);
    });
    const job = new JobsRepo(db.sqlite).enqueue({ threadId, jobType: "t", priority: 5 }, 0);
    // Queued and claimed in one turn: the started event shares the read the queued one began.
    queueEvents.emit({ type: "queued", job });
    queueEvents.emit({ type: "started", job });
    await settle();
    queueEvents.emit({
      type: "retrying",
      job,
      retryCount: 1,
      nextAttemptAt: 0,
      error: { code: "X", message: "again" },
    });
    queueEvents.emit({ type: "started", job });
    await settle();
    expect(reads).toBe(1);
    expect(seen.map((e) => [e.event.type, e.thread.id])).toEqual([
      ["queued", threadId],
      ["started", threadId],
      ["retrying", threadId],
      ["started", threadId],
    ]);
    // A job whose thread is not found is not remembered as such: its next event reads again.
    const orphan = { ...job, id: job.id + 1, thread_id: threadId + 100 };
    queueEvents.emit({ type: "queued", job: orphan });
    await settle();
    queueEvents.emit({ type: "started", job: orphan });
    await settle();
    expect(reads).toBe(3);
  });

  it("a completed job is counted on its thread in the completion's own commit; with no listener, nothing is read", async () => {
    db = await memoryDb();
    const insert = db.sqlite.prepare(
      "INSERT INTO idea_threads (uuid, title, original_request, source, chat_id) VALUES (?, 't', 'idea', 'telegram', '42') RETURNING id",
    );
    const threads = new ThreadsRepo(db.db);
    let reads = 0;
    const byId = threads.byId.bind(threads);
    threads.byId = (id: number) => {
      reads++;
      return byId(id);
    };
    const queueEvents = new QueueEvents();
    const engine = new Engine({
      threads,
      queueEvents,
      clock: new ManualClock(0),
      log: { error: () => {}, warn: () => {} },
    } as unknown as EngineDeps);
    const jobs = new JobsRepo(db.sqlite);
    const draftCount = (id: number) =>
      db?.sqlite
        .prepare("SELECT draft_count, final_result_summary, last_active FROM idea_threads WHERE id = ?")
        .get(id);
    const quiet = Number(insert.pluck().get("11111111-q"));
    const job = jobs.enqueue({ threadId: quiet, jobType: "t", priority: 5 }, 0);
    const [claimed] = jobs.claimMany(0, "me", 60_000, 1);
    expect(claimed?.id).toBe(job.id);
    expect(jobs.complete(job.id, 1, { ...fields, resultSummary: "Sum" }, 5_000)).toBe(true);
    // Counted by the completion itself, before any event is relayed: a crash here loses nothing.
    const counted = {
      draft_count: 1,
      final_result_summary: "Sum",
      last_active: new Date(5_000).toISOString(),
    };
    expect(draftCount(quiet)).toEqual(counted);
    // The relay counts nothing more; a stale attempt's completion and a second update count nothing.
    for (const type of ["queued", "started", "completed"] as const)
      queueEvents.emit({ type, job: jobs.get(job.id) ?? job });
    await settle();
    await engine.settled();
    expect(jobs.complete(job.id, 1, fields, 6_000)).toBe(false);
    db.sqlite
      .prepare("UPDATE jobs SET status = 'completed', result_summary = 'again' WHERE id = ?")
      .run(job.id);
    expect(draftCount(quiet)).toEqual(counted);
    expect(reads).toBe(0);
  });

  it("with a listener, the completed event carries the row as it is after the draft was counted", async () => {
    db = await memoryDb();
    const threadId = Number(
      db.sqlite
        .prepare(
          "INSERT INTO idea_threads (uuid, title, original_request, source, chat_id) VALUES ('22222222-l', 't', 'idea', 'telegram', '42') RETURNING id",
        )
        .pluck()
        .get(),
    );
    const threads = new ThreadsRepo(db.db);
    let reads = 0;
    const byId = threads.byId.bind(threads);
    threads.byId = (id: number) => {
      reads++;
      return byId(id);
    };
    const queueEvents = new QueueEvents();
    const engine = new Engine({
      threads,
      queueEvents,
      clock: new ManualClock(0),
      log: { error: () => {}, warn: () => {} },
    } as unknown as EngineDeps);
    const seen: EngineEvent[] = [];
    engine.onEvent((e) => {
      seen.push(e);
    });
    const jobs = new JobsRepo(db.sqlite);
    const job = jobs.enqueue({ threadId, jobType: "t", priority: 5 }, 0);
    jobs.claimMany(0, "me", 60_000, 1);
    queueEvents.emit({ type: "started", job });
    await settle();
    expect(jobs.complete(job.id, 1, { ...fields, resultSummary: "S" }, 0)).toBe(true);
    queueEvents.emit({ type: "completed", job: jobs.get(job.id) ?? job });
    await settle();
    // One read at the start, one for the completed event (the row with the draft counted).
    expect(reads).toBe(2);
    const done = seen.find((e) => e.event.type === "completed");
    expect(done?.thread.draft_count).toBe(1);
    expect(done?.thread.final_result_summary).toBe("S");
    expect(done?.draft).toBeDefined();
  });
});
