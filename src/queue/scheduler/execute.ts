import type { Clock } from "../../clock.ts";
import { HermesError, toHermesError } from "../../errors.ts";
import { type CompletionFields, completedJob, type Job } from "../../store/jobs/repo.ts";
import { isStorageFull, writeBackoffMs } from "../../store/storage-fault.ts";
import type { CompletionBatcher } from "../completion-batch.ts";
import { decideRetry } from "../retry-policy.ts";
import type { ResolvedSchedulerOptions, Running } from "./types.ts";

/**
 * One claimed job's life after the scheduler launched it: its lease renewed while it runs, the
 * dispatcher's outcome settled as a completion (under the lease's attempt), or a failure turned
 * into a retry, a final failure (with its dependents) or, on shutdown, a requeue. A write that
 * finds the database full is tried again (see durably): it never escapes into a timer.
 */

/** Renews the lease every third of its length; a lost lease aborts the (now stale) attempt. */
export function keepLeaseAlive(o: ResolvedSchedulerOptions, entry: Running): void {
  const { job, controller } = entry;
  const renew = () => {
    entry.renewTimer = o.clock.setTimeout(() => {
      const now = o.clock.now();
      let held: boolean;
      try {
        held = o.repo.renewLease(job.id, job.attempt, now + o.leaseMs);
        o.storage?.stored("lease renewal");
      } catch (error) {
        // The database refused the write (full, busy): keep working and try at the next tick.
        o.storage?.report(error, "lease renewal");
        o.log?.warn({ jobId: job.id, err: messageOf(error) }, "lease renewal failed; trying again");
        renew();
        return;
      }
      if (!held) {
        // Someone else owns it now (or it was cancelled): stop working on a stale attempt.
        controller.abort(new HermesError("CANCELLED", "lease lost"));
        return;
      }
      renew();
    }, o.leaseMs / 3);
  };
  renew();
}

export async function executeJob(
  o: ResolvedSchedulerOptions,
  batcher: CompletionBatcher,
  entry: Running,
): Promise<void> {
  const { job, controller } = entry;
  const startedMs = o.clock.now();
  try {
    const outcome = await o.dispatch({
      job,
      signal: controller.signal,
      progress: (tokens, textSoFar) => o.events.emit({ type: "progress", job, tokens, textSoFar }),
    });
    if (controller.signal.aborted) throw controller.signal.reason ?? new HermesError("CANCELLED", "aborted");
    const createdMs = Date.parse(job.created_date ?? job.scheduled_date);
    const fields = {
      fullResult: outcome.text,
      resultSummary: outcome.summary,
      backendUsed: outcome.backend,
      modelUsed: outcome.model,
      costCents: outcome.costCents,
      executionSeconds: outcome.executionMs / 1000,
      processingSeconds: (o.clock.now() - createdMs) / 1000,
      queueSeconds: Math.max(0, startedMs - Date.parse(job.scheduled_date)) / 1000,
      backendConfidence: outcome.confidence ?? 0,
      modelConfidence: outcome.modelConfidence,
      fallbackUsed: outcome.fallbackUsed ?? false,
    };
    const completed = await durably(o, entry, "job completion", () =>
      o.groupCommit ? batcher.complete(job, fields) : completeNow(o, job, fields),
    );
    if (!completed) {
      o.log?.warn({ jobId: job.id, attempt: job.attempt }, "completion under a stale lease rejected");
      return;
    }
    o.events.emit({ type: "completed", job: completed });
  } catch (thrown) {
    await settleFailure(
      o,
      entry,
      toHermesError(controller.signal.aborted ? (controller.signal.reason ?? thrown) : thrown),
    );
  }
}

/** Completes the claimed `job` in its own commit: the job as completed, or undefined (a stale lease). */
function completeNow(o: ResolvedSchedulerOptions, job: Job, fields: CompletionFields): Job | undefined {
  const now = o.clock.now();
  return o.repo.complete(job.id, job.attempt, fields, now) ? completedJob(job, fields, now) : undefined;
}

/**
 * Runs one settling write. While the database is full it waits (1 s doubling to 60 s) and tries
 * again, holding the outcome in memory; it gives up only once the job is aborted (shutdown,
 * cancel). A job given up on stays 'running' in the database: its lease runs out, or the next
 * start sees its process gone, and it is queued again — accepted work is never dropped.
 */
async function durably<T>(
  o: ResolvedSchedulerOptions,
  entry: Running,
  writer: string,
  write: () => T | Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      const result = await write();
      if (attempt > 1) o.storage?.stored(writer);
      return result;
    } catch (error) {
      if (!isStorageFull(error) || entry.controller.signal.aborted) throw error;
      o.storage?.report(error, writer);
      const waitMs = writeBackoffMs(attempt);
      o.log?.error(
        { jobId: entry.job.id, err: messageOf(error), retryInMs: waitMs },
        "database full: the job's outcome is kept and stored when space returns",
      );
      await pause(o.clock, waitMs, entry.controller.signal);
    }
  }
}

/** Waits `ms` on the clock, or less if the signal aborts. */
function pause(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = clock.setTimeout(done, ms);
    function done() {
      clock.clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

/** An error's message for a log line. */
export const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

async function settleFailure(o: ResolvedSchedulerOptions, entry: Running, error: HermesError): Promise<void> {
  const { job } = entry;
  if (entry.abortReason === "cancel") return; // already cancelled and announced by cancel()
  if (entry.abortReason === "shutdown") {
    await durably(o, entry, "job requeue", () => o.repo.requeue(job.id, job.attempt, o.clock.now()));
    return;
  }
  const now = o.clock.now();
  const info = { code: error.code, message: error.message, userAction: error.userAction };
  const decision = decideRetry(
    {
      retryCount: job.retry_count,
      maxRetries: job.max_retries,
      createdAtMs: Date.parse(job.created_date ?? job.scheduled_date),
    },
    error,
    now,
    o.retrySettings(),
    o.random,
  );
  if (decision.retry) {
    const at = now + decision.delayMs;
    const ok = await durably(o, entry, "job retry", () =>
      o.repo.scheduleRetry(job.id, job.attempt, {
        at: new Date(at).toISOString(),
        reason: `${error.code}: ${error.message}`,
        errorMessage: error.message,
        strategy: decision.strategy,
      }),
    );
    if (ok) {
      o.events.emit({
        type: "retrying",
        job: o.repo.get(job.id) ?? job,
        retryCount: job.retry_count + 1,
        nextAttemptAt: at,
        error: info,
      });
    }
    return;
  }
  const message = error.retryable ? `${error.message} — ${decision.reason}` : error.message;
  const ids = await durably(o, entry, "job failure", () => o.repo.fail(job.id, job.attempt, message, now));
  for (const id of ids) {
    const failed = o.repo.get(id);
    if (!failed) continue;
    o.events.emit({
      type: "failed",
      job: failed,
      error:
        id === job.id
          ? { ...info, message }
          : { code: "CANCELLED", message: failed.error_message ?? message },
    });
  }
}
