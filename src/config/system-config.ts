import { HermesError } from "../errors.ts";
import type { ConfigRepo, ConfigRow } from "../store/system/config-repo.ts";

/**
 * Typed, validated access to the system_config table. Rows are cached in memory (read on every
 * job, written rarely); a change is validated against the row's type, range and regex, written
 * through, and visible to the next reader at once.
 */
export interface ConfigChange {
  key: string;
  value: string;
  requiresRestart: boolean;
}

/** Keys whose values are secrets: never shown in full by the API or /config. */
export function isSecretKey(key: string): boolean {
  return /(_key|\.key|token|secret|password)$/i.test(key) || /api_key/i.test(key);
}

export function maskSecret(value: string): string {
  if (value === "") return "";
  return value.length <= 8 ? "••••" : `${value.slice(0, 2)}••••${value.slice(-2)}`;
}

export class SystemConfig {
  private readonly rows = new Map<string, ConfigRow>();
  private readonly repo: ConfigRepo;
  private readonly now: () => number;

  private constructor(repo: ConfigRepo, now: () => number) {
    this.repo = repo;
    this.now = now;
  }

  static async load(repo: ConfigRepo, now: () => number = Date.now): Promise<SystemConfig> {
    const config = new SystemConfig(repo, now);
    for (const row of await repo.all()) config.rows.set(row.config_key, row);
    return config;
  }

  has(key: string): boolean {
    return this.rows.has(key);
  }

  row(key: string): ConfigRow | undefined {
    return this.rows.get(key);
  }

  list(): ConfigRow[] {
    return [...this.rows.values()];
  }

  string(key: string): string {
    const row = this.rows.get(key);
    if (!row) throw new HermesError("INTERNAL", `Unknown config key ${key}`);
    return row.config_value;
  }

  number(key: string): number {
    const n = Number(this.string(key));
    if (!Number.isFinite(n)) throw new HermesError("INTERNAL", `Config ${key} is not a number`);
    return n;
  }

  bool(key: string): boolean {
    return /^(true|1|yes|on)$/i.test(this.string(key).trim());
  }

  strings(key: string): string[] {
    return this.string(key)
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== "");
  }

  /** Validates and stores a new value. Throws INVALID_INPUT / FORBIDDEN with a sentence a person can act on. */
  async set(
    key: string,
    rawValue: string,
    by: string,
    options: { force?: boolean } = {},
  ): Promise<ConfigChange> {
    const row = this.rows.get(key);
    if (!row) throw new HermesError("NOT_FOUND", `There is no setting called ${key}.`);
    if (!row.is_user_editable && !options.force) {
      throw new HermesError("FORBIDDEN", `${key} cannot be changed at runtime.`, {
        userAction: "Change it in the environment or deployment and restart Hermes.",
      });
    }
    const value = normalise(row, rawValue);
    await this.repo.update(key, value, by, new Date(this.now()).toISOString());
    this.rows.set(key, { ...row, config_value: value, updated_by: by });
    return { key, value, requiresRestart: row.requires_restart === 1 };
  }
}

function invalid(key: string, message: string): HermesError {
  return new HermesError("INVALID_INPUT", `${key}: ${message}`, { details: key });
}

/** Checks a value against the row's declared type, range and pattern; returns its canonical text. */
export function normalise(row: ConfigRow, rawValue: string): string {
  const key = row.config_key;
  const value = rawValue.trim();
  if (value.length > 2000) throw invalid(key, "value is too long (2000 characters at most)");
  let out = value;
  switch (row.value_type) {
    case "int":
    case "float": {
      if (!/^-?\d+(\.\d+)?$/.test(value)) throw invalid(key, "must be a number");
      const n = Number(value);
      if (row.value_type === "int" && !Number.isInteger(n)) throw invalid(key, "must be a whole number");
      if (row.min_value !== null && row.min_value !== "" && n < Number(row.min_value)) {
        throw invalid(key, `must be at least ${row.min_value}`);
      }
      if (row.max_value !== null && row.max_value !== "" && n > Number(row.max_value)) {
        throw invalid(key, `must be at most ${row.max_value}`);
      }
      out = String(n);
      break;
    }
    case "bool": {
      if (/^(true|1|yes|on)$/i.test(value)) out = "true";
      else if (/^(false|0|no|off)$/i.test(value)) out = "false";
      else throw invalid(key, "must be true or false");
      break;
    }
    case "url": {
      if (value !== "" && !/^https?:\/\/\S+$/i.test(value)) throw invalid(key, "must be an http(s) URL");
      break;
    }
    case "list": {
      out = value
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s !== "")
        .join(",");
      break;
    }
    case "cron": {
      if (value.split(/\s+/).length !== 5) throw invalid(key, "must be a cron expression with 5 fields");
      break;
    }
    default:
      break;
  }
  if (row.validation_regex) {
    let re: RegExp;
    try {
      re = new RegExp(row.validation_regex);
    } catch {
      re = /.*/;
    }
    if (!re.test(out)) throw invalid(key, `must match ${row.validation_regex}`);
  }
  return out;
}
