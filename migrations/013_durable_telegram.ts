import type { Kysely } from "kysely";
import { sql } from "kysely";

/**
 * 013 — Telegram deliveries and updates survive a restart:
 * - telegram_outbox: a draft or a failure notice owed to a Telegram chat, written when the job
 *   ends and marked delivered once Telegram accepted it; what a stopping or crashed process did not
 *   send goes at the next start;
 * - telegram_updates: the update_ids already handled, so an update Telegram delivers again (it
 *   forgets one only when a later getUpdates confirms it) is not handled twice. Pruned by age.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE TABLE telegram_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    thread_id INTEGER NOT NULL REFERENCES idea_threads(id) ON DELETE CASCADE,
    job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    error_json TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    delivered_at TEXT,
    UNIQUE (job_id, kind)
  )`.execute(db);
  await sql`CREATE INDEX idx_telegram_outbox_pending ON telegram_outbox (id) WHERE delivered_at IS NULL`.execute(
    db,
  );
  await sql`CREATE TABLE telegram_updates (
    bot_id TEXT NOT NULL,
    update_id INTEGER NOT NULL,
    handled_at INTEGER NOT NULL,
    PRIMARY KEY (bot_id, update_id)
  )`.execute(db);
  await sql`CREATE INDEX idx_telegram_updates_age ON telegram_updates (handled_at)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE IF EXISTS telegram_updates`.execute(db);
  await sql`DROP TABLE IF EXISTS telegram_outbox`.execute(db);
}
