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

  it("a completed draft is counted on its thread and read once for listeners; with none, not read at all", async () => {
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
    new Engine({
      threads,
      queueEvents,
      clock: new ManualClock(0),
      log: { error: () => {}, warn: () => {} },
    } as unknown as EngineDeps);
    const jobs = new JobsRepo(db.sqlite);
    const draftCount = (id: number) =>
      db?.sqlite.prepare("SELECT draft_count, final_result_summary FROM idea_threads WHERE id = ?").get(id);
    const complete = async (threadId: number) => {
      const job = { ...jobs.enqueue({ threadId, jobType: "t", priority: 5 }, 0), result_summary: "Sum" };
      for (const type of ["queued", "started", "completed"] as const) queueEvents.emit({ type, job });
      await settle();
    };

    const quiet = Number(insert.pluck().get("11111111-q"));
    await complete(quiet);
    expect(draftCount(quiet)).toEqual({ draft_count: 1, final_result_summary: "Sum" });
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
    const job = {
      ...new JobsRepo(db.sqlite).enqueue({ threadId, jobType: "t", priority: 5 }, 0),
      result_summary: "S",
    };
    queueEvents.emit({ type: "started", job });
    await settle();
    queueEvents.emit({ type: "completed", job });
    await settle();
    // One read at the start; after it the counting UPDATE returns the row (RETURNING): no second read.
    expect(reads).toBe(1);
    const done = seen.find((e) => e.event.type === "completed");
    expect(done?.thread.draft_count).toBe(1);
    expect(done?.draft).toBeDefined();
  });
});
