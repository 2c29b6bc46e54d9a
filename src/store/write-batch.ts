import type { SqliteHandle } from "./database.ts";

/**
 * Write-behind for records that nothing reads back on the hot path (backend_performance rows and
 * counters, backend_selection_history): they are queued and written together in one transaction at
 * the end of the event-loop turn — one WAL commit for many jobs instead of one per row (the queue's
 * group commit, applied to reporting). Money never goes through here: the budget ledger commits
 * synchronously. Call `flush()` before closing the database; readers of these tables in the same
 * process flush first.
 */
export class WriteBatch {
  private readonly sqlite: SqliteHandle;
  private pending: (() => void)[] = [];
  private scheduled = false;
  private readonly onError: (error: unknown) => void;
  /** Made once (better-sqlite3 builds a transaction function's wrappers at each `transaction()`). */
  private readonly writeAll: (writes: (() => void)[]) => void;

  constructor(sqlite: SqliteHandle, onError: (error: unknown) => void = () => {}) {
    this.sqlite = sqlite;
    this.onError = onError;
    this.writeAll = sqlite.transaction((writes: (() => void)[]) => {
      for (const w of writes) w();
    });
  }

  add(write: () => void): void {
    this.pending.push(write);
    if (!this.scheduled) {
      this.scheduled = true;
      // Two turns: a job completion queued in this turn (its group commit runs at the next
      // setImmediate) takes these writes into its own transaction (JobsRepo.rideAlong).
      setImmediate(() => setImmediate(() => this.flush()));
    }
  }

  /**
   * Writes everything queued now, in one transaction (a savepoint inside an open one: a failed
   * write is reported and undone without undoing the transaction around it).
   */
  flush(): void {
    this.scheduled = false;
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
      if (inside && !this.sqlite.inTransaction) throw error;
    }
  }

  get size(): number {
    return this.pending.length;
  }
}
