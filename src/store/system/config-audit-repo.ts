import type { SqliteHandle } from "../database.ts";

/** Who changed which setting, when (table config_changes, migration 006). Secrets arrive masked. */
export interface ConfigChangeRecord {
  key: string;
  oldValue: string | null;
  newValue: string | null;
  changedBy: string;
  changedAt: string;
  requiresRestart: boolean;
}

export interface ConfigChangeRow {
  id: number;
  config_key: string;
  old_value: string | null;
  new_value: string | null;
  changed_by: string;
  changed_at: string;
  requires_restart: number;
}

export class ConfigAuditRepo {
  private readonly insert;
  private readonly recentStmt;

  constructor(sqlite: SqliteHandle) {
    this.insert = sqlite.prepare(
      `INSERT INTO config_changes (config_key, old_value, new_value, changed_by, changed_at, requires_restart)
       VALUES (?, ?, ?, ?, ?, ?)`,
    );
    this.recentStmt = sqlite.prepare(
      "SELECT * FROM config_changes WHERE (? IS NULL OR config_key = +?) ORDER BY id DESC LIMIT +?",
    );
  }

  record(c: ConfigChangeRecord): void {
    this.insert.run(c.key, c.oldValue, c.newValue, c.changedBy, c.changedAt, c.requiresRestart ? 1 : 0);
  }

  recent(limit = 50, key?: string): ConfigChangeRow[] {
    return this.recentStmt.all(key ?? null, key ?? null, limit) as ConfigChangeRow[];
  }
}
