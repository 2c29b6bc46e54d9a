import { isStorageFull } from "../errors.ts";

export { isStorageFull } from "../errors.ts";

/** One writer that found the database full, since when, and what SQLite said. */
export interface WriteFault {
  writer: string;
  sinceMs: number;
  message: string;
}

/**
 * Whether the database refuses writes for lack of space, as the writers found it. A writer that
 * runs on a timer (the scheduler's claims, leases and settlements, the health rows, backups) must
 * not throw a SQLITE_FULL out of its timer — that ends the process. It reports it here, backs off
 * and tries again; once that write stores again, space is back. While a writer is failing,
 * /health is degraded and the owners get the database_size alert (wired in src/app).
 */
export class StorageFault {
  private readonly faults = new Map<string, WriteFault>();
  private readonly listeners = new Set<(full: boolean) => void>();
  private readonly now: () => number;

  constructor(now: () => number) {
    this.now = now;
  }

  /** Records a full disk for `writer`; false (nothing recorded) for any other error. */
  report(error: unknown, writer: string): boolean {
    if (!isStorageFull(error)) return false;
    const was = this.faults.size > 0;
    if (!this.faults.has(writer)) {
      const message = error instanceof Error ? error.message : String(error);
      this.faults.set(writer, { writer, sinceMs: this.now(), message });
    }
    if (!was) this.emit(true);
    return true;
  }

  /**
   * `writer` stored again. When it had found the disk full, space is back: the fault is over for
   * every writer (one that still fails reports again). A writer that never failed proves nothing —
   * a write that needs no new space succeeds on a full disk too.
   */
  stored(writer: string): void {
    if (!this.faults.has(writer)) return;
    this.faults.clear();
    this.emit(false);
  }

  /** The writers failing now, oldest first. */
  failing(): WriteFault[] {
    return [...this.faults.values()];
  }

  isFull(): boolean {
    return this.faults.size > 0;
  }

  /** Called with true when the first writer fails, with false when the last one recovers. */
  onChange(listener: (full: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(full: boolean): void {
    for (const listener of this.listeners) {
      try {
        listener(full);
      } catch {
        // A listener's failure (an alert that could not go out) must not become the writer's.
      }
    }
  }
}

/** How long a writer waits after its `attempt`-th consecutive failure: 1 s, doubling, at most 60 s. */
export function writeBackoffMs(attempt: number): number {
  return Math.min(60_000, 1000 * 2 ** Math.max(0, attempt - 1));
}
