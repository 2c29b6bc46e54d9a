import type { ReserveOutcome, ReserveRequest } from "../../backends/ports.ts";
import type { SqliteHandle } from "../database.ts";

/**
 * The budget_ledger (migration 003): a paid call reserves its maximum cost before it starts, settles
 * to the actual cost after, or is released when it fails. `reserve` checks the daily and the thread
 * limits and inserts in ONE immediate transaction — synchronous, so no other reservation (in this
 * process or another one) can slip between the check and the insert. Implements the manager's
 * BudgetLedgerPort (src/backends/ports.ts) structurally.
 *
 * Committed money = settled actual cost + outstanding reservations; released rows count nothing.
 * Running totals per UTC day and per thread live in budget_totals (migration 007), updated in the
 * same transactions as the ledger, so a check reads two rows instead of summing the day's ledger.
 */
/** The ledger implements BudgetLedgerPort of src/backends/ports.ts; these are its shapes. */
export type LedgerReserve = ReserveRequest;
export type LedgerOutcome = ReserveOutcome;

interface Totals {
  settled: number;
  reserved: number;
}

interface LedgerRow {
  day: string;
  thread_id: number | null;
  reserved_cents: number;
  state: string;
}

const NONE: Totals = { settled: 0, reserved: 0 };

function ledgerStatements(sqlite: SqliteHandle) {
  const p = (sql: string) => sqlite.prepare(sql);
  return {
    total: p(
      "SELECT settled_cents AS settled, reserved_cents AS reserved FROM budget_totals WHERE scope = ?",
    ),
    add: p(`INSERT INTO budget_totals (scope, settled_cents, reserved_cents) VALUES (?, ?, ?)
        ON CONFLICT(scope) DO UPDATE SET settled_cents = settled_cents + excluded.settled_cents,
          reserved_cents = reserved_cents + excluded.reserved_cents`),
    insert:
      p(`INSERT INTO budget_ledger (day, thread_id, job_id, backend, model, reserved_cents, state, created_at)
        VALUES (?, ?, ?, ?, ?, ?, 'reserved', ?)`),
    row: p("SELECT day, thread_id, reserved_cents, state FROM budget_ledger WHERE id = ?"),
    close: p("UPDATE budget_ledger SET state = ?, actual_cents = ?, settled_at = ? WHERE id = ?"),
    open: p("SELECT id FROM budget_ledger WHERE state = 'reserved'"),
  };
}

const fits = (t: Totals, cents: number, limit: number, minRemaining: number) => {
  const remaining = limit - t.settled - t.reserved;
  return remaining >= Math.max(cents, minRemaining);
};

export class BudgetRepo {
  private readonly s: ReturnType<typeof ledgerStatements>;
  private readonly reserveTx: (r: LedgerReserve) => LedgerOutcome;
  private readonly closeTx: (id: number, actual: number | undefined) => void;
  private readonly orphansTx: () => number;
  private readonly now: () => string;

  constructor(sqlite: SqliteHandle, nowIso: () => string = () => new Date().toISOString()) {
    this.now = nowIso;
    this.s = ledgerStatements(sqlite);
    this.reserveTx = sqlite.transaction((r: LedgerReserve) => this.checkAndInsert(r)).immediate;
    this.closeTx = sqlite.transaction((id: number, actual: number | undefined) =>
      this.closeRow(id, actual),
    ).immediate;
    this.orphansTx = sqlite.transaction(() => {
      const ids = (this.s.open.all() as { id: number }[]).map((r) => r.id);
      for (const id of ids) {
        const row = this.s.row.get(id) as LedgerRow;
        this.closeRow(id, row.reserved_cents);
      }
      return ids.length;
    }).immediate;
  }

  private scopeTotals(scope: string): Totals {
    return (this.s.total.get(scope) as Totals | undefined) ?? NONE;
  }

  /** The body of reserve's immediate transaction: both limit checks, then the insert. */
  private checkAndInsert(r: LedgerReserve): LedgerOutcome {
    const s = this.s;
    const daily = this.scopeTotals(`day:${r.day}`);
    if (!fits(daily, r.cents, r.dailyLimitCents, r.minRemainingCents)) {
      return {
        ok: false,
        scope: "daily",
        settledCents: daily.settled,
        reservedCents: daily.reserved,
        limitCents: r.dailyLimitCents,
      };
    }
    if (r.threadId !== undefined && r.threadLimitCents !== undefined) {
      const t = this.scopeTotals(`thread:${r.threadId}`);
      if (!fits(t, r.cents, r.threadLimitCents, r.minRemainingCents)) {
        return {
          ok: false,
          scope: "thread",
          settledCents: t.settled,
          reservedCents: t.reserved,
          limitCents: r.threadLimitCents,
        };
      }
    }
    const info = s.insert.run(r.day, r.threadId ?? null, r.jobId, r.backend, r.model, r.cents, this.now());
    s.add.run(`day:${r.day}`, 0, r.cents);
    if (r.threadId !== undefined) s.add.run(`thread:${r.threadId}`, 0, r.cents);
    return { ok: true, id: Number(info.lastInsertRowid) };
  }

  /** actual undefined = release; a number = settle to it. */
  private closeRow(id: number, actual: number | undefined): void {
    const s = this.s;
    const row = s.row.get(id) as LedgerRow | undefined;
    if (row?.state !== "reserved") return;
    const spent = actual === undefined ? 0 : Math.max(0, actual);
    s.close.run(actual === undefined ? "released" : "settled", spent, this.now(), id);
    s.add.run(`day:${row.day}`, spent, -row.reserved_cents);
    if (row.thread_id !== null) s.add.run(`thread:${row.thread_id}`, spent, -row.reserved_cents);
  }

  reserve(r: LedgerReserve): LedgerOutcome {
    return this.reserveTx(r);
  }

  settle(id: number, actualCents: number): void {
    this.closeTx(id, actualCents);
  }

  release(id: number): void {
    this.closeTx(id, undefined);
  }

  totals(day: string): { settledCents: number; reservedCents: number } {
    const t = (this.s.total.get(`day:${day}`) as Totals | undefined) ?? NONE;
    return { settledCents: t.settled, reservedCents: t.reserved };
  }

  threadCommitted(threadId: number): number {
    const t = (this.s.total.get(`thread:${threadId}`) as Totals | undefined) ?? NONE;
    return t.settled + t.reserved;
  }

  /** After a crash: reservations still open belong to calls that may have been charged; count them in full. */
  recoverOrphans(): number {
    return this.orphansTx();
  }
}
