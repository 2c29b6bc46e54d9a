import type { AnyKeyDef, KeyType, SeedMigration } from "../src/config/key-types.ts";
import { registryEntries } from "../src/config/keys.ts";

/**
 * The seed of `system_config`, copied from the key registry (src/config/keys.ts): every key with
 * the migration that first inserts it (002: the spec's "Initial Data Seeding" rows, in the spec's
 * order; 006, 007, 008: Hermes' later rows). Each row carries what the spec fills (key, value,
 * config_type, config_category, description, is_user_editable) plus Hermes' columns: value_type, a
 * min/max range, a validation regex, requires_restart, and whether the value is a secret.
 *
 * These migrations have run on existing databases, so a key added to the registry later reaches
 * only new databases through them: add new keys with a new migration that inserts seedEntries("NNN").
 *
 * Conventions for the config layer:
 * - `min_value` / `max_value` are inclusive numeric bounds, stored as text (like the values).
 * - `validation_regex` is a JavaScript RegExp source, tested against the whole value (it is anchored).
 * - bool values are the strings 'true' / 'false'; list values are comma-separated, no spaces.
 */

/** How `config_value` is parsed and validated (the system_config.value_type column). */
export type ConfigValueType = "int" | "float" | "bool" | "string" | "list" | "cron" | "url" | "enum";

export const CONFIG_VALUE_TYPES: readonly ConfigValueType[] = [
  "int",
  "float",
  "bool",
  "string",
  "list",
  "cron",
  "url",
  "enum",
];

/** The spec's `config_type` vocabulary. */
export type ConfigType = "constraint" | "preference" | "system_setting" | "budget";

export interface SeedConfigEntry {
  readonly config_key: string;
  readonly config_value: string;
  readonly config_type: ConfigType;
  readonly config_category: "hermes" | "talos";
  readonly description: string;
  readonly is_user_editable: boolean;
  readonly value_type: ConfigValueType;
  readonly min_value?: string;
  readonly max_value?: string;
  readonly validation_regex?: string;
  readonly requires_restart?: boolean;
  /** API keys and tokens: masked by the config API, never logged. */
  readonly secret?: boolean;
}

/** A JSON setting is stored as text: the column's vocabulary has no 'json'. */
const valueType = (type: KeyType): ConfigValueType => (type === "json" ? "string" : type);

function entryOf(key: string, def: AnyKeyDef): SeedConfigEntry {
  return {
    config_key: key,
    config_value: def.format(def.default),
    config_type: def.kind,
    config_category: key.startsWith("talos.") ? "talos" : "hermes",
    description: def.description,
    is_user_editable: def.editable,
    value_type: valueType(def.type),
    ...(def.min !== undefined ? { min_value: String(def.min) } : {}),
    ...(def.max !== undefined ? { max_value: String(def.max) } : {}),
    ...(def.regex !== undefined ? { validation_regex: def.regex } : {}),
    requires_restart: def.requiresRestart,
    secret: def.secret,
  };
}

/** The rows migration `since` inserts, in registry order. */
export function seedEntries(since: SeedMigration): readonly SeedConfigEntry[] {
  return registryEntries()
    .filter(([, def]) => def.since === since)
    .map(([key, def]) => entryOf(key, def));
}

export const SEED_CONFIG: readonly SeedConfigEntry[] = seedEntries("002");
