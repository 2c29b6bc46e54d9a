import type { Kysely } from "kysely";
import type { Clock } from "../../clock.ts";
import type { Job, NewJob, QueueJob } from "../../store/jobs/repo.ts";
import type { Database } from "../../store/schema.ts";
import type { ThreadsRepo } from "../../store/threads/repo.ts";

/**
 * The shapes of the thread read model (ThreadQueries, queries.ts) and the bits its parts
 * share: what they need (ThreadQueriesDeps), the job columns they read, the clock as ISO text.
 */

/** The part of JobQueue used here (JobQueue satisfies it). */
export interface ThreadQueuePort {
  enqueue(job: NewJob): QueueJob;
  cancel(jobId: number, reason?: string): number[];
  activeForThread(threadId: number): QueueJob[];
  depth(): number;
}

export interface ThreadQueriesDeps {
  db: Kysely<Database>;
  threads: ThreadsRepo;
  queue: ThreadQueuePort;
  clock: Pick<Clock, "now">;
}

/** The job columns the thread read model shows: a view of the one Job type, not a second one. */
export type JobRecord = Pick<Job, (typeof JOB_COLUMNS)[number]>;

export type ThreadStage =
  | "queued"
  | "drafting"
  | "waiting_for_answers"
  | "refining"
  | "retrying"
  | "done"
  | "failed"
  | "cancelled";

export interface ThreadProgress {
  stage: ThreadStage;
  percent: number;
  jobs_total: number;
  jobs_completed: number;
  jobs_active: number;
  jobs_failed: number;
  jobs_cancelled: number;
  clarity: number;
  drafts: number;
}

export const JOB_COLUMNS = [
  "id",
  "thread_id",
  "parent_job_id",
  "job_sequence",
  "job_type",
  "job_subtype",
  "status",
  "backend_used",
  "model_used",
  "result_summary",
  "full_result",
  "error_message",
  "retry_count",
  "cost_cents",
  "user_feedback",
  "scheduled_date",
  "created_date",
  "started_date",
  "completed_date",
  "execution_time_seconds",
] as const;

export function nowIso(d: ThreadQueriesDeps): string {
  return new Date(d.clock.now()).toISOString();
}

/** Marks the thread active now. */
export async function touchThread(d: ThreadQueriesDeps, threadId: number, now: string): Promise<void> {
  await d.db.updateTable("idea_threads").set({ last_active: now }).where("id", "=", threadId).execute();
}
