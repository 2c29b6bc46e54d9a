import { promptVariablesColumn } from "./rows.ts";
import type { CompletionFields, Job, JobStatus, NewJob } from "./types.ts";

/**
 * The values the queue's writes bind, in the order of their statements' columns (statements.ts):
 * positional, because binding fifteen named parameters from an object cost a microsecond more
 * per statement than an array.
 */

/**
 * Milliseconds as an ISO string, remembering the last two (a claim binds now and now + lease; a
 * burst of transitions shares the same millisecond): toISOString was 1.5% of a job's CPU.
 */
const recent: [number, string, number, string] = [Number.NaN, "", Number.NaN, ""];
export function iso(ms: number): string {
  if (ms === recent[0]) return recent[1];
  if (ms === recent[2]) return recent[3];
  const text = new Date(ms).toISOString();
  recent[2] = recent[0];
  recent[3] = recent[1];
  recent[0] = ms;
  recent[1] = text;
  return text;
}

/** A job's insert values, in INSERT_COLUMNS order (scheduled and created at `now`). */
export function insertRow(job: NewJob, status: JobStatus, now: string): unknown[] {
  const deps = job.dependencies;
  return [
    job.threadId,
    job.parentJobId ?? null,
    job.jobSequence ?? 1,
    job.jobType,
    job.jobSubtype ?? null,
    status,
    job.priority,
    job.promptTemplate ?? null,
    promptVariablesColumn(job.promptVariables),
    job.requestedBackend ?? null,
    job.maxRetries ?? 999999,
    deps !== undefined && deps.length > 0 ? JSON.stringify(deps) : null,
    job.userId ?? null,
    job.requiredClarity ?? 0.5,
    job.achievedClarity ?? 0,
    now,
    now,
  ];
}

/**
 * The job as `insert` stores it (with its id), without reading it back: the values of insertRow
 * and the columns' defaults. Reading every column back (RETURNING) cost 1.5 µs a job, a tenth of
 * a batched job's CPU. test/store/jobs-batch.test.ts checks it against the stored row.
 */
export function insertedJob(id: number, job: NewJob, status: JobStatus, now: string): Job {
  const vars = promptVariablesColumn(job.promptVariables);
  return {
    id,
    thread_id: job.threadId,
    parent_job_id: job.parentJobId ?? null,
    job_sequence: job.jobSequence ?? 1,
    job_type: job.jobType,
    job_subtype: job.jobSubtype ?? null,
    status,
    priority: job.priority,
    prompt_template_used: job.promptTemplate ?? null,
    // As stored: what JSON keeps of the values (a read gives the same).
    prompt_variables: vars === null ? null : (JSON.parse(vars) as Record<string, unknown>),
    requested_backend: job.requestedBackend ?? null,
    backend_used: null,
    model_used: null,
    retry_count: 0,
    max_retries: job.maxRetries ?? 999999,
    retry_reasons: [],
    recovery_strategy: null,
    error_message: null,
    dependencies: job.dependencies === undefined ? [] : [...job.dependencies],
    scheduled_date: now,
    started_date: null,
    completed_date: null,
    created_date: now,
    attempt: 0,
    lease_owner: null,
    lease_expires_at: null,
    cancel_requested: 0,
    user_id: job.userId ?? null,
    full_result: null,
    result_summary: null,
    cost_cents: 0,
    execution_time_seconds: 0,
    user_feedback: null,
  };
}

/** A completion's values, in COMPLETE_COLUMNS order, then the job's id and attempt. */
export function completionRow(id: number, attempt: number, f: CompletionFields, now: string): unknown[] {
  return [
    f.fullResult,
    f.resultSummary,
    f.backendUsed,
    f.modelUsed,
    Math.round(f.costCents),
    f.executionSeconds,
    f.processingSeconds,
    f.queueSeconds,
    f.backendConfidence ?? 0,
    f.modelConfidence ?? 0,
    f.fallbackUsed ? 1 : 0,
    f.backendUsed,
    now,
    id,
    attempt,
  ];
}

/**
 * The job as `complete` leaves it, from the job as claimed (the attempt that completed: nothing
 * else writes a running job's row but its own lease renewals, which completion clears), without
 * reading it back. test/queue/scheduler.test.ts checks it against the stored row.
 */
export function completedJob(claimed: Job, f: CompletionFields, nowMs: number): Job {
  return {
    ...claimed,
    status: "completed",
    full_result: f.fullResult,
    result_summary: f.resultSummary,
    backend_used: f.backendUsed,
    model_used: f.modelUsed,
    cost_cents: Math.round(f.costCents),
    execution_time_seconds: f.executionSeconds,
    completed_date: iso(nowMs),
    lease_owner: null,
    lease_expires_at: null,
    error_message: null,
  };
}
