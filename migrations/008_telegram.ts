import type { Kysely } from "kysely";
import { sql } from "kysely";

/**
 * 008 — Telegram transport state:
 * - telegram_messages: which bot message belongs to which thread (acknowledgement, questions,
 *   drafts), so replying to any of them continues that thread, and a question's buttons find it;
 * - guest mode and per-user limits as system_config rows.
 */
const CONFIG: [
  key: string,
  value: string,
  type: string,
  valueType: string,
  description: string,
  min: string | null,
  max: string | null,
  regex: string | null,
][] = [
  [
    "hermes.guests.mode",
    "refuse",
    "preference",
    "enum",
    "Non-owners: refuse, or limited (local backends only, daily quota)",
    null,
    null,
    "^(refuse|limited)$",
  ],
  [
    "hermes.guests.daily_quota",
    "3",
    "constraint",
    "int",
    "Ideas a guest may send per day in limited mode",
    "0",
    "1000",
    null,
  ],
  [
    "hermes.web.ideas_per_minute",
    "10",
    "constraint",
    "int",
    "Ideas one user may submit per minute (rate limit)",
    "1",
    "1000",
    null,
  ],
];

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
  for (const [key, value, type, valueType, description, min, max, regex] of CONFIG) {
    await sql`INSERT OR IGNORE INTO system_config (config_key, config_value, config_type, config_category, description,
        is_user_editable, requires_restart, validation_regex, created_date, last_updated, updated_by, default_value,
        min_value, max_value, value_type)
      VALUES (${key}, ${value}, ${type}, 'hermes', ${description}, 1, 0, ${regex}, ${now}, ${now}, 'deployment', ${value},
        ${min}, ${max}, ${valueType})`.execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE IF EXISTS telegram_messages`.execute(db);
  for (const [key] of CONFIG) await sql`DELETE FROM system_config WHERE config_key = ${key}`.execute(db);
}
