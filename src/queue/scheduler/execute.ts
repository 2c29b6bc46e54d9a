import { HermesError, toHermesError } from "../../errors.ts";
import type { CompletionBatcher } from "../completion-batch.ts";
import { decideRetry } from "../retry-policy.ts";
import type { ResolvedSchedulerOptions, Running } from "./types.ts";

/**
 * One claimed job's life after the scheduler launched it: its lease renewed while it runs, the
 * dispatcher's outcome settled as a completion (under the lease's attempt), or a failure turned
 * into a retry, a final failure (with its dependents) or, on shutdown, a requeue.
 */

/** Renews the lease every third of its length; a lost lease aborts the (now stale) attempt. */
export function keepLeaseAlive(o: ResolvedSchedulerOptions, entry: Running): void {
  const { job, controller } = entry;
  const renew = () => {
    entry.renewTimer = o.clock.setTimeout(() => {
      const now = o.clock.now();
      if (!o.repo.renewLease(job.id, job.attempt, now + o.leaseMs)) {
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
    const now = o.clock.now();
    const createdMs = Date.parse(job.created_date ?? job.scheduled_date);
    const fields = {
      fullResult: outcome.text,
      resultSummary: outcome.summary,
      backendUsed: outcome.backend,
      modelUsed: outcome.model,
      costCents: outcome.costCents,
      executionSeconds: outcome.executionMs / 1000,
      processingSeconds: (now - createdMs) / 1000,
      queueSeconds: Math.max(0, startedMs - Date.parse(job.scheduled_date)) / 1000,
      backendConfidence: outcome.confidence ?? 0,
      modelConfidence: outcome.modelConfidence,
      fallbackUsed: outcome.fallbackUsed ?? false,
    };
    const ok = o.groupCommit
      ? await batcher.complete(job.id, job.attempt, fields)
      : o.repo.complete(job.id, job.attempt, fields, now);
    if (!ok) {
      o.log?.warn({ jobId: job.id, attempt: job.attempt }, "completion under a stale lease rejected");
      return;
    }
    o.events.emit({ type: "completed", job: o.repo.get(job.id) ?? job });
  } catch (thrown) {
    settleFailure(
      o,
      entry,
      toHermesError(controller.signal.aborted ? (controller.signal.reason ?? thrown) : thrown),
    );
  }
}

function settleFailure(o: ResolvedSchedulerOptions, entry: Running, error: HermesError): void {
  const { job } = entry;
  const now = o.clock.now();
  if (entry.abortReason === "cancel") return; // already cancelled and announced by cancel()
  if (entry.abortReason === "shutdown") {
    o.repo.requeue(job.id, job.attempt, now);
    return;
  }
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
    const ok = o.repo.scheduleRetry(job.id, job.attempt, {
      at: new Date(at).toISOString(),
      reason: `${error.code}: ${error.message}`,
      errorMessage: error.message,
      strategy: decision.strategy,
    });
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
  const ids = o.repo.fail(job.id, job.attempt, message, now);
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
