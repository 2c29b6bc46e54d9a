import type { Kysely } from "kysely";
import { sql } from "kysely";

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

interface Row {
  key: string;
  value: string;
  type: "constraint" | "preference" | "system_setting" | "budget";
  description: string;
  valueType: "int" | "bool" | "string" | "list";
  min?: string;
  max?: string;
  regex?: string;
}

const CONCURRENCY = { valueType: "int", min: "1", max: "64", type: "constraint" } as const;

const ROWS: readonly Row[] = [
  {
    key: "hermes.budget.price_table",
    value: "{}",
    type: "budget",
    description:
      'Model prices in cents per million tokens, overriding the built-in table: {"model": [input, output]} or {"backend:model": …}',
    valueType: "string",
    regex: "^\\{[\\s\\S]*\\}$",
  },
  {
    key: "hermes.budget.default_max_output_tokens",
    value: "4096",
    type: "budget",
    description: "Output cap of a paid call that sets none; its budget reservation is computed against it",
    valueType: "int",
    min: "1",
    max: "200000",
  },
  {
    key: "backend.ollama.enabled",
    value: "true",
    type: "system_setting",
    description: "Enable the local Ollama backend (OLLAMA_HOST)",
    valueType: "bool",
    regex: "^(true|false)$",
  },
  {
    key: "backend.ollama.models",
    value: "",
    type: "system_setting",
    description: "Local Ollama models (empty: discovered by the health check)",
    valueType: "list",
    regex: "^([^,\\s]+(,[^,\\s]+)*)?$",
  },
  { key: "backend.ollama.concurrency", value: "1", description: "Ollama: jobs at once", ...CONCURRENCY },
  { key: "backend.talos.concurrency", value: "1", description: "Talos: jobs at once", ...CONCURRENCY },
  {
    key: "backend.remote_api.concurrency",
    value: "4",
    description: "Remote API: jobs at once",
    ...CONCURRENCY,
  },
  {
    key: "backend.server_models.concurrency",
    value: "2",
    description: "Server models: jobs at once",
    ...CONCURRENCY,
  },
  { key: "backend.gpt5.concurrency", value: "4", description: "GPT-5: jobs at once", ...CONCURRENCY },
];

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
      VALUES (${r.key}, ${r.value}, ${r.type}, 'hermes', ${r.description}, 1, 0, ${r.regex ?? null}, ${now}, ${now},
        'deployment', ${r.value}, ${r.min ?? null}, ${r.max ?? null}, ${r.valueType})`.execute(db);
  }
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  for (const r of ROWS) await sql`DELETE FROM system_config WHERE config_key = ${r.key}`.execute(db);
  await sql`DROP TABLE IF EXISTS budget_totals`.execute(db);
  await sql`DROP INDEX IF EXISTS idx_selection_history_job`.execute(db);
  await sql`DROP INDEX IF EXISTS idx_budget_ledger_thread`.execute(db);
  await sql`ALTER TABLE backends DROP COLUMN enabled_override`.execute(db);
  await sql`ALTER TABLE backends DROP COLUMN origin`.execute(db);
}
