import type { Kysely } from "kysely";
import { sql } from "kysely";
import { seedEntries } from "./seed-config.ts";

/**
 * 018 — hermes.learning.random_seed: the learners' randomness comes from configuration, so a
 * benchmark run (or a reported behaviour) can be repeated exactly; 0 keeps a new seed per start.
 */
const CONFIG = seedEntries("018");

export async function up(db: Kysely<unknown>): Promise<void> {
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
  for (const r of CONFIG) await sql`DELETE FROM system_config WHERE config_key = ${r.config_key}`.execute(db);
}
