import type { Kysely } from "kysely";
import { sql } from "kysely";
import { deleteSeedRows, insertSeedRows } from "./seed-rows.ts";

/**
 * 008 — Telegram transport state:
 * - telegram_messages: which bot message belongs to which thread (acknowledgement, questions,
 *   drafts), so replying to any of them continues that thread, and a question's buttons find it;
 * - guest mode and per-user limits as system_config rows (from the key registry,
 *   src/config/keys.ts, `since: "008"`).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE TABLE telegram_messages (
    chat_id TEXT NOT NULL,
    message_id INTEGER NOT NULL,
    thread_id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (chat_id, message_id)
  )`.execute(db);
  await sql`CREATE INDEX idx_telegram_messages_thread ON telegram_messages (thread_id)`.execute(db);
  await insertSeedRows(db, "008");
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE IF EXISTS telegram_messages`.execute(db);
  await deleteSeedRows(db, "008");
}
