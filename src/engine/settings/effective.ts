import type { BackendStatus } from "../../backends/manager/types.ts";
import { configuredDefinitions } from "../../backends/registry/registry.ts";
import type { Env } from "../../config/env.ts";
import type { AnyKeyDef } from "../../config/key-types.ts";
import { keyDef } from "../../config/keys.ts";
import { type ConfigRow, type SystemConfig, shownValue } from "../../config/system-config.ts";
import { categoryOf, type SettingsCategory, UNUSED_KEYS } from "./catalog.ts";

/**
 * What a setting does *now*, for whoever shows settings to a person (Telegram's /config): the
 * stored row is not always what Hermes uses. The environment wins for addresses and keys, a
 * backend that is not set up ignores its rows, /backends overrides `enabled` at runtime, an
 * invalid stored value falls back to the default, and some seeded keys are read by nothing. Every
 * value here is masked when the key is a secret.
 */
export interface SettingView {
  key: string;
  category: SettingsCategory;
  /** What is in effect (masked); for "inactive" and "unused", the stored value. */
  value: string;
  /** The stored value when it differs from `value` (masked). */
  stored?: string | undefined;
  /**
   * "env": the value comes from the environment; "runtime": changed while running (/backends);
   * "inactive": this setting decides nothing here now; "unused": nothing reads it; "invalid": the
   * stored value is not valid, the default is in effect.
   */
  flag?: "env" | "runtime" | "inactive" | "unused" | "invalid" | undefined;
  /** Why, in a sentence. */
  note?: string | undefined;
  editable: boolean;
  requiresRestart: boolean;
  description: string;
  /** Type, range or allowed values, and the default ("" for a row the registry does not know). */
  rules: string;
}

/** What the view is computed from besides the rows: the environment and the running backends. */
export interface SettingsFacts {
  env: Env;
  backends: readonly BackendStatus[];
}

type Effect = Pick<SettingView, "value" | "flag" | "note">;

/** Every setting in key order, and the backends config describes that are not set up (why). */
export function settingsOverview(
  config: SystemConfig,
  facts: SettingsFacts,
): { views: SettingView[]; notSetUp: ReadonlyMap<string, string> } {
  const described = describedBackends(config, facts.env);
  const views = config
    .list()
    .map((row) => view(config, row, facts, described))
    .sort((a, b) => a.key.localeCompare(b.key));
  return { views, notSetUp: described.skipped };
}

/** One setting; undefined when there is no such row. */
export function settingView(
  config: SystemConfig,
  key: string,
  facts: SettingsFacts,
): SettingView | undefined {
  const row = config.row(key);
  return row ? view(config, row, facts, describedBackends(config, facts.env)) : undefined;
}

function view(config: SystemConfig, row: ConfigRow, facts: SettingsFacts, described: Described): SettingView {
  const key = row.config_key;
  const def = keyDef(key);
  const stored = row.config_value;
  const valid = def === undefined || def.schema.safeParse(stored).success;
  const base: Effect = valid
    ? { value: stored }
    : {
        value: def.format(def.default),
        flag: "invalid",
        note: "The stored value is not valid, so the default is in effect.",
      };
  const effect = UNUSED_KEYS.has(key)
    ? { value: stored, flag: "unused" as const, note: "Nothing in this Hermes reads this setting." }
    : (envEffect(key, facts.env) ??
      remoteKeyEffect(config, key, stored, facts.env) ??
      backendEffect(config, key, stored, facts, described) ??
      selectionEffect(config, key, stored, facts, described) ??
      base);
  const value = shownValue(key, effect.value);
  return {
    key,
    category: categoryOf(key),
    value,
    stored: effect.value === stored ? undefined : shownValue(key, stored),
    flag: effect.flag,
    note: effect.note,
    editable: def ? def.editable : row.is_user_editable === 1,
    requiresRestart: def ? def.requiresRestart : row.requires_restart === 1,
    description: row.description ?? def?.description ?? "",
    rules: def ? rulesOf(def) : "",
  };
}

/**
 * The backends that config + environment describe (set up or not), and those not set up with the
 * reason. Backends added at runtime are not among them: their rows are not config keys.
 */
interface Described {
  names: readonly string[];
  skipped: ReadonlyMap<string, string>;
}

function describedBackends(config: SystemConfig, env: Env): Described {
  const { definitions, skipped } = configuredDefinitions(config, env);
  return {
    names: [...definitions.map((d) => d.definition.name), ...skipped.map((s) => s.name)],
    skipped: new Map(skipped.map((s) => [s.name, s.reason])),
  };
}

/** Settings the environment overrides or replaces (addresses, keys, the owners). */
function envEffect(key: string, env: Env): Effect | undefined {
  const fromEnv = (value: string, variable: string): Effect => ({
    value,
    flag: "env",
    note: `${variable} from the environment is in effect; this setting is not read.`,
  });
  switch (key) {
    case "hermes.web.port":
      return fromEnv(String(env.HERMES_HTTP_PORT), "HERMES_HTTP_PORT");
    case "hermes.db.path":
      return fromEnv(env.HERMES_DB_PATH, "HERMES_DB_PATH");
    case "hermes.notifications.telegram_bot_token":
      return fromEnv(env.TELEGRAM_BOT_TOKEN ?? "", "TELEGRAM_BOT_TOKEN");
    case "hermes.notifications.telegram_chat_id":
      return {
        ...fromEnv(env.HERMES_OWNER_IDS.join(","), "HERMES_OWNER_IDS"),
        note: "Alerts go to the owners in HERMES_OWNER_IDS; this setting is not read.",
      };
    case "backend.talos.host":
    case "backend.talos.port":
      if (env.TALOS_URL === undefined) return undefined;
      return fromEnv(key.endsWith("host") ? env.TALOS_URL : portOf(env.TALOS_URL), "TALOS_URL");
    case "backend.gpt5.key":
      return env.OPENAI_API_KEY === undefined ? undefined : fromEnv(env.OPENAI_API_KEY, "OPENAI_API_KEY");
    default:
      return undefined;
  }
}

