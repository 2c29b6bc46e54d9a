/**
 * The manager's policy, read from system_config once per decision into a plain object (so one
 * decision sees one consistent set of values, and the hot path does ~20 map lookups, no parsing of
 * anything bigger than a number). A missing or unreadable key falls back to its default in the key
 * registry (src/config/keys.ts), the only place defaults are written.
 */
import { type ConfigKey, configDefault } from "../../config/keys.ts";

/** What the manager reads config through; SystemConfig (src/config/system-config.ts) fits. */
export interface ConfigLike {
  has(key: string): boolean;
  string(key: string): string;
  /** Whether a person set the key (not the seed); absent in tests' plain maps. */
  changedByOwner?(key: string): boolean;
}

export type SelectionCriteria = "cost_first" | "quality_first" | "speed_first" | "balanced";

export interface ManagerPolicy {
  criteria: SelectionCriteria;
  localFirst: boolean;
  preferFree: boolean;
  qualityThreshold: number;
  forceRemoteThreshold: number;
  maxCostPerJobCents: number;
  loadBalancing: boolean;
  autoFailover: boolean;
  primary: string;
  globalFallback: string;
  dailyBudgetCents: number;
  projectBudgetCents: number;
  minRemoteBudgetCents: number;
  budgetAlerts: boolean;
  /** JSON overrides of the price table (hermes.budget.price_table). */
  priceTable: string;
  /** Output cap of a paid call that names none: what its reservation is computed against. */
  defaultMaxTokens: number;
  kSamples: number;
  consensusThreshold: number;
  defaultHealthIntervalMs: number;
  /** Stall limits of one call (0: none): see stall-watchdog.ts. */
  stallFirstTokenMs: number;
  stallBetweenTokensMs: number;
}

export function str(
  config: ConfigLike | undefined,
  key: ConfigKey,
  fallback = configDefault(key) as string,
): string {
  if (!config?.has(key)) return fallback;
  return config.string(key);
}

export function num(
  config: ConfigLike | undefined,
  key: ConfigKey,
  fallback = configDefault(key) as number,
): number {
  if (!config?.has(key)) return fallback;
  const raw = config.string(key).trim();
  if (raw === "") return fallback;
  const n = Number(raw);
  return Number.isFinite(n) ? n : fallback;
}

export function bool(
  config: ConfigLike | undefined,
  key: ConfigKey,
  fallback = configDefault(key) as boolean,
): boolean {
  if (!config?.has(key)) return fallback;
  const v = config.string(key).trim();
  if (/^(true|1|yes|on)$/i.test(v)) return true;
  if (/^(false|0|no|off)$/i.test(v)) return false;
  return fallback;
}

export function list(
  config: ConfigLike | undefined,
  key: ConfigKey,
  fallback: readonly string[] = configDefault(key) as readonly string[],
): string[] {
  if (!config?.has(key)) return [...fallback];
  return config
    .string(key)
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

const CRITERIA: ReadonlySet<string> = new Set(["cost_first", "quality_first", "speed_first", "balanced"]);

export function readPolicy(config: ConfigLike | undefined): ManagerPolicy {
  const criteria = str(config, "hermes.selection.criteria");
  return {
    criteria: (CRITERIA.has(criteria)
      ? criteria
      : configDefault("hermes.selection.criteria")) as SelectionCriteria,
    localFirst: bool(config, "hermes.execution.local_first_enabled"),
    preferFree: bool(config, "hermes.selection.prefer_free"),
    qualityThreshold: num(config, "hermes.selection.quality_threshold"),
    forceRemoteThreshold: num(config, "hermes.execution.force_remote_threshold"),
    maxCostPerJobCents: num(config, "hermes.selection.max_cost_per_job"),
    loadBalancing: bool(config, "hermes.backends.load_balancing"),
    autoFailover: bool(config, "hermes.backends.auto_failover"),
    primary: str(config, "hermes.backends.primary"),
    globalFallback: str(config, "hermes.backends.fallback"),
    dailyBudgetCents: num(config, "hermes.budget.daily_budget_cents"),
    projectBudgetCents: num(config, "hermes.budget.project_budget_cents"),
    minRemoteBudgetCents: num(config, "hermes.projects.min_remote_budget_cents"),
    budgetAlerts: bool(config, "hermes.budget.budget_alerts"),
    priceTable: str(config, "hermes.budget.price_table"),
    defaultMaxTokens: Math.max(1, Math.trunc(num(config, "hermes.budget.default_max_output_tokens"))),
    kSamples: Math.max(1, Math.trunc(num(config, "hermes.execution.k_sample_count"))),
    consensusThreshold: num(config, "hermes.execution.consensus_threshold"),
    defaultHealthIntervalMs: Math.max(1, num(config, "hermes.talos.health_check_interval")) * 1000,
    stallFirstTokenMs: Math.max(0, num(config, "hermes.execution.stall_first_token_seconds")) * 1000,
    stallBetweenTokensMs: Math.max(0, num(config, "hermes.execution.stall_between_tokens_seconds")) * 1000,
  };
}

/** A ConfigLike over a plain object: for tests, benchmarks and callers without a database. */
export function staticConfig(values: Record<string, string | number | boolean>): ConfigLike & {
  set(key: string, value: string | number | boolean): void;
} {
  const map = new Map<string, string>(Object.entries(values).map(([k, v]) => [k, String(v)]));
  return {
    has: (key) => map.has(key),
    string: (key) => {
      const v = map.get(key);
      if (v === undefined) throw new Error(`Unknown config key ${key}`);
      return v;
    },
    set: (key, value) => {
      map.set(key, String(value));
    },
  };
}
