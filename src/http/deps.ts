import type { ConfigKey, ConfigValue } from "../config/keys.ts";
import type { ConfigChange, ConfigRow } from "../config/system-config.ts";
import type { SubmitIdeaInput, SubmitIdeaResult } from "../engine/engine.ts";
import type { ThreadService } from "../engine/threads/service.ts";
import type { SystemHealthReport } from "../ops/system-health.ts";

/**
 * What the HTTP API needs from the rest of Hermes, as small ports. main.ts builds them from the
 * Engine, the repositories and ops; tests build them over an in-memory database.
 */
export interface ApiLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** SystemConfig satisfies this. */
export interface ConfigPort {
  list(): ConfigRow[];
  row(key: string): ConfigRow | undefined;
  has(key: string): boolean;
  get<K extends ConfigKey>(key: K): ConfigValue<K>;
  string(key: string): string;
  number(key: string): number;
  bool(key: string): boolean;
  /** Validates without storing (a batch checks all its changes first). */
  check(key: string, value: string): string;
  /** Validates, stores, audits and announces a change (SystemConfig.set). */
  set(key: string, value: string, by: string, options?: { force?: boolean }): Promise<ConfigChange>;
}

/** The Engine satisfies this. */
export interface IdeasPort {
  submitIdea(input: SubmitIdeaInput): Promise<SubmitIdeaResult>;
}

export interface OptimizeOutcome {
  applied: { id: number | string; name: string; description?: string | null }[];
  expectedImprovements: string[];
  followUpJobId?: number | undefined;
  message?: string | undefined;
}

/** The learning module (ConversationFlow): applies what is learned to a thread. */
export interface LearningPort {
  optimize(threadId: number, userId: string): Promise<OptimizeOutcome>;
}

export interface ApiDeps {
  /** HERMES_ADMIN_TOKEN; without it every /api/* route answers 503 (the API is off). */
  adminToken: string | undefined;
  config: ConfigPort;
  now: () => number;
  log: ApiLog;
  /** The thread service: submit, answers, information, cancel, feedback and the reads (one path with Telegram and the chat). */
  threads: ThreadService;
  learning: LearningPort;
  /** How many jobs can run at once (BackendManager.totalSlots), for time estimates. */
  slots?: () => number;
  /** Signing key of X-Hermes-Signature (see signature.ts callbackSecret). */
  callbackSecret: () => string | undefined;
  /** Signatures of accepted callbacks, so none is accepted twice (CallbackReplayRepo). */
  callbackReplay: { claim(signature: string, expiresAtMs: number, nowMs: number): boolean };
  /** Refuses callback URLs that point inside (CallbackTargetPolicy). */
  callbackTargets: { check(url: string): Promise<void> };
  system: () => SystemHealthReport;
  /** Prometheus text for GET /metrics. */
  metrics: () => string;
  /** Values scrubbed from any error text sent to a client (API keys, tokens). */
  secrets?: (string | undefined)[];
  /** The backend registry at runtime (the BackendManager). */
  backendAdmin?: BackendAdminPort | undefined;
}

export interface BackendAdminPort {
  status(): { name: string }[];
  upsert(change: BackendChange): unknown;
  setEnabled(name: string, enabled: boolean): unknown;
}

/** A runtime change to the backend registry (PUT /api/backends/:name), in the manager's terms. */
export type BackendChange = { name: string } & Partial<{
  enabled: boolean;
  url: string;
  provider: "ollama" | "talos" | "openrouter" | "openai" | "custom";
  type: "local" | "remote_api" | "server_model" | "custom";
  free: boolean;
  models: string[];
  defaultModel: string;
  concurrency: number;
  timeoutMs: number;
  preferredFor: string[];
  fallbacks: string[];
  secretEnv: string;
  origin: "runtime";
}>;
