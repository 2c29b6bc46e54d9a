import { HermesError } from "../errors.ts";
import type { ConfigChangeRecord } from "../store/system/config-audit-repo.ts";
import type { ConfigRepo, ConfigRow } from "../store/system/config-repo.ts";

export type { ConfigRow } from "../store/system/config-repo.ts";

import type { AnyKeyDef } from "./key-types.ts";
import { type ConfigKey, type ConfigValue, isSecretKey, keyDef, maskSecret } from "./keys.ts";

export { isSecretKey, maskSecret } from "./keys.ts";

/**
 * Typed, validated access to the system_config table. Rows are cached in memory (read on every
 * job, written rarely). Every change — from the API, Telegram or the CLI — goes through set(),
 * which validates it against the key registry (keys.ts), writes it through, records it in the
 * audit (config_changes) and tells the onChange listeners, so no transport can skip any of that.
 */
export interface ConfigChange {
  key: string;
  /** The canonical stored text (unmasked: callers showing it mask secrets). */
  value: string;
  previous: string;
  by: string;
  requiresRestart: boolean;
}

export type ConfigChangeListener = (change: ConfigChange) => void;

/** Where changes are recorded (ConfigAuditRepo); values arrive masked when the key is a secret. */
export interface ConfigAuditSink {
  record(change: ConfigChangeRecord): void;
}

/** A value as it may be shown or audited: secrets masked. */
export function shownValue(key: string, value: string): string {
  return isSecretKey(key) ? maskSecret(value) : value;
}

export class SystemConfig {
  private readonly rows = new Map<string, ConfigRow>();
  /** Parsed values of get(), dropped when a key changes. */
  private readonly parsed = new Map<string, unknown>();
  private readonly listeners = new Set<ConfigChangeListener>();
  private readonly repo: ConfigRepo;
  private readonly audit: ConfigAuditSink;
  private readonly now: () => number;

  private constructor(repo: ConfigRepo, audit: ConfigAuditSink, now: () => number) {
    this.repo = repo;
    this.audit = audit;
    this.now = now;
  }

  static async load(
    repo: ConfigRepo,
    audit: ConfigAuditSink,
    now: () => number = Date.now,
  ): Promise<SystemConfig> {
    const config = new SystemConfig(repo, audit, now);
    for (const row of await repo.all()) config.rows.set(row.config_key, row);
    return config;
  }

  has(key: string): boolean {
    return this.rows.has(key);
  }

  /** True once someone (owner, API, CLI) set the key; seeded rows say "deployment". */
  changedByOwner(key: string): boolean {
    const by = this.rows.get(key)?.updated_by;
    return by !== undefined && by !== null && by !== "deployment";
  }

  row(key: string): ConfigRow | undefined {
    return this.rows.get(key);
  }

  list(): ConfigRow[] {
    return [...this.rows.values()];
  }

  /**
   * The typed value of a key: the stored one when it parses, else the registry's default (a
   * missing row, or a value stored before its key's rules were tightened).
   */
  get<K extends ConfigKey>(key: K): ConfigValue<K> {
    if (this.parsed.has(key)) return this.parsed.get(key) as ConfigValue<K>;
    const def = keyDef(key);
    if (!def) throw new HermesError("INTERNAL", `Unknown config key ${key}`);
    const row = this.rows.get(key);
    const stored = row === undefined ? undefined : def.schema.safeParse(row.config_value);
    const value = stored?.success ? stored.data : def.default;
    this.parsed.set(key, value);
    return value as ConfigValue<K>;
  }

  /** The stored text; the registry's default text when the row is missing. */
  string(key: ConfigKey): string {
    const row = this.rows.get(key);
    if (row) return row.config_value;
    const def = keyDef(key);
    if (!def) throw new HermesError("INTERNAL", `Unknown config key ${key}`);
    return def.format(def.default);
  }

  number(key: ConfigKey): number {
    const n = Number(this.string(key));
    if (!Number.isFinite(n)) throw new HermesError("INTERNAL", `Config ${key} is not a number`);
    return n;
  }

  bool(key: ConfigKey): boolean {
    return /^(true|1|yes|on)$/i.test(this.string(key).trim());
  }

