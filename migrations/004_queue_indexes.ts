import type { Kysely } from "kysely";
import { sql } from "kysely";

/**
 * 004 — partial indexes for the queue's hot queries. The claim query orders ready jobs by
 * (priority DESC, id); with `status IN ('queued','retrying')` the general status index cannot
 * give that order, so every claim sorted all ready jobs (O(n) per claim, O(n²) for a burst).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE INDEX IF NOT EXISTS idx_jobs_ready ON jobs (priority DESC, id)
    WHERE status IN ('queued','retrying')`.execute(db);
  await sql`CREATE INDEX IF NOT EXISTS idx_jobs_due ON jobs (scheduled_date)
    WHERE status IN ('queued','retrying')`.execute(db);
  await sql`CREATE INDEX IF NOT EXISTS idx_jobs_active ON jobs (thread_id)
    WHERE status IN ('pending','queued','retrying','running')`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP INDEX IF EXISTS idx_jobs_ready`.execute(db);
  await sql`DROP INDEX IF EXISTS idx_jobs_due`.execute(db);
  await sql`DROP INDEX IF EXISTS idx_jobs_active`.execute(db);
}
