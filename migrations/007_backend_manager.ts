import type { Kysely } from "kysely";
import { sql } from "kysely";
import { seedEntries } from "./seed-config.ts";

/**
 * 007 — what the backend manager adds:
 * - backends.origin ('config' = built from system_config + env at start; 'runtime' = added through
 *   the API / /backends and rebuilt from its row) and backends.enabled_override (NULL = follow
 *   backend.<name>.enabled; 0/1 = set at runtime by /backends, survives restarts);
 * - budget_totals: running settled/reserved cents per UTC day ('day:YYYY-MM-DD') and per thread
 *   ('thread:<id>'), kept in the ledger's transactions, so the budget check reads two rows;
 * - indexes for the ledger's per-thread rows and the selection history's per-job lookups;
 * - config rows: the price table (JSON overrides, cents per million tokens), the output cap a paid
 *   call reserves against, the local Ollama backend's rows, per-backend concurrency.
 */

/** The config rows come from the key registry (src/config/keys.ts, `since: "007"`). */
const ROWS = seedEntries("007");

// biome-ignore lint/suspicious/noExplicitAny: migrations run against whatever schema exists at that point
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE backends ADD COLUMN origin TEXT DEFAULT 'config'`.execute(db);
  await sql`ALTER TABLE backends ADD COLUMN enabled_override INTEGER`.execute(db);
  await sql`CREATE INDEX IF NOT EXISTS idx_budget_ledger_thread ON budget_ledger (thread_id, state)`.execute(
    db,
  );
  await sql`CREATE INDEX IF NOT EXISTS idx_selection_history_job ON backend_selection_history (job_id)`.execute(
    db,
  );
  await sql`CREATE TABLE budget_totals (
    scope TEXT PRIMARY KEY NOT NULL,
    settled_cents REAL NOT NULL DEFAULT 0,
    reserved_cents REAL NOT NULL DEFAULT 0
  )`.execute(db);
  for (const [scope, where] of [
    ["'day:' || day", "1 = 1"],
    ["'thread:' || thread_id", "thread_id IS NOT NULL"],
  ] as const) {
    await sql
      .raw(`INSERT INTO budget_totals (scope, settled_cents, reserved_cents)
        SELECT ${scope}, COALESCE(SUM(CASE WHEN state = 'settled' THEN actual_cents END), 0),
          COALESCE(SUM(CASE WHEN state = 'reserved' THEN reserved_cents END), 0)
        FROM budget_ledger WHERE ${where} GROUP BY ${scope}`)
      .execute(db);
  }
  const now = new Date().toISOString();
  for (const r of ROWS) {
    await sql`INSERT OR IGNORE INTO system_config (config_key, config_value, config_type, config_category,
        description, is_user_editable, requires_restart, validation_regex, created_date, last_updated, updated_by,
        default_value, min_value, max_value, value_type)
      VALUES (${r.config_key}, ${r.config_value}, ${r.config_type}, ${r.config_category}, ${r.description},
        ${r.is_user_editable ? 1 : 0}, ${r.requires_restart ? 1 : 0}, ${r.validation_regex ?? null}, ${now}, ${now},
        'deployment', ${r.config_value}, ${r.min_value ?? null}, ${r.max_value ?? null}, ${r.value_type})`.execute(
      db,
    );
  }
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  for (const r of ROWS) await sql`DELETE FROM system_config WHERE config_key = ${r.config_key}`.execute(db);
  await sql`DROP TABLE IF EXISTS budget_totals`.execute(db);
  await sql`DROP INDEX IF EXISTS idx_selection_history_job`.execute(db);
  await sql`DROP INDEX IF EXISTS idx_budget_ledger_thread`.execute(db);
  await sql`ALTER TABLE backends DROP COLUMN enabled_override`.execute(db);
  await sql`ALTER TABLE backends DROP COLUMN origin`.execute(db);
}