  strings(key: ConfigKey): string[] {
    return this.string(key)
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== "");
  }

  /** The values of every secret key that holds one (API keys, callback secret): for log scrubbing. */
  secretValues(): string[] {
    return [...this.rows.values()]
      .filter((row) => isSecretKey(row.config_key) && row.config_value !== "")
      .map((row) => row.config_value);
  }

  /** Calls `listener` after every change; returns the unsubscribe function. */
  onChange(listener: ConfigChangeListener): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  /**
   * The canonical text `rawValue` would be stored as, without storing it (a batch checks every
   * change before applying any). Throws NOT_FOUND / FORBIDDEN / INVALID_INPUT with a sentence a
   * person can act on; `details` is the key.
   */
  check(key: string, rawValue: string, options: { force?: boolean } = {}): string {
    const row = this.rows.get(key);
    if (!row)
      throw new HermesError("NOT_FOUND", `There is no setting called ${key}.`, {
        details: key,
        userAction: "/config or GET /api/system/config lists every setting.",
      });
    const def = keyDef(key);
    const editable = def ? def.editable : row.is_user_editable === 1;
    if (!editable && !options.force) {
      throw new HermesError("FORBIDDEN", `${key} cannot be changed at runtime.`, {
        details: key,
        userAction: "Change it in the environment or deployment and restart Hermes.",
      });
    }
    return def ? validate(key, def, rawValue) : normalise(row, rawValue);
  }

  /** Validates, stores, audits and announces a new value. Throws as check() does. */
  async set(
    key: string,
    rawValue: string,
    by: string,
    options: { force?: boolean } = {},
  ): Promise<ConfigChange> {
    const value = this.check(key, rawValue, options);
    const row = this.rows.get(key) as ConfigRow;
    const at = new Date(this.now()).toISOString();
    await this.repo.update(key, value, by, at);
    this.rows.set(key, { ...row, config_value: value, updated_by: by, last_updated: at });
    this.parsed.delete(key);
    const requiresRestart = keyDef(key)?.requiresRestart ?? row.requires_restart === 1;
    const change = { key, value, previous: row.config_value, by, requiresRestart };
    this.audit.record({
      key,
      oldValue: shownValue(key, change.previous),
      newValue: shownValue(key, value),
      changedBy: by,
      changedAt: at,
      requiresRestart,
    });
    for (const listener of this.listeners) {
      // The value is stored: a listener's failure must not undo or hide that (listeners log their own).
      try {
        listener(change);
      } catch {}
    }
    return change;
  }
}

function invalid(key: string, message: string): HermesError {
  return new HermesError("INVALID_INPUT", `${key}: ${message}`, { details: key });
}

/** The registry's zod schema for the key, then its regex; returns the canonical text. */
function validate(key: string, def: AnyKeyDef, rawValue: string): string {
  const parsed = def.schema.safeParse(rawValue);
  if (!parsed.success) throw invalid(key, parsed.error.issues[0]?.message ?? "invalid value");
  const out = def.format(parsed.data);
  if (def.regex && !new RegExp(def.regex).test(out)) throw invalid(key, `must match ${def.regex}`);
  return out;
}

/**
 * For a row the registry does not know (none today): checks a value against the row's declared
 * type, range and pattern; returns its canonical text.
 */
function normalise(row: ConfigRow, rawValue: string): string {
  const key = row.config_key;
  const value = rawValue.trim();
  if (value.length > 2000) throw invalid(key, "value is too long (2000 characters at most)");
  let out = value;
  if (row.value_type === "int" || row.value_type === "float") {
    if (!/^-?\d+(\.\d+)?$/.test(value)) throw invalid(key, "must be a number");
    const n = Number(value);
    if (row.value_type === "int" && !Number.isInteger(n)) throw invalid(key, "must be a whole number");
    if ((row.min_value ?? "") !== "" && n < Number(row.min_value)) {
      throw invalid(key, `must be at least ${row.min_value}`);
    }
    if ((row.max_value ?? "") !== "" && n > Number(row.max_value)) {
      throw invalid(key, `must be at most ${row.max_value}`);
    }
    out = String(n);
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
