import type { HermesError } from "../errors.ts";

export interface RetrySettings {
  /** First backoff step. */
  baseDelayMs: number;
  /** Cap on one backoff step (`talos.execution.retry_interval`). */
  maxDelayMs: number;
  /** Stop retrying once the job is this old (`hermes.talos.max_retry_duration`). */
  maxRetryDurationMs: number;
}

export type RetryDecision =
  | { retry: true; delayMs: number; strategy: string }
  | { retry: false; reason: string };

export interface RetryInput {
  retryCount: number;
  maxRetries: number;
  createdAtMs: number;
}

/**
 * Exponential backoff with "equal jitter" (half fixed, half random) so a crowd of jobs waiting on
 * the same dead backend does not hit it in lockstep; capped; a server's Retry-After wins when longer.
 */
export function decideRetry(
  job: RetryInput,
  error: HermesError,
  nowMs: number,
  settings: RetrySettings,
  random: () => number = Math.random,
): RetryDecision {
  if (!error.retryable) return { retry: false, reason: "the error is not one that retrying can fix" };
  if (job.retryCount >= job.maxRetries) {
    return { retry: false, reason: `gave up after ${job.retryCount} retries (max_retries)` };
  }
  const age = nowMs - job.createdAtMs;
  if (age >= settings.maxRetryDurationMs) {
    return {
      retry: false,
      reason: `gave up after ${Math.round(age / 1000)} s of retrying (hermes.talos.max_retry_duration)`,
    };
  }
  const exp = Math.min(settings.maxDelayMs, settings.baseDelayMs * 2 ** Math.min(job.retryCount, 30));
  let delayMs = exp / 2 + random() * (exp / 2);
  let strategy = `backoff ${Math.round(delayMs)} ms (attempt ${job.retryCount + 1})`;
  if (error.retryAfter !== undefined && error.retryAfter * 1000 > delayMs) {
    delayMs = error.retryAfter * 1000;
    strategy = `retry-after ${error.retryAfter} s from the backend`;
  }
  // Never schedule past the deadline by more than needed: one last try at the deadline.
  delayMs = Math.min(delayMs, Math.max(0, settings.maxRetryDurationMs - age));
  return { retry: true, delayMs: Math.round(delayMs), strategy };
}
