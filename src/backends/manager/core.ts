import type { BackendScore, SelectionRecord } from "../ports.ts";
import { BudgetGuard } from "./budget.ts";
import { type ManagerPolicy, readPolicy } from "./policy.ts";
import { PriceTable } from "./pricing.ts";
import type { Entry, ManagerOptions } from "./types.ts";

export const EMPTY_SCORES = new Map<string, BackendScore>();
export const NONE: readonly string[] = [];

/**
 * The manager's shared state (entries, options, budget guard, lifecycle flags) and the small
 * cached lookups every part of it needs: policy, price table, learned scores, selection history.
 */
export class ManagerCore {
  readonly entries = new Map<string, Entry>();
  readonly o: ManagerOptions;
  readonly budget: BudgetGuard;
  stopped = false;
  started = false;
  order = 0;
  private prices: { raw: string; table: PriceTable } = { raw: "", table: new PriceTable() };
  private scoreCache: { at: number; map: Map<string, BackendScore> } | undefined;

  constructor(options: ManagerOptions) {
    this.o = options;
    this.budget = new BudgetGuard(options.budget, () => options.clock.now(), options.onBudgetAlert);
  }

  policy(): ManagerPolicy {
    const p = readPolicy(this.o.config);
    if (this.o.localFirst) p.localFirst = this.o.localFirst();
    if (this.o.healthIntervalMs) p.defaultHealthIntervalMs = this.o.healthIntervalMs();
    return p;
  }

  priceTable(policy: ManagerPolicy): PriceTable {
    if (this.prices.raw !== policy.priceTable) {
      this.prices = { raw: policy.priceTable, table: new PriceTable(policy.priceTable) };
    }
    return this.prices.table;
  }

  scores(): Map<string, BackendScore> {
    if (!this.o.scores) return EMPTY_SCORES;
    if (!this.scoreCache) this.loadScores();
    return this.scoreCache?.map ?? EMPTY_SCORES;
  }

  private loadScores(): void {
    try {
      this.scoreCache = { at: this.o.clock.now(), map: this.o.scores?.scores() ?? EMPTY_SCORES };
    } catch {
      this.scoreCache = { at: this.o.clock.now(), map: this.scoreCache?.map ?? EMPTY_SCORES };
    }
  }

  /** Learned scores are re-read after a job, at most every scoresTtlMs: never on the decision path. */
  refreshScoresIfStale(): void {
    if (!this.o.scores || !this.scoreCache) return;
    if (this.o.clock.now() - this.scoreCache.at >= (this.o.scoresTtlMs ?? 30_000)) this.loadScores();
  }

  recordSelection(entry: SelectionRecord): void {
    try {
      this.o.history?.record(entry);
    } catch {
      // History is for learning; a failed write must not fail the job.
    }
  }
}
