import type { JobManager } from "../jobs/jobs.ts";
import type { OllamaInfoPort } from "../ollama.ts";
import type { ResourceGuard, ResourceLimits, ResourceProbe } from "../resources.ts";

/** The shapes server.ts and routes.ts share (kept here so neither file imports the other). */

/** The slice of a pino logger the server uses. */
export interface AgentLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface TalosAppDeps {
  /** The shared secret; undefined only when the config allowed no token (loopback + explicit opt-in). */
  token: string | undefined;
  jobs: JobManager;
  ollama: OllamaInfoPort;
  resources: ResourceProbe;
  limits: ResourceLimits;
  /** Defaults to a guard over `resources` and `limits`. */
  guard?: ResourceGuard;
  log?: AgentLogger;
  /** For uptime; defaults to Date.now. */
  now?: () => number;
  maxBodyBytes?: number;
}

/** What the routes work with once createTalosApp has filled in the defaults. */
export interface RouteScope {
  deps: TalosAppDeps;
  log: AgentLogger;
  guard: ResourceGuard;
  now: () => number;
  startedAt: number;
}
