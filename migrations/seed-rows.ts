import type { Kysely } from "kysely";
import { sql } from "kysely";
import type { SeedMigration } from "../src/config/key-types.ts";
import { seedEntries } from "./seed-config.ts";

/**
 * The system_config rows a migration seeds from the key registry (src/config/keys.ts, `since`):
 * inserted as the deployment's defaults (existing rows are kept), deleted again on the way down.
 */
export async function insertSeedRows(db: Kysely<unknown>, since: SeedMigration): Promise<void> {
  const now = new Date().toISOString();
  for (const r of seedEntries(since)) {
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

export async function deleteSeedRows(db: Kysely<unknown>, since: SeedMigration): Promise<void> {
  for (const r of seedEntries(since))
    await sql`DELETE FROM system_config WHERE config_key = ${r.config_key}`.execute(db);
}

/** A migration that only seeds settings: `export const { up, down } = seedOnly("NNN")`. */
export function seedOnly(since: SeedMigration) {
  return {
    up: (db: Kysely<unknown>) => insertSeedRows(db, since),
    down: (db: Kysely<unknown>) => deleteSeedRows(db, since),
  };
}
