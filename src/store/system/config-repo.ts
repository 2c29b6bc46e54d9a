import type { Kysely } from "kysely";
import type { SqliteHandle } from "../database.ts";
import type { Database } from "../schema.ts";

/** One value of system_config on a plain handle (the backup CLI reads it without opening Hermes). */
export function readConfigValue(sqlite: SqliteHandle, key: string): string | undefined {
  const row = sqlite.prepare("SELECT config_value FROM system_config WHERE config_key = ?").get(key) as
    | { config_value: string }
    | undefined;
  return row?.config_value;
}

export interface ConfigRow {
  config_key: string;
  config_value: string;
  config_type: string;
  config_category: string | null;
  value_type: string | null;
  description: string | null;
  is_user_editable: number;
  requires_restart: number;
  validation_regex: string | null;
  min_value: string | null;
  max_value: string | null;
  default_value: string | null;
  last_updated: string | null;
  updated_by: string | null;
}

export class ConfigRepo {
  private readonly db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.db = db;
  }

  async all(): Promise<ConfigRow[]> {
    return (await this.db
      .selectFrom("system_config")
      .select([
        "config_key",
        "config_value",
        "config_type",
        "config_category",
        "value_type",
        "description",
        "is_user_editable",
        "requires_restart",
        "validation_regex",
        "min_value",
        "max_value",
        "default_value",
        "last_updated",
        "updated_by",
      ])
      .orderBy("config_key")
      .execute()) as ConfigRow[];
  }

  async update(key: string, value: string, by: string, at: string): Promise<void> {
    await this.db
      .updateTable("system_config")
      .set({ config_value: value, updated_by: by, last_updated: at })
      .where("config_key", "=", key)
      .execute();
  }
}
