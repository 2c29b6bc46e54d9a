import { ManualClock } from "../../src/clock.ts";
import { HermesError } from "../../src/errors.ts";
import { type QueueEvent, QueueEvents } from "../../src/queue/events.ts";
import { JobQueue } from "../../src/queue/job-queue.ts";
import type { RetrySettings } from "../../src/queue/retry-policy.ts";
import {
  type DispatchContext,
  type DispatchOutcome,
  Scheduler,
} from "../../src/queue/scheduler/scheduler.ts";
import type { HermesDatabase } from "../../src/store/database.ts";
import { JobsRepo } from "../../src/store/jobs/repo.ts";
import { memoryDb } from "./memory-db.ts";

export type Behaviour = (ctx: DispatchContext) => Promise<DispatchOutcome>;

export const ok = (text = "done"): DispatchOutcome => ({
  text,
  summary: text,
  backend: "fake",
  model: "m",
  costCents: 0,
  executionMs: 1,
});

/** A queue over an in-memory database with a manual clock and a scriptable dispatcher. */
export async function queueHarness(
  opts: { capacity?: number; retry?: Partial<RetrySettings>; maxQueued?: number; groupCommit?: boolean } = {},
) {
  const db: HermesDatabase = await memoryDb();
  const clock = new ManualClock();
  const repo = new JobsRepo(db.sqlite);
  const events = new QueueEvents((e) => {
    throw e;
  });
  const seen: QueueEvent[] = [];
  events.subscribe((e) => seen.push(e));
  let behaviour: Behaviour = async () => ok();
  const calls: number[] = [];
  const scheduler = new Scheduler({
    repo,
    events,
    clock,
    owner: "test",
    capacity: () => opts.capacity ?? 1,
    retrySettings: () => ({
      baseDelayMs: 1000,
      maxDelayMs: 60_000,
      maxRetryDurationMs: 3_600_000,
      ...opts.retry,
    }),
    dispatch: (ctx) => {
      calls.push(ctx.job.id);
      return behaviour(ctx);
    },
    random: () => 0.5,
    groupCommit: opts.groupCommit ?? false,
  });
  const queue = new JobQueue({ repo, scheduler, events, clock, maxQueuedJobs: () => opts.maxQueued ?? 100 });
  const threadId = Number(
    db.sqlite
      .prepare(
        "INSERT INTO idea_threads (uuid, title, original_request) VALUES ('u-1', 't', 'idea') RETURNING id",
      )
      .pluck()
      .get(),
  );
  return {
    db,
    clock,
    repo,
    events,
    seen,
    calls,
    scheduler,
    queue,
    threadId,
    setBehaviour(b: Behaviour) {
      behaviour = b;
    },
    /** Lets microtasks and promise chains run (no real time passes for the queue: its clock is manual). */
    async settle(rounds = 20) {
      for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
    },
    unavailable: () => new HermesError("BACKEND_UNAVAILABLE", "backend down"),
  };
}
