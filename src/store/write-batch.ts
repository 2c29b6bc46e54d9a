import { type Clock, systemClock, type TimerHandle } from "../clock.ts";
import type { SqliteHandle } from "./database.ts";

/** How long a record may wait for a job's completion to ride with before it is written by itself. */
export const WRITE_BEHIND_MS = 1000;

/**
 * Write-behind for records that nothing reads back on the hot path (backend_performance rows and
 * counters, backend_selection_history): they are queued and written inside the next job
 * completion's transaction (JobsRepo.rideAlong), or by themselves in one transaction at most
 * `delayMs` later when no job completes by then. A commit rewrites every page it touches, so a
 * record riding with the completion costs a few statements instead of a commit and its WAL frames:
 * a draft's own call and selection, a model-assisted analysis's call made just before it, a failed
 * attempt's call before the retry's completion. Money never goes through here: the budget ledger
 * commits synchronously. Held records are lost if the process dies (statistics only, at most
 * `delayMs` of them); `flush()` before closing the database; readers of these tables in the same
 * process flush first.
 */
export class WriteBatch {
  private readonly sqlite: SqliteHandle;
  private pending: (() => void)[] = [];
  private timer: TimerHandle | undefined;
  private readonly onError: (error: unknown) => void;
  private readonly clock: Clock;
  private readonly delayMs: number;
  /** Made once (better-sqlite3 builds a transaction function's wrappers at each `transaction()`). */
  private readonly writeAll: (writes: (() => void)[]) => void;

  constructor(
    sqlite: SqliteHandle,
    onError: (error: unknown) => void = () => {},
    options: { clock?: Clock; delayMs?: number } = {},
  ) {
    this.sqlite = sqlite;
    this.onError = onError;
    this.clock = options.clock ?? systemClock;
    this.delayMs = options.delayMs ?? WRITE_BEHIND_MS;
    this.writeAll = sqlite.transaction((writes: (() => void)[]) => {
      for (const w of writes) w();
    });
  }

  add(write: () => void): void {
    this.pending.push(write);
    this.timer ??= this.clock.setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, this.delayMs);
  }

  /**
   * Writes everything queued now, in one transaction (a savepoint inside an open one: a failed
   * write is reported and undone without undoing the transaction around it).
   */
  flush(): void {
    if (this.timer) {
      this.clock.clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.pending.length === 0) return;
    const writes = this.pending;
    this.pending = [];
    if (!this.sqlite.open) return;
    const inside = this.sqlite.inTransaction;
    try {
      this.writeAll(writes);
    } catch (error) {
      this.onError(error);
      // Some errors (a full disk, I/O) make SQLite roll back the whole transaction: the one around
      // this must then fail too, not carry on in autocommit.
      if (inside && !this.sqlite.inTransaction) {
        // Undone with it: kept for the completion's retry (or the next flush) to write.
        this.pending = writes.concat(this.pending);
        throw error;
      }
    }
  }

  get size(): number {
    return this.pending.length;
  }
}
