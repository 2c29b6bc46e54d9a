/**
 * The manager's policy, read from system_config once per decision into a plain object (so one
 * decision sees one consistent set of values, and the hot path does ~20 map lookups, no parsing of
 * anything bigger than a number). Missing keys fall back to the spec's seed values.
 */

/** What the manager reads config through; SystemConfig (src/config/system-config.ts) fits. */
export interface ConfigLike {
  has(key: string): boolean;
  string(key: string): string;
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
}

export function str(config: ConfigLike | undefined, key: string, fallback: string): string {
  if (!config?.has(key)) return fallback;
  return config.string(key);
}

export function num(config: ConfigLike | undefined, key: string, fallback: number): number {
  if (!config?.has(key)) return fallback;
  const raw = config.string(key).trim();
  if (raw === "") return fallback;
  const n = Number(raw);
  return Number.isFinite(n) ? n : fallback;
}

export function bool(config: ConfigLike | undefined, key: string, fallback: boolean): boolean {
  if (!config?.has(key)) return fallback;
  const v = config.string(key).trim();
  if (/^(true|1|yes|on)$/i.test(v)) return true;
  if (/^(false|0|no|off)$/i.test(v)) return false;
  return fallback;
}

export function list(config: ConfigLike | undefined, key: string, fallback: string[]): string[] {
  if (!config?.has(key)) return fallback;
  return config
    .string(key)
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

const CRITERIA: ReadonlySet<string> = new Set(["cost_first", "quality_first", "speed_first", "balanced"]);

export function readPolicy(config: ConfigLike | undefined): ManagerPolicy {
  const criteria = str(config, "hermes.selection.criteria", "cost_first");
  return {
    criteria: (CRITERIA.has(criteria) ? criteria : "cost_first") as SelectionCriteria,
    localFirst: bool(config, "hermes.execution.local_first_enabled", true),
    preferFree: bool(config, "hermes.selection.prefer_free", true),
    qualityThreshold: num(config, "hermes.selection.quality_threshold", 0.8),
    forceRemoteThreshold: num(config, "hermes.execution.force_remote_threshold", 0.8),
    maxCostPerJobCents: num(config, "hermes.selection.max_cost_per_job", 100),
    loadBalancing: bool(config, "hermes.backends.load_balancing", false),
    autoFailover: bool(config, "hermes.backends.auto_failover", true),
    primary: str(config, "hermes.backends.primary", ""),
    globalFallback: str(config, "hermes.backends.fallback", ""),
    dailyBudgetCents: num(config, "hermes.budget.daily_budget_cents", 500),
    projectBudgetCents: num(config, "hermes.budget.project_budget_cents", 2000),
    minRemoteBudgetCents: num(config, "hermes.projects.min_remote_budget_cents", 50),
    budgetAlerts: bool(config, "hermes.budget.budget_alerts", true),
    priceTable: str(config, "hermes.budget.price_table", ""),
    defaultMaxTokens: Math.max(1, Math.trunc(num(config, "hermes.budget.default_max_output_tokens", 4096))),
    kSamples: Math.max(1, Math.trunc(num(config, "hermes.execution.k_sample_count", 3))),
    consensusThreshold: num(config, "hermes.execution.consensus_threshold", 0.67),
    defaultHealthIntervalMs: Math.max(1, num(config, "hermes.talos.health_check_interval", 10)) * 1000,
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
