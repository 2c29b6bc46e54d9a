import PQueue from "p-queue";
import type { Clock, TimerHandle } from "../clock.ts";
import { HermesError, toHermesError } from "../errors.ts";
import type { Backend, ChatMessage, HealthState, RunProgress, RunResult } from "./backend.ts";
import {
  acceptsWork,
  type HealthTrack,
  initialHealth,
  recordFailure,
  recordSuccess,
} from "./health-state.ts";

export interface BackendSettings {
  /** Model used when a job names none. */
  defaultModel: string;
  concurrency: number;
  enabled: boolean;
  /** Where the backend is, for messages ("Ollama at http://…"). Never contains a secret. */
  location: string;
}

export interface BackendStatus {
  name: string;
  kind: string;
  local: boolean;
  enabled: boolean;
  location: string;
  defaultModel: string;
  health: HealthState;
  consecutiveFailures: number;
  lastCheck: string | undefined;
  lastError: string | undefined;
  latencyMs: number | undefined;
  running: number;
  concurrency: number;
  availableModels: string[];
}

export interface ExecuteRequest {
  jobId: number;
  jobType: string;
  messages: ChatMessage[];
  model?: string | undefined;
  maxTokens?: number | undefined;
  preferBackend?: string | undefined;
}

export interface ExecuteResult extends RunResult {
  backend: string;
  fallbackUsed: boolean;
  attempted: string[];
}

/** What the manager reports for learning and persistence; implemented over the store in main.ts. */
export interface BackendStatsPort {
  recordHealth(name: string, health: HealthTrack): void;
  recordCall(entry: {
    backend: string;
    jobId: number;
    jobType: string;
    model: string;
    success: boolean;
    latencyMs: number;
    tokens: number;
    costCents: number;
    error?: string | undefined;
  }): void;
}

/** What a person can do when a backend of this kind cannot be reached. */
const ADVICE: Record<string, string> = {
  ollama: "Start Ollama (`ollama serve`) or point OLLAMA_HOST at a running one.",
  talos:
    "Check that Talos is running on its machine (`npm run talos` or pm2) and that TALOS_URL is reachable over Tailscale.",
  openai: "Check the API endpoint's URL and your network; the provider may be down.",
};

interface Entry {
  backend: Backend;
  settings: BackendSettings;
  health: HealthTrack;
  slots: PQueue;
  models: string[];
  warmModels: string[];
}

export interface ManagerOptions {
  clock: Clock;
  stats?: BackendStatsPort;
  healthIntervalMs: () => number;
  localFirst: () => boolean;
  /** Called when a backend turns healthy again, so waiting jobs can go now. */
  onRecovered?: (name: string) => void;
  onUnhealthy?: (name: string, error: string) => void;
}

/**
 * All judgement about backends lives here: which one is healthy, which to use, moving a job to the
 * next one when the first fails. Backends themselves stay dumb pipes.
 */
export class BackendManager {
  private readonly entries = new Map<string, Entry>();
  private readonly o: ManagerOptions;
  private healthTimer: TimerHandle | undefined;
  private stopped = false;

  constructor(options: ManagerOptions) {
    this.o = options;
  }

