// In-process fakes for the backend manager's tests: a scriptable Backend, the errors real backends
// throw (built with the same http-errors helpers), and small builders for a manager and a database.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type {
  Backend,
  BackendKind,
  HealthReport,
  HealthState,
  ModelInfo,
  RunProgress,
  RunRequest,
  RunResult,
} from "../../src/backends/backend.ts";
import { connectionError, httpStatusError, timeoutError } from "../../src/backends/http/errors.ts";
import {
  BackendManager,
  type BackendSettings,
  type ManagerOptions,
} from "../../src/backends/manager/manager.ts";
import { staticConfig } from "../../src/backends/manager/policy.ts";
import type { BackendScore } from "../../src/backends/ports.ts";
import { ManualClock } from "../../src/clock.ts";
import type { HermesError } from "../../src/errors.ts";
import { type HermesDatabase, openDatabase } from "../../src/store/database.ts";

export type Script = (
  req: RunRequest,
  signal: AbortSignal,
  onProgress?: (p: RunProgress) => void,
) => Promise<Partial<RunResult> | undefined> | Partial<RunResult> | undefined;

export interface FakeOptions {
  kind?: BackendKind;
  /** Free (local) backend; default true. */
  local?: boolean;
  models?: string[];
  /** Real milliseconds each run takes (for concurrency tests); default 0. */
  delayMs?: number;
}

/** A Backend in this process: answers "<name> says hi" unless scripted otherwise. */
export class FakeBackend implements Backend {
  readonly name: string;
  readonly kind: BackendKind;
  readonly local: boolean;
  readonly calls: RunRequest[] = [];
  /** Structured-output runs (with a responseFormat), kept apart from `calls` and the scripts. */
  readonly structuredCalls: RunRequest[] = [];
  /** How structured-output runs are answered; default "{}" (JSON that fits no real schema). */
  structured: Script = () => ({ text: "{}" });
  healthChecks = 0;
  health_: HealthState | HermesError = "healthy";
  running = 0;
  maxRunning = 0;
  private script: Script | undefined;
  private readonly queue: Script[] = [];
  private readonly modelNames: string[];
  private readonly delayMs: number;

  constructor(name: string, opts: FakeOptions = {}) {
    this.name = name;
    this.kind = opts.kind ?? "ollama";
    this.local = opts.local ?? true;
    this.modelNames = opts.models ?? [];
    this.delayMs = opts.delayMs ?? 0;
  }

  /** Every run from now on. */
  respond(script: Script): this {
    this.script = script;
    return this;
  }

  /** Only the next run (queued, in order); then back to `respond`. */
  once(script: Script): this {
    this.queue.push(script);
    return this;
  }

  failWith(error: () => HermesError): this {
    return this.respond(() => {
      throw error();
    });
  }

  setHealth(state: HealthState | HermesError): void {
    this.health_ = state;
  }

  async run(
    request: RunRequest,
    signal: AbortSignal,
    onProgress?: (p: RunProgress) => void,
  ): Promise<RunResult> {
    if (request.responseFormat) return this.#runStructured(request, signal);
    this.calls.push(request);
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    try {
      if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
      else await Promise.resolve();
      const script = this.queue.shift() ?? this.script;
      const partial = (await script?.(request, signal, onProgress)) ?? {};
      return {
        text: `${this.name} says hi`,
        model: request.model,
        usage: { inputTokens: 10, outputTokens: 5 },
        latencyMs: 1,
        ...partial,
      };
    } finally {
      this.running--;
    }
  }

  async #runStructured(request: RunRequest, signal: AbortSignal): Promise<RunResult> {
    this.structuredCalls.push(request);
    await Promise.resolve();
    const partial = (await this.structured(request, signal)) ?? {};
    return {
      text: "{}",
      model: request.model,
      usage: { inputTokens: 10, outputTokens: 5 },
      latencyMs: 1,
      ...partial,
    };
  }

  async health(): Promise<HealthReport> {
    this.healthChecks++;
    await Promise.resolve();
    if (typeof this.health_ !== "string") throw this.health_;
    return { status: this.health_, latencyMs: 2 };
  }

  async models(): Promise<ModelInfo[]> {
    return this.modelNames.map((name) => ({ name }));
  }
}