/**
 * The remote API's key: OPENROUTER_API_KEY (OPENAI_API_KEY when its type is openai) wins over
 * backend.remote_api.key, which wins over hermes.budget.openrouter_api_key (see from-config.ts).
 */
function remoteKeyEffect(config: SystemConfig, key: string, stored: string, env: Env): Effect | undefined {
  const openai = config.string("backend.remote_api.type") === "openai";
  const variable = openai ? "OPENAI_API_KEY" : "OPENROUTER_API_KEY";
  const fromEnv = env[variable];
  if (key === "backend.remote_api.key" && fromEnv !== undefined) {
    return { value: fromEnv, flag: "env", note: `${variable} from the environment is in effect.` };
  }
  if (key !== "hermes.budget.openrouter_api_key") return undefined;
  const instead = openai
    ? "the remote API's type is openai"
    : fromEnv !== undefined
      ? "OPENROUTER_API_KEY from the environment is used"
      : config.string("backend.remote_api.key") !== ""
        ? "backend.remote_api.key is used"
        : undefined;
  return instead ? { value: stored, flag: "inactive", note: `Not in effect: ${instead}.` } : undefined;
}

function portOf(url: string): string {
  try {
    const u = new URL(url);
    return u.port || (u.protocol === "https:" ? "443" : "80");
  } catch {
    return "";
  }
}

/** `backend.<name>.*`: what the running backend uses, or that the backend is not set up. */
function backendEffect(
  config: SystemConfig,
  key: string,
  stored: string,
  { backends }: SettingsFacts,
  described: Described,
): Effect | undefined {
  const m = /^backend\.([A-Za-z0-9_-]+)\.([a-z_]+)$/.exec(key);
  if (!m) return undefined;
  const [, name = "", field] = m;
  const running = backends.find((b) => b.name === name);
  if (!running) {
    const why = described.skipped.get(name);
    return {
      value: stored,
      flag: "inactive",
      note: `Not in effect: ${name} is not set up${why ? ` (${why})` : ""}.`,
    };
  }
  if (field === "enabled" && String(running.enabled) !== stored) {
    return {
      value: String(running.enabled),
      flag: "runtime",
      note: `${name} was turned ${running.enabled ? "on" : "off"} with /backends, which wins over this setting.`,
    };
  }
  if (field === "concurrency" && String(running.concurrency) !== stored && config.has(key)) {
    return {
      value: String(running.concurrency),
      flag: "runtime",
      note: `${name} runs ${running.concurrency} job(s) at once now.`,
    };
  }
  return undefined;
}

/** The primary, the global fallback and the enabled list name backends: are those running? */
function selectionEffect(
  config: SystemConfig,
  key: string,
  stored: string,
  { backends }: SettingsFacts,
  described: Described,
): Effect | undefined {
  if (key === "hermes.backends.primary" || key === "hermes.backends.fallback") {
    const name = stored.trim();
    if (name === "") return undefined;
    const what = key.endsWith("primary") ? "no backend is the primary" : "there is no global fallback";
    const running = backends.find((b) => b.name === name);
    if (running?.enabled) return undefined;
    const why = running
      ? "is disabled"
      : `is not set up${described.skipped.has(name) ? ` (${described.skipped.get(name)})` : ""}`;
    return { value: stored, flag: "inactive", note: `Not in effect: ${name} ${why}, so ${what}.` };
  }
  if (key === "hermes.backends.enabled") {
    const withoutRow = described.names.filter((n) => !config.has(`backend.${n}.enabled`));
    const on = backends.filter((b) => b.enabled).map((b) => b.name);
    return {
      value: stored,
      flag: withoutRow.length === 0 ? "inactive" : undefined,
      note:
        `Decides only for backends without their own backend.<name>.enabled` +
        `${withoutRow.length === 0 ? " (none here)" : ` (${withoutRow.join(", ")})`}. ` +
        `Enabled now: ${on.join(", ") || "none"}.`,
    };
  }
  return undefined;
}

/** "whole number, 1–65535 · default 5000" and the like. */
function rulesOf(def: AnyKeyDef): string {
  const range =
    def.min !== undefined && def.max !== undefined
      ? `${def.min}–${def.max}`
      : def.min !== undefined
        ? `at least ${def.min}`
        : def.max !== undefined
          ? `at most ${def.max}`
          : "";
  const type: Record<string, string> = {
    int: "whole number",
    float: "number",
    bool: "true or false",
    string: "text",
    list: "comma-separated list",
    cron: "cron schedule (5 fields)",
    url: "URL",
    enum: `one of: ${def.values?.join(", ") ?? ""}`,
    json: "JSON",
  };
  const shownDefault = def.secret ? "" : def.format(def.default);
  return [
    [type[def.type] ?? def.type, range].filter(Boolean).join(", "),
    `default ${shownDefault === "" ? "(empty)" : shownDefault}`,
  ].join(" · ");
}
