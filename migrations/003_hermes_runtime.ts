import type { Kysely } from "kysely";
import { sql } from "kysely";
import { SEED_CONFIG } from "./seed-config.ts";

/**
 * 003 — Hermes' runtime additions to the spec's schema:
 * - idea_threads: who owns the thread and where it came from (Telegram chat, API callback, CLI),
 *   plus the clarity slots (JSON) the engine fills while questions are answered;
 * - jobs: the durable-queue lease (owner, expiry, `attempt` fencing token incremented at every claim
 *   — a completion must carry the current value), cancel flag, requested/final backend, fallback;
 * - system_config.value_type, set for every seeded row;
 * - kv_store (grammY conversations storage), budget_ledger (reserve before, settle after),
 *   alert_log (alert cooldowns).
 * All dates Hermes writes are ISO-8601 strings (`new Date().toISOString()`).
 */

const COLUMNS: ReadonlyArray<readonly [table: string, column: string, definition: string]> = [
  ["idea_threads", "user_id", "TEXT"],
  ["idea_threads", "chat_id", "TEXT"],
  ["idea_threads", "source", "TEXT DEFAULT 'telegram'"],
  ["idea_threads", "callback_url", "TEXT"],
  ["idea_threads", "clarity_slots", "TEXT"],
  ["jobs", "created_date", "TEXT"],
  ["jobs", "lease_owner", "TEXT"],
  ["jobs", "lease_expires_at", "TEXT"],
  ["jobs", "attempt", "INTEGER DEFAULT 0"],
  ["jobs", "requested_backend", "TEXT"],
  ["jobs", "cancel_requested", "INTEGER DEFAULT 0"],
  ["jobs", "fallback_used", "INTEGER DEFAULT 0"],
  ["jobs", "final_backend", "TEXT"],
  ["jobs", "user_id", "TEXT"],
  ["system_config", "value_type", "TEXT"],
];

const TABLES: readonly string[] = [
  `CREATE TABLE kv_store (
    key TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL,
    updated_at TEXT NOT NULL
  )`,
  `CREATE TABLE budget_ledger (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    day TEXT NOT NULL,                             -- UTC day, YYYY-MM-DD
    thread_id INTEGER,
    job_id INTEGER,
    backend TEXT NOT NULL,
    model TEXT,
    reserved_cents REAL NOT NULL,
    actual_cents REAL,
    state TEXT NOT NULL DEFAULT 'reserved',        -- reserved, settled, released
    created_at TEXT NOT NULL,
    settled_at TEXT
  )`,
  `CREATE TABLE alert_log (
    alert_type TEXT NOT NULL,
    alert_key TEXT NOT NULL,
    last_sent_at TEXT NOT NULL,
    count INTEGER DEFAULT 1,
    PRIMARY KEY (alert_type, alert_key)
  )`,
];

const INDEXES: ReadonlyArray<readonly [name: string, on: string]> = [
  ["idx_budget_ledger_day_state", "budget_ledger (day, state)"],
  ["idx_jobs_status_lease_expires", "jobs (status, lease_expires_at)"],
  ["idx_idea_threads_user_last_active", "idea_threads (user_id, last_active)"],
];

// biome-ignore lint/suspicious/noExplicitAny: migrations run against whatever schema exists at that point
export async function up(db: Kysely<any>): Promise<void> {
  for (const [table, column, definition] of COLUMNS) {
    await sql.raw(`ALTER TABLE ${table} ADD COLUMN ${column} ${definition}`).execute(db);
  }
  for (const statement of TABLES) {
    await sql.raw(statement).execute(db);
  }
  for (const [name, on] of INDEXES) {
    await sql.raw(`CREATE INDEX ${name} ON ${on}`).execute(db);
  }
  for (const entry of SEED_CONFIG) {
    await db
      .updateTable("system_config")
      .set({ value_type: entry.value_type })
      .where("config_key", "=", entry.config_key)
      .execute();
  }
  // Jobs written before this migration: their creation is best known by when they were scheduled.
  await sql`
    UPDATE jobs
    SET created_date = COALESCE(strftime('%Y-%m-%dT%H:%M:%fZ', scheduled_date), scheduled_date)
    WHERE created_date IS NULL
  `.execute(db);
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  for (const [name] of INDEXES) {
    await sql.raw(`DROP INDEX IF EXISTS ${name}`).execute(db);
  }
  for (const table of ["alert_log", "budget_ledger", "kv_store"]) {
    await sql.raw(`DROP TABLE IF EXISTS ${table}`).execute(db);
  }
  for (const [table, column] of [...COLUMNS].reverse()) {
    await sql.raw(`ALTER TABLE ${table} DROP COLUMN ${column}`).execute(db);
  }
}
