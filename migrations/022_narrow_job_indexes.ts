import type { Kysely } from "kysely";
import { sql } from "kysely";

/**
 * 022 — the jobs table had nine indexes, six of them leading with or filtered on `status`, so
 * every transition (enqueue, claim, complete) rewrote most of them: ~4× the WAL pages per
 * transition of a plain SQLite queue (issue 17). Each query on `jobs` now has one narrow index,
 * and an index holds only the rows its query reads (partial on the one status it asks for), so a
 * job is in at most three indexes at a time and a transition touches two or three:
 * - ready to claim: idx_jobs_ready (004, unchanged);
 * - the next retry's time (the scheduler's timer) and pulling retries forward: idx_jobs_retry_due
 *   — only 'retrying' jobs (a queued job is due when queued, so idx_jobs_due held every
 *   enqueued job for nothing);
 * - running jobs (leases, expired leases, the running list): idx_jobs_running;
 * - jobs waiting on a dependency (promoted or failed with it): idx_jobs_pending;
 * - completed jobs (recent run times, today's cost): idx_jobs_completed;
 * - a thread's jobs: idx_jobs_thread_id (001, unchanged; written once per job);
 * - a job's children (the parent key's foreign-key checks): only jobs that have a parent;
 * - rated drafts (what the question model learns from, read at start): idx_jobs_rated — it read
 *   every job; a rating is the only write that touches it.
 * A count by status comes from status_counts (010). The plans are checked in
 * test/store/job-index-plans.test.ts.
 */
const DROPPED: Record<string, string> = {
  idx_jobs_status_priority_scheduled: "ON jobs (status, priority, scheduled_date)",
  idx_jobs_status_lease_expires: "ON jobs (status, lease_expires_at)",
  idx_jobs_status_id: "ON jobs (status, id)",
  idx_jobs_status_completed: "ON jobs (status, completed_date)",
  idx_jobs_active: "ON jobs (thread_id) WHERE status IN ('pending','queued','retrying','running')",
  idx_jobs_due: "ON jobs (scheduled_date) WHERE status IN ('queued','retrying')",
  idx_jobs_parent_job_id: "ON jobs (parent_job_id)",
};

const CREATED: Record<string, string> = {
  idx_jobs_retry_due: "ON jobs (scheduled_date) WHERE status = 'retrying'",
  idx_jobs_running: "ON jobs (thread_id) WHERE status = 'running'",
  idx_jobs_pending: "ON jobs (thread_id) WHERE status = 'pending'",
  idx_jobs_completed: "ON jobs (completed_date) WHERE status = 'completed'",
  idx_jobs_parent: "ON jobs (parent_job_id) WHERE parent_job_id IS NOT NULL",
  idx_jobs_rated: "ON jobs (thread_id) WHERE user_feedback IS NOT NULL",
};

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const name of Object.keys(DROPPED)) await sql.raw(`DROP INDEX IF EXISTS ${name}`).execute(db);
  for (const [name, on] of Object.entries(CREATED)) await sql.raw(`CREATE INDEX ${name} ${on}`).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const name of Object.keys(CREATED)) await sql.raw(`DROP INDEX IF EXISTS ${name}`).execute(db);
  for (const [name, on] of Object.entries(DROPPED)) await sql.raw(`CREATE INDEX ${name} ${on}`).execute(db);
}