const ctx = (backend: string) => ({ backend, kind: "openai" as const, host: `http://${backend}.test` });
export const errors = {
  http500: (b: string) => httpStatusError(ctx(b), 500, { message: "internal error" }),
  http400: (b: string) => httpStatusError(ctx(b), 400, { message: "bad request" }),
  http429: (b: string, retryAfterS = 20) =>
    httpStatusError(ctx(b), 429, {
      headers: { get: (n: string) => (n === "retry-after" ? String(retryAfterS) : null) },
    }),
  timeout: (b: string) => timeoutError(ctx(b), 1000),
  streamCut: (b: string) =>
    connectionError(ctx(b), Object.assign(new Error("terminated"), { code: "ECONNRESET" }), true),
  refused: (b: string) =>
    connectionError(ctx(b), Object.assign(new Error("refused"), { code: "ECONNREFUSED" }), false),
};

export const messages = [
  { role: "system" as const, content: "You write drafts." },
  { role: "user" as const, content: "a bakery newsletter" },
];

/** Settings for register(): free ones are type "local" unless said otherwise. */
export function settings(over: Partial<BackendSettings> = {}): BackendSettings {
  return { defaultModel: "m", concurrency: 1, enabled: true, location: "in-process", ...over };
}

/** Config with the spec's defaults for the manager's keys, overridable. */
export function config(over: Record<string, string | number | boolean> = {}) {
  return staticConfig({
    "hermes.selection.criteria": "cost_first",
    "hermes.execution.local_first_enabled": true,
    "hermes.selection.prefer_free": true,
    "hermes.selection.quality_threshold": 0.8,
    "hermes.execution.force_remote_threshold": 0.8,
    "hermes.selection.max_cost_per_job": 100,
    "hermes.backends.load_balancing": false,
    "hermes.backends.auto_failover": true,
    "hermes.backends.primary": "",
    "hermes.backends.fallback": "",
    "hermes.budget.daily_budget_cents": 500,
    "hermes.budget.project_budget_cents": 2000,
    "hermes.projects.min_remote_budget_cents": 0,
    "hermes.budget.budget_alerts": true,
    "hermes.budget.price_table": "{}",
    "hermes.budget.default_max_output_tokens": 1000,
    "hermes.execution.k_sample_count": 3,
    "hermes.execution.consensus_threshold": 0.67,
    "hermes.talos.health_check_interval": 10,
    ...over,
  });
}

export function manager(options: Partial<ManagerOptions> & { clock?: ManualClock } = {}) {
  const clock = options.clock ?? new ManualClock();
  const m = new BackendManager({ config: config(), ...options, clock });
  return { manager: m, clock };
}

/** A scores port over a plain object: "backend|jobType" → partial score. */
export function scores(values: Record<string, Partial<BackendScore>>) {
  const map = new Map<string, BackendScore>();
  for (const [k, v] of Object.entries(values)) {
    map.set(k, { quality: undefined, speed: 0.5, reliability: 1, samples: 20, ...v });
  }
  return { scores: () => map };
}

export const signal = () => new AbortController().signal;

/** Lets pending promise callbacks run (health checks are async; ManualClock timers are not). */
export async function flush(times = 5): Promise<void> {
  for (let i = 0; i < times; i++) await new Promise<void>((r) => setImmediate(r));
}

/** A migrated database in a fresh temp directory (a real file, WAL). */
export async function fileDb(): Promise<{ db: HermesDatabase; cleanup: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), "hermes-manager-"));
  const db = await openDatabase({ path: join(dir, "hermes.db") });
  return {
    db,
    cleanup: async () => {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Inserts a thread and `n` jobs; returns their ids. */
export function seedJobs(
  db: HermesDatabase,
  n: number,
  threadId?: number,
): { threadId: number; jobIds: number[] } {
  const tid =
    threadId ??
    Number(
      db.sqlite
        .prepare(
          "INSERT INTO idea_threads (uuid, title, original_request) VALUES (lower(hex(randomblob(8))), 't', 'r') RETURNING id",
        )
        .pluck()
        .get(),
    );
  const insert = db.sqlite
    .prepare("INSERT INTO jobs (thread_id, job_type) VALUES (?, 'research') RETURNING id")
    .pluck();
  const jobIds = Array.from({ length: n }, () => Number(insert.get(tid)));
  return { threadId: tid, jobIds };
}
