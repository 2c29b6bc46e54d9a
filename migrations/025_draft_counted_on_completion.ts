import type { Kysely } from "kysely";
import { sql } from "kysely";

/**
 * 025 — a completed job counts as a draft of its thread in the completion's own transaction.
 * The engine used to count it afterwards (UPDATE idea_threads … draft_count + 1 when it relayed the
 * "completed" event): one more commit per idea (~45 µs and a few WAL frames), and a crash between
 * the two left the job completed but its thread's draft_count and final_result_summary behind for
 * good. Now both are one commit: a draft is counted exactly when its job is completed, never lost
 * and never twice (the WHEN clause ignores an update that leaves a completed job completed).
 * Jobs inserted already finished (external results: INSERT, not UPDATE) are still counted by
 * ThreadsRepo.recordDraft.
 */
const TRIGGER = `CREATE TRIGGER trg_jobs_draft_counted AFTER UPDATE OF status ON jobs
  WHEN NEW.status = 'completed' AND OLD.status IS NOT 'completed'
  BEGIN
    UPDATE idea_threads SET draft_count = draft_count + 1,
      final_result_summary = coalesce(NEW.result_summary, ''),
      last_active = coalesce(NEW.completed_date, last_active)
    WHERE id = NEW.thread_id;
  END`;

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql.raw(TRIGGER).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TRIGGER IF EXISTS trg_jobs_draft_counted`.execute(db);
}
