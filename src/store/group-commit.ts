import type { SqliteHandle } from "./database.ts";

interface Pending {
  write: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * Group commit: the writes queued during one event-loop turn run at its end (setImmediate), in
 * one transaction, each in a savepoint of its own so that a write which throws undoes only itself.
 * Each caller's promise settles after the commit: nothing is acknowledged, shown or announced
 * before it is durable. Under load one commit carries several ideas' writes (submits, questions,
 * completions), each of which paid a commit of its own — its fixed cost, and WAL frames for the
 * pages they all touch (counters, index leaves); alone, a write waits one turn.
 *
 * `write` is synchronous, and runs later than `run` is called: it reads what it needs then.
 * One group per connection (`of`), so that every writer of a turn shares its commit.
 */
export class GroupCommit {
  private static readonly groups = new WeakMap<SqliteHandle, GroupCommit>();
  private pending: Pending[] = [];
  private readonly sqlite: SqliteHandle;
  private readonly inSavepoint: (write: () => unknown) => unknown;
  private readonly inTransaction: (items: Pending[]) => Outcome[];

  static of(sqlite: SqliteHandle): GroupCommit {
    let group = GroupCommit.groups.get(sqlite);
    if (!group) {
      group = new GroupCommit(sqlite);
      GroupCommit.groups.set(sqlite, group);
    }
    return group;
  }

  private constructor(sqlite: SqliteHandle) {
    this.sqlite = sqlite;
    // Inside the group's transaction better-sqlite3 makes this a savepoint.
    this.inSavepoint = sqlite.transaction((write: () => unknown) => write());
    this.inTransaction = sqlite.transaction((items: Pending[]) => items.map((item) => this.attempt(item)));
  }

  /** Runs `write` in this turn's group; resolves with its result once the group committed. */
  run<T>(write: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ write, resolve: resolve as (value: unknown) => void, reject });
      if (this.pending.length === 1) setImmediate(() => this.flush());
    });
  }

  private attempt(item: Pending): Outcome {
    try {
      return { ok: true, value: this.inSavepoint(item.write) };
    } catch (error) {
      // A full disk or an I/O error can end the whole transaction: then nothing of it stands.
      if (!this.sqlite.inTransaction) throw error;
      return { ok: false, error };
    }
  }

  private flush(): void {
    // Inside a transaction someone left open across an await, BEGIN would become a savepoint and
    // the writes would be reported durable before they are: wait for that transaction to end.
    if (this.sqlite.inTransaction && this.sqlite.open) {
      setImmediate(() => this.flush());
      return;
    }
    const items = this.pending;
    this.pending = [];
    let outcomes: Outcome[];
    try {
      outcomes = this.inTransaction(items);
    } catch (error) {
      for (const item of items) item.reject(error);
      return;
    }
    for (const [n, outcome] of outcomes.entries()) {
      const item = items[n] as Pending;
      if (outcome.ok) item.resolve(outcome.value);
      else item.reject(outcome.error);
    }
  }
}