  register(backend: Backend, settings: BackendSettings): void {
    this.entries.set(backend.name, {
      backend,
      settings,
      health: initialHealth(),
      slots: new PQueue({ concurrency: Math.max(1, settings.concurrency) }),
      models: [],
      warmModels: [],
    });
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  status(): BackendStatus[] {
    return [...this.entries.values()].map((e) => ({
      name: e.backend.name,
      kind: e.backend.kind,
      local: e.backend.local,
      enabled: e.settings.enabled,
      location: e.settings.location,
      defaultModel: e.settings.defaultModel,
      health: e.health.status,
      consecutiveFailures: e.health.consecutiveFailures,
      lastCheck:
        e.health.lastCheckMs === undefined ? undefined : new Date(e.health.lastCheckMs).toISOString(),
      lastError: e.health.lastError,
      latencyMs: e.health.latencyMs,
      running: e.slots.pending,
      concurrency: e.slots.concurrency,
      availableModels: e.models,
    }));
  }

  /**
   * How many jobs may run at once across usable backends: the scheduler's capacity. When every
   * backend is down it is 1, so one job at a time keeps probing through the retry path.
   */
  totalSlots(): number {
    let slots = 0;
    let enabled = 0;
    for (const e of this.entries.values()) {
      if (!e.settings.enabled) continue;
      enabled++;
      if (acceptsWork(e.health)) slots += e.slots.concurrency;
    }
    if (enabled === 0) return 0;
    return Math.max(1, slots);
  }

  /** The backend and model a new job would most likely get: for the acknowledgement message. */
  preview(
    preferBackend?: string,
  ): { name: string; model: string; health: HealthState; location: string } | undefined {
    const first = this.ranked(preferBackend)[0];
    if (!first) return undefined;
    return {
      name: first.backend.name,
      model: this.pickModel(first, undefined),
      health: first.health.status,
      location: first.settings.location,
    };
  }

  async execute(
    req: ExecuteRequest,
    signal: AbortSignal,
    onProgress?: (p: RunProgress) => void,
  ): Promise<ExecuteResult> {
    let candidates = this.ranked(req.preferBackend).filter((e) => acceptsWork(e.health));
    if (candidates.length === 0) {
      // Every circuit is open: half-open probe now, so a backend that came back is used at this
      // retry rather than at the next periodic health check.
      await this.checkHealth();
      candidates = this.ranked(req.preferBackend).filter((e) => acceptsWork(e.health));
    }
    if (candidates.length === 0) throw this.noneAvailable();
    let allUnreachable = true;
    const attempted: string[] = [];
    let lastError: HermesError | undefined;
    for (const entry of candidates) {
      if (signal.aborted) break;
      attempted.push(entry.backend.name);
      const model = this.pickModel(entry, req.model);
      const started = this.o.clock.now();
      try {
        const result = await entry.slots.add(
          () =>
            entry.backend.run(
              { jobId: req.jobId, model, messages: req.messages, maxTokens: req.maxTokens },
              signal,
              onProgress,
            ),
          { signal },
        );
        if (!result)
          throw new HermesError("BACKEND_ERROR", `${entry.backend.name} returned nothing`, {
            retryable: true,
          });
        this.markSuccess(entry, result.latencyMs);
        this.o.stats?.recordCall({
          backend: entry.backend.name,
          jobId: req.jobId,
          jobType: req.jobType,
          model: result.model,
          success: true,
          latencyMs: result.latencyMs,
          tokens: result.usage.inputTokens + result.usage.outputTokens,
          costCents: result.costCents ?? 0,
        });
        return { ...result, backend: entry.backend.name, fallbackUsed: attempted.length > 1, attempted };
      } catch (thrown) {
        const error = toHermesError(signal.aborted ? (signal.reason ?? thrown) : thrown, "BACKEND_ERROR");
        if (error.code === "CANCELLED" || signal.aborted) throw error;
        this.o.stats?.recordCall({
          backend: entry.backend.name,
          jobId: req.jobId,
          jobType: req.jobType,
          model,
          success: false,
          latencyMs: this.o.clock.now() - started,
          tokens: 0,
          costCents: 0,
          error: `${error.code}: ${error.message}`,
        });
        if (!error.retryable) throw error;
        this.markFailure(entry, error.message);
        lastError = error;
        if (error.code !== "BACKEND_UNAVAILABLE" && error.code !== "TALOS_UNAVAILABLE")
          allUnreachable = false;
      }
    }
    if (lastError && !allUnreachable) throw lastError;
    throw this.noneAvailable(lastError);
  }

  async checkHealth(): Promise<void> {
    await Promise.all(
      [...this.entries.values()]
        .filter((e) => e.settings.enabled)
        .map(async (entry) => {
          const signal = AbortSignal.timeout(5_000);
          try {
            const report = await entry.backend.health(signal);
            if (report.status === "unhealthy") {
              this.markFailure(entry, report.detail ?? "health check failed");
              return;
            }
            if (report.warmModels) entry.warmModels = report.warmModels;
            try {
              entry.models = (await entry.backend.models(signal)).map((m) => m.name);
            } catch {
              // A model list is a nicety; reachability is what matters here.
            }
            this.markSuccess(entry, report.latencyMs, report.status === "degraded" ? "degraded" : "healthy");
          } catch (thrown) {
            this.markFailure(entry, toHermesError(thrown).message);
          }
        }),
    );
  }

  startHealthChecks(): void {
    const loop = () => {
      if (this.stopped) return;
      this.checkHealth().finally(() => {
        if (this.stopped) return;
        this.healthTimer = this.o.clock.setTimeout(loop, this.o.healthIntervalMs());
      });
    };
    loop();
  }

  stop(): void {
    this.stopped = true;
    if (this.healthTimer) this.o.clock.clearTimeout(this.healthTimer);
  }

  private ranked(preferBackend?: string): Entry[] {
    const localFirst = this.o.localFirst();
    const score = (e: Entry): number => {
      let s = 0;
      if (e.backend.name === preferBackend) s += 1000;
      if (e.health.status === "healthy") s += 100;
      else if (e.health.status === "unknown") s += 60;
      else if (e.health.status === "degraded") s += 30;
      if (localFirst && e.backend.local) s += 50;
      // Least busy among equals.
      s -= e.slots.pending + e.slots.size;
      return s;
    };
    return [...this.entries.values()].filter((e) => e.settings.enabled).sort((a, b) => score(b) - score(a));
  }

  /** The requested model, else the configured default if the backend has it, else a warm one, else any. */
  private pickModel(entry: Entry, requested: string | undefined): string {
    if (requested) return requested;
    const def = entry.settings.defaultModel;
    if (entry.models.length === 0 || entry.models.includes(def)) return def;
    return entry.warmModels[0] ?? entry.models[0] ?? def;
  }

  private markSuccess(entry: Entry, latencyMs: number, status: HealthState = "healthy"): void {
    const wasDown = entry.health.status === "unhealthy" || entry.health.status === "degraded";
    entry.health = recordSuccess(this.o.clock.now(), latencyMs, status);
    this.o.stats?.recordHealth(entry.backend.name, entry.health);
    if (wasDown) this.o.onRecovered?.(entry.backend.name);
  }

  private markFailure(entry: Entry, error: string): void {
    const before = entry.health.status;
    entry.health = recordFailure(entry.health, this.o.clock.now(), error);
    this.o.stats?.recordHealth(entry.backend.name, entry.health);
    if (before !== "unhealthy" && entry.health.status === "unhealthy")
      this.o.onUnhealthy?.(entry.backend.name, error);
  }

  /** Every enabled backend is unreachable: say where each is and what to do, per kind. */
  private noneAvailable(lastError?: HermesError): HermesError {
    const enabled = [...this.entries.values()].filter((e) => e.settings.enabled);
    if (enabled.length === 0) {
      return new HermesError("BACKEND_UNAVAILABLE", "No backend is enabled.", {
        retryable: false,
        userAction: "Enable a backend (set OLLAMA_HOST, TALOS_URL or an API key) and restart Hermes.",
      });
    }
    const where = enabled.map((e) => `${e.backend.name} at ${e.settings.location}`).join(", ");
    const advice = [...new Set(enabled.map((e) => ADVICE[e.backend.kind]))].join(" ");
    const onlyTalos = enabled.every((e) => e.backend.kind === "talos");
    return new HermesError(
      onlyTalos ? "TALOS_UNAVAILABLE" : "BACKEND_UNAVAILABLE",
      `Cannot reach ${where}.`,
      {
        details: lastError?.message,
        retryable: true,
        userAction: advice,
        cause: lastError,
      },
    );
  }
}
