import type PQueue from "p-queue";
import type { Clock, TimerHandle } from "../../clock.ts";
import type { HermesError } from "../../errors.ts";
import type { Backend, ChatMessage, HealthState, ResponseFormat, RunResult } from "../backend.ts";
import type {
  BackendDefinition,
  BackendRegistryPort,
  BackendStatsPort,
  BackendType,
  BudgetLedgerPort,
  ScoresPort,
  SelectionHistoryPort,
} from "../ports.ts";
import type { BudgetAlertLevel } from "./budget.ts";
import type { CircuitBreaker, CircuitState } from "./circuit-breaker.ts";
import type { ConfigLike } from "./policy.ts";
import type { SelectionDecision } from "./selection.ts";

/** The manager's public shapes (requests, results, status) and its internal per-backend entry. */
export interface BackendSettings {
  /** Model used when a job names none. */
  defaultModel: string;
  concurrency: number;
  enabled: boolean;
  /** Where the backend is, for messages ("Ollama at http://…"). Never contains a secret. */
  location: string;
  /** The spec's backend_type; default "local" for a free backend, "remote_api" otherwise. */
  type?: BackendType | undefined;
  /** Configured models (the health check adds the discovered ones). */
  models?: string[] | undefined;
  /** Deadline of one call. */
  timeoutMs?: number | undefined;
  /** Health-check interval; default backend.<name>.health_interval, then hermes.talos.health_check_interval. */
  healthIntervalMs?: number | undefined;
  ratePerMinute?: number | undefined;
  preferredFor?: string[] | undefined;
  fallbacks?: string[] | undefined;
  primary?: boolean | undefined;
}

export interface BackendStatus {
  name: string;
  kind: string;
  type: BackendType;
  local: boolean;
  free: boolean;
  enabled: boolean;
  primary: boolean;
  location: string;
  defaultModel: string;
  health: HealthState;
  circuit: CircuitState;
  consecutiveFailures: number;
  lastCheck: string | undefined;
  lastError: string | undefined;
  latencyMs: number | undefined;
  running: number;
  concurrency: number;
  availableModels: string[];
  preferredFor: string[];
  fallbacks: string[];
}

export interface ExecuteRequest {
  jobId: number;
  jobType: string;
  messages: ChatMessage[];
  /** The thread (project) the job belongs to: its budget is checked too. */
  threadId?: number | undefined;
  /**
   * The kind of work (the prompt: "draft", "refine", "rewrite"…): each backend runs its own model
   * for it (model-choice.ts). Undefined: the backend's default model.
   */
  work?: string | undefined;
  /** A model the user pinned; only backends that serve it may run the job. Unset: each backend's own. */
  model?: string | undefined;
  /** Output cap; a paid call without one is capped at hermes.budget.default_max_output_tokens. */
  maxTokens?: number | undefined;
  temperature?: number | undefined;
  preferBackend?: string | undefined;
  /** Only backends that cost nothing (local or self-hosted): the prompt must not leave the owner's machines. */
  localOnly?: boolean | undefined;
  /** Structured output: the answer must be JSON matching this schema (see RunRequest.responseFormat). */
  responseFormat?: ResponseFormat | undefined;
  /**
   * A short call beside the jobs (a model-assisted analysis under its own deadline): it does not
   * wait for, nor take, one of the backend's job slots, so a draft queued before it never waits on it.
   */
  beside?: boolean | undefined;
  /** Consensus only: the answer is JSON, compare exactly. */
  structured?: boolean | undefined;
  /** Consensus only: number of samples (default hermes.execution.k_sample_count). */
  samples?: number | undefined;
}

export interface ExecuteResult extends RunResult {
  backend: string;
  /** Settled cost in cents (0 on free backends). */
  costCents: number;
  fallbackUsed: boolean;
  attempted: string[];
  /** Selection confidence, 0–1 (jobs.backend_confidence). */
  confidence: number;
}

export interface ConsensusInfo {
  k: number;
  succeeded: number;
  method: "exact" | "similarity";
  agreement: number;
  threshold: number;
  reached: boolean;
  /** Below the threshold: show the answer as unvalidated. */
  flagged: boolean;
  samples: { backend: string; model: string; similarity: number }[];
}

export interface ConsensusResult extends ExecuteResult {
  consensus: ConsensusInfo;
}

export interface PreviewResult {
  name: string;
  model: string;
  health: HealthState;
  location: string;
}

export interface Entry {
  backend: Backend;
  settings: BackendSettings;
  definition: BackendDefinition;
  breaker: CircuitBreaker;
  slots: PQueue;
  models: string[];
  warmModels: string[];
  coolUntilMs: number;
  /** Its last real call stalled (stall-watchdog.ts): a health probe alone does not make it healthy. */
  stalled: boolean;
  order: number;
  timer: TimerHandle | undefined;
}

export interface ManagerOptions {
  clock: Clock;
  /** system_config (SystemConfig fits); policy is read from it once per decision. */
  config?: ConfigLike;
  stats?: BackendStatsPort;
  scores?: ScoresPort;
  history?: SelectionHistoryPort;
  /** Without a ledger no paid backend is ever called. */
  budget?: BudgetLedgerPort;
  registry?: BackendRegistryPort;
  /** Builds a Backend for upsert() (registry.createBackend with the secrets). */
  factory?: (definition: BackendDefinition) => Backend;
  /** Default health interval; overrides hermes.talos.health_check_interval. */
  healthIntervalMs?: () => number;
  /** Overrides hermes.execution.local_first_enabled. */
  localFirst?: () => boolean;
  /** Deadline of one health check (default 5 s). */
  healthTimeoutMs?: number;
  /** How long learned scores are cached (default 30 s). */
  scoresTtlMs?: number;
  /** Called when a backend turns healthy again, so waiting jobs can go now. */
  onRecovered?: (name: string) => void;
  onUnhealthy?: (name: string, error: string) => void;
  onBudgetAlert?: (level: BudgetAlertLevel, spentCents: number, limitCents: number) => void;
}

/** `inFlight`: refused for budget only because of reservations of calls still running. */
export type Skip = { kind: "skip"; reason: string; cause: RejectKind; inFlight?: boolean };
export type Attempt = { kind: "ok"; result: ExecuteResult } | Skip | { kind: "fail"; error: HermesError };
export type RejectKind = "disabled" | "health" | "budget" | "price" | "cost" | "model" | "local_only";

export interface Decision extends SelectionDecision {
  kinds: Map<string, RejectKind>;
  /** Some paid backend was refused only because of reservations in flight. */
  budgetInFlight: boolean;
}
