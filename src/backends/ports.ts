/**
 * What the backend manager needs from persistence, as small synchronous ports. `backends/` never
 * imports `store/`: the store implements these (src/store/backends/repo.ts, budget-repo.ts,
 * selection-history-repo.ts) and main.ts wires them in. Every port is optional for the manager,
 * so tests and benchmarks run it fully in memory.
 */
import type { HealthTrack } from "./manager/health-state.ts";

/** One backend call, successful or not: a backend_performance row plus the backends counters. */
export interface CallRecord {
  backend: string;
  jobId: number;
  jobType: string;
  model: string;
  success: boolean;
  latencyMs: number;
  tokens: number;
  costCents: number;
  error?: string | undefined;
}

/** Health after each check or call outcome (backends row + one system_health row), and every call. */
export interface BackendStatsPort {
  recordHealth(name: string, health: HealthTrack): void;
  recordCall(entry: CallRecord): void;
}

/** Learned numbers for one (backend, job type), or (backend, "*") for all job types together. All 0–1. */
export interface BackendScore {
  /** Mean rated quality; undefined while nothing has been rated. */
  quality: number | undefined;
  speed: number;
  /** Success rate of calls. */
  reliability: number;
  /** Calls behind speed and reliability. */
  samples: number;
  /** Rated calls behind quality (defaults to `samples` when absent). */
  qualitySamples?: number | undefined;
}

/** Keyed `${backend}|${jobType}`; `${backend}|*` aggregates every job type. */
export interface ScoresPort {
  scores(): Map<string, BackendScore>;
}

export interface RejectedBackend {
  name: string;
  reason: string;
}

/** One selection decision and how it ended: a backend_selection_history row. */
export interface SelectionRecord {
  jobId: number;
  jobType: string;
  criteria: string;
  /** Backends that could take the job, best first, with their score. */
  available: { name: string; score: number }[];
  rejected: RejectedBackend[];
  reasoning: string;
  /** First choice; undefined when nothing could be chosen. */
  selected: string | undefined;
  confidence: number;
  successful: boolean;
  fallbackUsed: boolean;
  /** The backend that produced the result (or the last one tried). */
  finalBackend: string | undefined;
  attempted: string[];
}

export interface SelectionHistoryPort {
  record(entry: SelectionRecord): void;
}

export interface ReserveRequest {
  /** UTC day, YYYY-MM-DD. */
  day: string;
  threadId: number | undefined;
  jobId: number;
  backend: string;
  model: string;
  cents: number;
  dailyLimitCents: number;
  /** Per-thread (project) limit; undefined = no thread limit. */
  threadLimitCents: number | undefined;
  /** Refuse when less than this would remain before the call (hermes.projects.min_remote_budget_cents). */
  minRemainingCents: number;
}

export type ReserveOutcome =
  | { ok: true; id: number }
  | {
      ok: false;
      scope: "daily" | "thread";
      /** Settled spend in that scope. */
      settledCents: number;
      /** Outstanding reservations in that scope. */
      reservedCents: number;
      limitCents: number;
    };

export interface BudgetTotals {
  /** Settled spend today. */
  settledCents: number;
  /** Outstanding reservations today. */
  reservedCents: number;
}

/**
 * The budget_ledger. `reserve` must check and insert atomically (one synchronous transaction), so
 * concurrent jobs can never reserve past a limit together.
 */
export interface BudgetLedgerPort {
  reserve(request: ReserveRequest): ReserveOutcome;
  settle(id: number, actualCents: number): void;
  release(id: number): void;
  totals(day: string): BudgetTotals;
  /** Settled + reserved cents of one thread, all days. */
  threadCommitted(threadId: number): number;
  /** Reservations left by a crash: settle them at their reserved amount (the provider may have charged). */
  recoverOrphans?(): number;
}

/** A backend as configured: persisted without secrets in the `backends` table. */
export interface BackendDefinition {
  name: string;
  /** The spec's backend_type: local, remote_api, server_model, custom. */
  type: BackendType;
  /** The wire protocol. */
  provider: BackendProvider;
  /** Base URL; never holds a credential. */
  url: string;
  enabled: boolean;
  primary: boolean;
  /** True when calls cost nothing (local or self-hosted). */
  free: boolean;
  models: string[];
  defaultModel: string;
  concurrency: number;
  timeoutMs: number;
  healthIntervalMs: number | undefined;
  /** Requests per minute, when the provider limits them. */
  ratePerMinute: number | undefined;
  preferredFor: string[];
  fallbacks: string[];
  /** Name of the environment variable holding its key/token (the secret itself is never stored). */
  secretEnv: string | undefined;
  /** "config": built from system_config + env at start; "runtime": added through upsert(). */
  origin: "config" | "runtime";
}

export type BackendType = "local" | "remote_api" | "server_model" | "custom";
export type BackendProvider = "ollama" | "talos" | "openrouter" | "openai" | "custom";

/** Persistence of runtime changes to the registry (API, /backends command). */
export interface BackendRegistryPort {
  saveDefinition(definition: BackendDefinition): void;
  saveEnabled(name: string, enabled: boolean): void;
}
