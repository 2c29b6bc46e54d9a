/**
 * Money, around the budget_ledger port: reserve the most a paid call can cost before it starts,
 * settle to the actual cost after, release on failure. Limits are the daily budget (all threads)
 * and the project budget (per thread, all days); neither may be crossed, and a paid backend is not
 * used when less than hermes.projects.min_remote_budget_cents would remain. Local backends never
 * touch the ledger. Alerts at 80 % and 100 % of the daily budget fire once each per UTC day.
 */

import type { BudgetLedgerPort, ReserveOutcome } from "../ports.ts";
import type { ManagerPolicy } from "./policy.ts";

export type BudgetAlertLevel = 80 | 100;

export interface BudgetSummary {
  /** UTC day, YYYY-MM-DD. */
  day: string;
  spentCents: number;
  reservedCents: number;
  dailyLimitCents: number;
  remainingCents: number;
  projectLimitCents: number;
  minRemoteBudgetCents: number;
  /** Alert levels already sent today. */
  alertsSent: BudgetAlertLevel[];
  /** False when no ledger is wired: nothing paid can run. */
  tracking: boolean;
}

const utcDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

export class BudgetGuard {
  readonly #ledger: BudgetLedgerPort | undefined;
  readonly #now: () => number;
  readonly #onAlert: ((level: BudgetAlertLevel, spentCents: number, limitCents: number) => void) | undefined;
  #alertDay = "";
  readonly #sent = new Set<BudgetAlertLevel>();

  constructor(
    ledger: BudgetLedgerPort | undefined,
    now: () => number,
    onAlert?: (level: BudgetAlertLevel, spentCents: number, limitCents: number) => void,
  ) {
    this.#ledger = ledger;
    this.#now = now;
    this.#onAlert = onAlert;
    ledger?.recoverOrphans?.();
  }

  get enabled(): boolean {
    return this.#ledger !== undefined;
  }

  /**
   * Cheap pre-check for ranking: why a paid call of `cents` cannot start now, or undefined. The
   * reservation itself re-checks atomically.
   */
  blockReason(
    cents: number,
    threadId: number | undefined,
    policy: ManagerPolicy,
  ): { reason: string; inFlight: boolean } | undefined {
    if (!this.#ledger) return { reason: "no budget ledger: paid calls are off", inFlight: false };
    const needed = Math.max(cents, policy.minRemoteBudgetCents);
    const t = this.#ledger.totals(utcDay(this.#now()));
    const remaining = policy.dailyBudgetCents - t.settledCents - t.reservedCents;
    if (remaining < needed) {
      if (t.settledCents + needed > policy.dailyBudgetCents) this.#alert(t.settledCents, policy, true);
      return {
        reason: `daily budget: ${fmt(remaining)}¢ of ${policy.dailyBudgetCents}¢ left, needs ${fmt(needed)}¢`,
        inFlight: t.reservedCents > 0 && t.settledCents + needed <= policy.dailyBudgetCents,
      };
    }
    if (threadId !== undefined) {
      const left = policy.projectBudgetCents - this.#ledger.threadCommitted(threadId);
      if (left < needed) {
        return {
          reason: `project budget: ${fmt(left)}¢ of ${policy.projectBudgetCents}¢ left for this thread`,
          inFlight: false,
        };
      }
    }
    return undefined;
  }

  reserve(
    r: { threadId: number | undefined; jobId: number; backend: string; model: string; cents: number },
    policy: ManagerPolicy,
  ): ReserveOutcome {
    if (!this.#ledger) return { ok: false, scope: "daily", settledCents: 0, reservedCents: 0, limitCents: 0 };
    const outcome = this.#ledger.reserve({
      day: utcDay(this.#now()),
      threadId: r.threadId,
      jobId: r.jobId,
      backend: r.backend,
      model: r.model,
      cents: r.cents,
      dailyLimitCents: policy.dailyBudgetCents,
      threadLimitCents: r.threadId === undefined ? undefined : policy.projectBudgetCents,
      minRemainingCents: policy.minRemoteBudgetCents,
    });
    if (!outcome.ok && outcome.scope === "daily") {
      // Exhausted for practical purposes when even without the calls in flight it would not fit.
      const needed = Math.max(r.cents, policy.minRemoteBudgetCents);
      if (outcome.settledCents + needed > outcome.limitCents) this.#alert(outcome.settledCents, policy, true);
    }
    return outcome;
  }

  settle(id: number, actualCents: number, policy: ManagerPolicy): void {
    if (!this.#ledger) return;
    this.#ledger.settle(id, actualCents);
    this.#alert(this.#ledger.totals(utcDay(this.#now())).settledCents, policy, false);
  }

  release(id: number): void {
    this.#ledger?.release(id);
  }

  summary(policy: ManagerPolicy): BudgetSummary {
    const day = utcDay(this.#now());
    const t = this.#ledger?.totals(day) ?? { settledCents: 0, reservedCents: 0 };
    if (this.#alertDay !== day) {
      this.#alertDay = day;
      this.#sent.clear();
    }
    return {
      day,
      spentCents: round(t.settledCents),
      reservedCents: round(t.reservedCents),
      dailyLimitCents: policy.dailyBudgetCents,
      remainingCents: round(Math.max(0, policy.dailyBudgetCents - t.settledCents - t.reservedCents)),
      projectLimitCents: policy.projectBudgetCents,
      minRemoteBudgetCents: policy.minRemoteBudgetCents,
      alertsSent: [...this.#sent].sort((a, b) => a - b),
      tracking: this.enabled,
    };
  }

  #alert(spent: number, policy: ManagerPolicy, exhausted: boolean): void {
    const day = utcDay(this.#now());
    if (this.#alertDay !== day) {
      this.#alertDay = day;
      this.#sent.clear();
    }
    const limit = policy.dailyBudgetCents;
    if (limit <= 0) return;
    const levels: BudgetAlertLevel[] = [];
    if (spent >= 0.8 * limit || exhausted) levels.push(80);
    if (spent >= limit || exhausted) levels.push(100);
    for (const level of levels) {
      if (this.#sent.has(level)) continue;
      this.#sent.add(level);
      if (policy.budgetAlerts) this.#onAlert?.(level, round(spent), limit);
    }
  }
}

const round = (n: number): number => Math.round(n * 10_000) / 10_000;
const fmt = (n: number): string => (Math.round(n * 100) / 100).toString();
