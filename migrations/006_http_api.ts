import type { Kysely } from "kysely";
import { sql } from "kysely";
import { type SeedConfigEntry, seedEntries } from "./seed-config.ts";

/**
 * 006 — what the HTTP API and operations need:
 * - external_callbacks: durable outbox of result callbacks to external services (`POST
 *   /api/external/submit` with a callback_url). A delivery survives a restart; it is retried with
 *   exponential backoff until `hermes.api.callback_max_attempts`, then marked failed.
 * - config_changes: who changed which setting when (secrets stored masked, never in clear).
 * - system_config rows for backups, API limits and the callback signing secret.
 */

/** Its rows come from the key registry (src/config/keys.ts, `since: "006"`). */
export const HTTP_API_CONFIG: readonly SeedConfigEntry[] = seedEntries("006");

const TABLES: readonly string[] = [
  `CREATE TABLE external_callbacks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    thread_id INTEGER NOT NULL,
    job_id INTEGER,
    event TEXT NOT NULL,                           -- job.completed, job.failed
    url TEXT NOT NULL,
    body TEXT NOT NULL,                            -- the exact bytes signed and sent
    status TEXT NOT NULL DEFAULT 'pending',        -- pending, delivered, failed
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_status INTEGER,
    last_error TEXT,
    created_at TEXT NOT NULL,
    delivered_at TEXT,
    FOREIGN KEY (thread_id) REFERENCES idea_threads (id)
  )`,
  `CREATE UNIQUE INDEX idx_external_callbacks_job_event ON external_callbacks (job_id, event)`,
  `CREATE INDEX idx_external_callbacks_due ON external_callbacks (next_attempt_at) WHERE status = 'pending'`,
  `CREATE TABLE config_changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    config_key TEXT NOT NULL,
    old_value TEXT,                                -- masked when the key is a secret
    new_value TEXT,                                -- masked when the key is a secret
    changed_by TEXT NOT NULL,                      -- api:<client>, telegram:<user>, cli, deployment
    changed_at TEXT NOT NULL,
    requires_restart INTEGER NOT NULL DEFAULT 0
  )`,
  `CREATE INDEX idx_config_changes_key ON config_changes (config_key, changed_at)`,
];

// biome-ignore lint/suspicious/noExplicitAny: migrations run against whatever schema exists at that point
export async function up(db: Kysely<any>): Promise<void> {
  for (const statement of TABLES) await sql.raw(statement).execute(db);
  const now = new Date().toISOString();
  for (const entry of HTTP_API_CONFIG) {
    await db
      .insertInto("system_config")
      .values({
        config_key: entry.config_key,
        config_value: entry.config_value,
        config_type: entry.config_type,
        config_category: entry.config_category,
        description: entry.description,
        is_user_editable: entry.is_user_editable ? 1 : 0,
        requires_restart: entry.requires_restart ? 1 : 0,
        validation_regex: entry.validation_regex ?? null,
        value_type: entry.value_type,
        created_date: now,
        last_updated: now,
        updated_by: "deployment",
        default_value: entry.config_value,
        min_value: entry.min_value ?? null,
        max_value: entry.max_value ?? null,
      })
      .onConflict((oc) => oc.column("config_key").doNothing())
      .execute();
  }
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db
    .deleteFrom("system_config")
    .where(
      "config_key",
      "in",
      HTTP_API_CONFIG.map((e) => e.config_key),
    )
    .execute();
  for (const table of ["config_changes", "external_callbacks"]) {
    await sql.raw(`DROP TABLE IF EXISTS ${table}`).execute(db);
  }
}
