import type { Kysely } from "kysely";
import { sql } from "kysely";

/**
 * 023 — an index on every foreign key's child column. With foreign_keys = ON, deleting a parent
 * row makes SQLite look for its children; without an index on the child column that is a scan of
 * the child table per deleted row. /forget of a guest beside the owner's history was quadratic:
 * the guest's jobs each scanned the owner's conversations (2,000 of 4,000 ideas: 455 ms; 4,000 of
 * 8,000: 1,771 ms; with these indexes 72 and 144 ms). jobs (parent_job_id) already has one (022).
 * Children of `backends` are left alone: a backend row is never deleted. The duplicate index on
 * backend_selection_history (job_id) goes (007 made it again under another name).
 */
const CREATED: Record<string, string> = {
  idx_conversations_job: "ON conversations (job_id)",
  idx_backend_performance_job: "ON backend_performance (job_id)",
  idx_external_callbacks_thread: "ON external_callbacks (thread_id)",
  idx_telegram_outbox_thread: "ON telegram_outbox (thread_id)",
  idx_learned_patterns_supersedes: "ON learned_patterns (supersedes_pattern_id)",
  idx_learned_patterns_parent: "ON learned_patterns (parent_pattern_id)",
};

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`DROP INDEX IF EXISTS idx_backend_selection_history_job_id`.execute(db);
  for (const [name, on] of Object.entries(CREATED)) await sql.raw(`CREATE INDEX ${name} ${on}`).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const name of Object.keys(CREATED)) await sql.raw(`DROP INDEX IF EXISTS ${name}`).execute(db);
  await sql`CREATE INDEX idx_backend_selection_history_job_id ON backend_selection_history (job_id)`.execute(
    db,
  );
}
