import type { Kysely } from "kysely";
import { SEED_CONFIG } from "./seed-config.ts";

/**
 * 002 — the spec's system_config seed ("Initial Data Seeding"), every row, with what Hermes adds:
 * default_value (= the seeded value, for reset), min/max ranges, validation regexes,
 * requires_restart, updated_by = 'deployment'. value_type arrives with 003 (the column is Hermes').
 */

// biome-ignore lint/suspicious/noExplicitAny: migrations run against whatever schema exists at that point
export async function up(db: Kysely<any>): Promise<void> {
  const now = new Date().toISOString();
  await db
    .insertInto("system_config")
    .values(
      SEED_CONFIG.map((entry) => ({
        config_key: entry.config_key,
        config_value: entry.config_value,
        config_type: entry.config_type,
        config_category: entry.config_category,
        description: entry.description,
        is_user_editable: entry.is_user_editable ? 1 : 0,
        requires_restart: entry.requires_restart ? 1 : 0,
        validation_regex: entry.validation_regex ?? null,
        created_date: now,
        last_updated: now,
        updated_by: "deployment",
        default_value: entry.config_value,
        min_value: entry.min_value ?? null,
        max_value: entry.max_value ?? null,
      })),
    )
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db
    .deleteFrom("system_config")
    .where(
      "config_key",
      "in",
      SEED_CONFIG.map((entry) => entry.config_key),
    )
    .execute();
}
