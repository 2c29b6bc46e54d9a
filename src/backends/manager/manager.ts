import type { Backend, RunProgress } from "../backend.ts";
import type { BackendDefinition } from "../ports.ts";
import { register, setEnabled, settingsOf, statusOf, upsert } from "./backend-set.ts";
import type { BudgetSummary } from "./budget.ts";
import { executeWithConsensus } from "./consensus-run.ts";
import { ManagerCore } from "./core.ts";
import { decide } from "./decide.ts";
import { execute } from "./execute.ts";
import { checkAll, scheduleHealth } from "./health.ts";
import type { SelectionDecision } from "./selection.ts";
import type {
  BackendSettings,
  BackendStatus,
  ConsensusResult,
  ExecuteRequest,
  ExecuteResult,
  ManagerOptions,
  PreviewResult,
} from "./types.ts";

export type { BackendStatsPort, CallRecord } from "../ports.ts";
export { settingsOf } from "./backend-set.ts";
export type {
  BackendSettings,
  BackendStatus,
  ConsensusInfo,
  ConsensusResult,
  ExecuteRequest,
  ExecuteResult,
  ManagerOptions,
  PreviewResult,
} from "./types.ts";

/**
 * All judgement about backends lives here: which are healthy (circuit breakers, periodic checks),
 * which to use for a job (policy, learned scores, load), moving a job to the next one when the first
 * fails, and money (reserve before a paid call, settle after). Backends themselves stay dumb pipes.
 * The work is done in the files beside this one (attempt, execute, decide, health, …) over a
 * ManagerCore; this class is the public face.
 */
export class BackendManager {
  private readonly core: ManagerCore;

  constructor(options: ManagerOptions) {
    this.core = new ManagerCore(options);
  }

  // ---- registry ---------------------------------------------------------------------------------

  register(backend: Backend, settings: BackendSettings, definition?: BackendDefinition): void {
    register(this.core, backend, settings, definition);
  }

  /** Registers a backend built by the registry (src/backends/registry/registry.ts). */
  registerDefinition(definition: BackendDefinition, backend: Backend): void {
    this.register(backend, settingsOf(definition), definition);
  }

  /**
   * Adds a backend or changes one at runtime (API, /backends). A new backend needs the full
   * definition and a `factory`; for an existing one any subset of fields changes. Persisted through
   * the registry port. Returns the backend's status.
   */
  upsert(change: Partial<BackendDefinition> & { name: string }): BackendStatus {
    return upsert(this.core, change);
  }

  /** Turns a backend on or off at runtime; persisted, and survives a restart. */
  setEnabled(name: string, enabled: boolean): BackendStatus {
    return setEnabled(this.core, name, enabled);
  }

  names(): string[] {
    return this.core.names();
  }

  definitions(): BackendDefinition[] {
    return [...this.core.allEntries()].map((e) => e.definition);
  }

  status(): BackendStatus[] {
    return [...this.core.allEntries()].map((e) => statusOf(this.core, e));
  }

  /**
   * How many jobs may run at once across usable backends: the scheduler's capacity. When every
   * backend is down it is 1, so one job at a time keeps probing through the retry path.
   */
  totalSlots(): number {
    let slots = 0;
    let enabled = 0;
    const now = this.core.now();
    for (const e of this.core.allEntries()) {
      if (!e.settings.enabled) continue;
      enabled++;
      if (e.breaker.admission(now, this.core.healthIntervalOf(e)) === "pass") slots += e.slots.concurrency;
    }
    if (enabled === 0) return 0;
    return Math.max(1, slots);
  }

  budgetSummary(): BudgetSummary {
    return this.core.budget.summary(this.core.policy());
  }

  // ---- selection --------------------------------------------------------------------------------

  /** The ranking a job would get now, with rejections and reasoning; nothing is reserved or run. */
  select(req: Pick<ExecuteRequest, "jobType" | "messages"> & Partial<ExecuteRequest>): SelectionDecision {
    return decide(this.core, req, this.core.policy());
  }

  /** The backend and model a new job would most likely get: for the acknowledgement message. */
  preview(preferBackend?: string): PreviewResult | undefined {
    const decision = decide(this.core, { jobType: "*", messages: [], preferBackend }, this.core.policy());
    const name = decision.ranked[0]?.name;
    const first = name === undefined ? undefined : this.core.entry(name);
    if (!first) return undefined;
    return {
      name: first.backend.name,
      model: this.core.modelFor(first, { work: "draft" }),
      health: first.breaker.health.status,
      location: first.settings.location,
    };
  }

  // ---- execution --------------------------------------------------------------------------------

  async execute(
    req: ExecuteRequest,
    signal: AbortSignal,
    onProgress?: (p: RunProgress) => void,
  ): Promise<ExecuteResult> {
    return execute(this.core, req, signal, onProgress);
  }

  /** k samples compared for agreement; see consensus-run.ts. */
  async executeWithConsensus(
    req: ExecuteRequest,
    signal: AbortSignal,
    onProgress?: (p: RunProgress) => void,
  ): Promise<ConsensusResult> {
    return executeWithConsensus(this.core, (r, s, p) => this.execute(r, s, p), req, signal, onProgress);
  }

  // ---- health -----------------------------------------------------------------------------------

  async checkHealth(): Promise<void> {
    await checkAll(this.core);
  }

  /**
   * Checks every backend now, then each at its own interval (backend.<name>.health_interval).
   * Resolves when the first round is in, so start-up can say what it found.
   */
  async startHealthChecks(): Promise<void> {
    if (!this.core.start()) return;
    await Promise.all([...this.core.allEntries()].map((entry) => scheduleHealth(this.core, entry, 0)));
  }

  stop(): void {
    this.core.stop();
  }
}
