import type { Kysely } from "kysely";
import { sql } from "kysely";
import { seedEntries } from "./seed-config.ts";

/**
 * 008 — Telegram transport state:
 * - telegram_messages: which bot message belongs to which thread (acknowledgement, questions,
 *   drafts), so replying to any of them continues that thread, and a question's buttons find it;
 * - guest mode and per-user limits as system_config rows.
 */
/** The config rows come from the key registry (src/config/keys.ts, `since: "008"`). */
const CONFIG = seedEntries("008");

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
  const now = new Date().toISOString();
  for (const r of CONFIG) {
    await sql`INSERT OR IGNORE INTO system_config (config_key, config_value, config_type, config_category, description,
        is_user_editable, requires_restart, validation_regex, created_date, last_updated, updated_by, default_value,
        min_value, max_value, value_type)
      VALUES (${r.config_key}, ${r.config_value}, ${r.config_type}, ${r.config_category}, ${r.description},
        ${r.is_user_editable ? 1 : 0}, ${r.requires_restart ? 1 : 0}, ${r.validation_regex ?? null}, ${now}, ${now},
        'deployment', ${r.config_value}, ${r.min_value ?? null}, ${r.max_value ?? null}, ${r.value_type})`.execute(
      db,
    );
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE IF EXISTS telegram_messages`.execute(db);
  for (const r of CONFIG) await sql`DELETE FROM system_config WHERE config_key = ${r.config_key}`.execute(db);
}
