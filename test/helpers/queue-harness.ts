import type { ManualClock } from "../../src/clock.ts";
import { HermesError } from "../../src/errors.ts";
import type { QueueEvent } from "../../src/queue/events.ts";
import type { RetrySettings } from "../../src/queue/retry-policy.ts";
import type { DispatchContext, DispatchOutcome } from "../../src/queue/scheduler/scheduler.ts";
import { testHermes } from "./test-hermes.ts";

export type Behaviour = (ctx: DispatchContext) => Promise<DispatchOutcome>;

export const ok = (text = "done"): DispatchOutcome => ({
  text,
  summary: text,
  backend: "fake",
  model: "m",
  costCents: 0,
  executionMs: 1,
});

/**
 * The queue of a Hermes built by createHermes: an in-memory database, a manual clock and a
 * scriptable dispatcher. Capacity, retry limits and the queue limit are set through the settings
 * production reads (backend.ollama.concurrency, talos.execution.retry_interval,
 * hermes.talos.max_retry_duration, hermes.web.max_queued_jobs); the retry base is production's 1 s.
 */
export async function queueHarness(
  opts: { capacity?: number; retry?: Partial<RetrySettings>; maxQueued?: number; groupCommit?: boolean } = {},
) {
  if (opts.retry?.baseDelayMs !== undefined && opts.retry.baseDelayMs !== 1000)
    throw new Error("the retry base is fixed at 1000 ms in production");
  let behaviour: Behaviour = async () => ok();
  const calls: number[] = [];
  const { hermes, clock } = await testHermes({
    config: {
      "backend.ollama.concurrency": String(opts.capacity ?? 1),
      "talos.execution.retry_interval": String((opts.retry?.maxDelayMs ?? 60_000) / 1000),
      "hermes.talos.max_retry_duration": String((opts.retry?.maxRetryDurationMs ?? 3_600_000) / 1000),
      "hermes.web.max_queued_jobs": String(opts.maxQueued ?? 100),
    },
    ...(opts.groupCommit !== undefined ? { groupCommit: opts.groupCommit } : {}),
    dispatch: (ctx) => {
      calls.push(ctx.job.id);
      return behaviour(ctx);
    },
  });
  const { database: db, jobs: repo, events, scheduler, queue } = hermes;
  const seen: QueueEvent[] = [];
  events.subscribe((e) => seen.push(e));
  const threadId = Number(
    db.sqlite
      .prepare(
        "INSERT INTO idea_threads (uuid, title, original_request) VALUES ('u-1', 't', 'idea') RETURNING id",
      )
      .pluck()
      .get(),
  );
  return {
    hermes,
    db,
    clock: clock as ManualClock,
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
