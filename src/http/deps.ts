import type { ConfigChange } from "../config/system-config.ts";
import type { ConversationPort } from "../engine/conversation/types.ts";
import type { SubmitIdeaInput, SubmitIdeaResult } from "../engine/engine.ts";
import type { ThreadQueries } from "../engine/threads/queries.ts";
import type { SystemHealthReport } from "../ops/system-health.ts";
import type { ConfigAuditRepo } from "../store/system/config-audit-repo.ts";
import type { ConfigRow } from "../store/system/config-repo.ts";

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
  string(key: string): string;
  number(key: string): number;
  bool(key: string): boolean;
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

/** The learning module, when wired; without it the API answers from the learned_patterns table. */
export interface LearningPort {
  optimize?(threadId: number, userId: string): Promise<OptimizeOutcome>;
  patterns?(): Promise<unknown[]>;
}

export interface ApiDeps {
  /** HERMES_ADMIN_TOKEN; without it every /api/* route answers 503 (the API is off). */
  adminToken: string | undefined;
  config: ConfigPort;
  now: () => number;
  log: ApiLog;
  ideas: IdeasPort;
  threads: ThreadQueries;
  /** The conversation flow (questions, answers, feedback): the API never records answers itself. */
  conversation: ConversationPort;
  learning?: LearningPort | undefined;
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
  configAudit: ConfigAuditRepo;
  /** Told after settings changed through the API (e.g. to reschedule backups). */
  onConfigChanged?: (keys: string[]) => void;
  /** Values scrubbed from any error text sent to a client (API keys, tokens). */
  secrets?: (string | undefined)[];
  /** The backend registry at runtime (the BackendManager). */
  backendAdmin?: BackendAdminPort | undefined;
}

export interface BackendAdminPort {
  status(): { name: string }[];
  upsert(change: import("./routes/backends.ts").BackendChange): unknown;
  setEnabled(name: string, enabled: boolean): unknown;
}
