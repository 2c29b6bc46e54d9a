import type { TimerHandle } from "../../clock.ts";
import type { Backend } from "../backend.ts";
import type { BackendDefinition, BackendScore, CallRecord, SelectionRecord } from "../ports.ts";
import { BudgetGuard } from "./budget.ts";
import type { HealthTrack } from "./health-state.ts";
import { modelFor, parseWorkModels } from "./model-choice.ts";
import { list, type ManagerPolicy, num, readPolicy } from "./policy.ts";
import { PriceTable } from "./pricing.ts";
import type { Entry, ExecuteRequest, ManagerOptions } from "./types.ts";

const EMPTY_SCORES = new Map<string, BackendScore>();
export const NONE: readonly string[] = [];
const NO_WORK_MODELS: ReadonlyMap<string, string> = new Map();

/**
 * The manager's private state (entries, options, budget guard, lifecycle) behind narrow methods,
 * and the small cached lookups every part of it needs: policy, price table, learned scores,
 * selection history. The functions in the files beside it act through these methods only, so
 * the options (ports, callbacks) stay in one place and none of them is read from outside.
 */
export class ManagerCore {
  readonly budget: BudgetGuard;
  private readonly entries = new Map<string, Entry>();
  private readonly options: ManagerOptions;
  private stopped = false;
  private started = false;
  private order = 0;
  private prices: { raw: string; table: PriceTable } = { raw: "", table: new PriceTable() };
  private scoreCache: { at: number; map: Map<string, BackendScore> } | undefined;

  constructor(options: ManagerOptions) {
    this.options = options;
    this.budget = new BudgetGuard(options.budget, () => options.clock.now(), options.onBudgetAlert);
  }

  // ---- entries ----------------------------------------------------------------------------------

  entry(name: string): Entry | undefined {
    return this.entries.get(name);
  }

  allEntries(): IterableIterator<Entry> {
    return this.entries.values();
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  /** Stores an entry (replacing one of the same name) and gives a new one its registration order. */
  setEntry(entry: Entry): void {
    this.entries.set(entry.backend.name, entry);
  }

  nextOrder(): number {
    return this.order++;
  }

  /** Whether `entry` is still the live one for its name (a replaced entry's timers must stop). */
  isCurrent(entry: Entry): boolean {
    return !this.stopped && this.entries.get(entry.backend.name) === entry;
  }

  // ---- lifecycle --------------------------------------------------------------------------------

  /** True once health checks started and until stop(): new entries are checked at once. */
  running(): boolean {
    return this.started && !this.stopped;
  }

  /** Marks health checks started; false when they already were. */
  start(): boolean {
    if (this.started) return false;
    this.started = true;
    return true;
  }

  stop(): void {
    this.stopped = true;
    for (const e of this.entries.values()) {
      if (e.timer) this.options.clock.clearTimeout(e.timer);
      e.timer = undefined;
    }
  }

  // ---- clock ------------------------------------------------------------------------------------

  now(): number {
    return this.options.clock.now();
  }

  setTimer(run: () => void, ms: number): TimerHandle {
    return this.options.clock.setTimeout(run, ms);
  }

  clearTimer(timer: TimerHandle): void {
    this.options.clock.clearTimeout(timer);
  }

  // ---- configuration ----------------------------------------------------------------------------

  policy(): ManagerPolicy {
    const p = readPolicy(this.options.config);
    if (this.options.localFirst) p.localFirst = this.options.localFirst();
    if (this.options.healthIntervalMs) p.defaultHealthIntervalMs = this.options.healthIntervalMs();
    return p;
  }

  priceTable(policy: ManagerPolicy): PriceTable {
    if (this.prices.raw !== policy.priceTable) {
      this.prices = { raw: policy.priceTable, table: new PriceTable(policy.priceTable) };
    }
    return this.prices.table;
  }

  /** Health interval of one backend, read live: backend.<name>.health_interval, else the default. */
  healthIntervalOf(entry: Entry): number {
    const config = this.options.config;
    const configured = num(config, `backend.${entry.backend.name}.health_interval`, Number.NaN);
    if (Number.isFinite(configured) && configured > 0) return configured * 1000;
    if (entry.settings.healthIntervalMs !== undefined) return entry.settings.healthIntervalMs;
    if (this.options.healthIntervalMs) return this.options.healthIntervalMs();
    return Math.max(1, num(config, "hermes.talos.health_check_interval")) * 1000;
  }

  /** The model `entry` runs for the job: the pinned one, else its own for the job's kind of work. */
  modelFor(entry: Entry, req: Pick<ExecuteRequest, "model" | "work">): string {
    const works =
      req.model || req.work === undefined
        ? NO_WORK_MODELS
        : parseWorkModels(list(this.options.config, `backend.${entry.backend.name}.work_models`));
    return modelFor(entry, req, works);
  }

  /** Deadline of one health check. */
  healthTimeoutMs(): number {
    return this.options.healthTimeoutMs ?? 5_000;
  }

  /** Builds a backend for a runtime upsert; undefined when the manager was given no factory. */
  buildBackend(definition: BackendDefinition): Backend | undefined {
    return this.options.factory?.(definition);
  }

  // ---- ports and callbacks ----------------------------------------------------------------------

  saveDefinition(definition: BackendDefinition): void {
    this.options.registry?.saveDefinition(definition);
  }

  saveEnabled(name: string, enabled: boolean): void {
    this.options.registry?.saveEnabled(name, enabled);
  }

  recordCall(call: CallRecord): void {
    this.options.stats?.recordCall(call);
  }

  recordHealth(name: string, health: HealthTrack): void {
    this.options.stats?.recordHealth(name, health);
  }

  recovered(name: string): void {
    this.options.onRecovered?.(name);
  }

  becameUnhealthy(name: string, error: string): void {
    this.options.onUnhealthy?.(name, error);
  }

  recordSelection(entry: SelectionRecord): void {
    try {
      this.options.history?.record(entry);
    } catch {
      // History is for learning; a failed write must not fail the job.
    }
  }

  // ---- learned scores ---------------------------------------------------------------------------

  scores(): Map<string, BackendScore> {
    if (!this.options.scores) return EMPTY_SCORES;
    if (!this.scoreCache) this.loadScores();
    return this.scoreCache?.map ?? EMPTY_SCORES;
  }

  private loadScores(): void {
    const at = this.options.clock.now();
    try {
      this.scoreCache = { at, map: this.options.scores?.scores() ?? EMPTY_SCORES };
    } catch {
      this.scoreCache = { at, map: this.scoreCache?.map ?? EMPTY_SCORES };
    }
  }

  /** Learned scores are re-read after a job, at most every scoresTtlMs: never on the decision path. */
  refreshScoresIfStale(): void {
    if (!this.options.scores || !this.scoreCache) return;
    const ttl = this.options.scoresTtlMs ?? 30_000;
    if (this.options.clock.now() - this.scoreCache.at >= ttl) this.loadScores();
  }
}
