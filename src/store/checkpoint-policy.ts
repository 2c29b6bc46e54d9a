/** What the WAL file looks like at one tick: its size and last write (a commit changes either). */
export interface WalState {
  size: number;
  mtimeMs: number;
}

/**
 * When the idle checkpointer runs (see startIdleCheckpoints). A checkpoint copies the WAL's pages
 * into the database and fsyncs both: ~7 ms on the event loop per second of full load (c10 in
 * bench/per-idea.ts: ~8 MB of WAL a second), roughly in proportion to the WAL's length, so
 * checkpointing less often saves little CPU and makes each stall longer. It runs:
 * - when nothing was committed since the last checkpoint: never (nothing to copy);
 * - when quiet: nothing running and no commit since the previous tick (a whole interval);
 * - `maxPendingTicks` ticks after the first uncheckpointed commit, quiet or not. This bounds what a
 *   power loss can take (synchronous=NORMAL: the WAL is fsynced at checkpoints) and the length of
 *   a stall; Hermes uses 1 (every tick with new commits): under load, several short stalls cost
 *   the p99 less than one long one (a 5-tick bound made one 35 ms stall in a 2 s run of 600 ideas);
 * - when the WAL file has grown past `maxWalBytes` since the last checkpoint. SQLite rewrites the
 *   file from its start after a checkpoint, so a file that once grew stays that large: only growth
 *   counts (the former rule, size alone, fired at every tick once the file had passed the limit).
 */
export class CheckpointPolicy {
  private previous: WalState | undefined;
  private atCheckpoint: WalState | undefined;
  private pendingTicks = 0;
  private readonly limits: { maxWalBytes: number; maxPendingTicks: number };

  constructor(limits: { maxWalBytes: number; maxPendingTicks: number }) {
    this.limits = limits;
  }

  due(idle: boolean, wal: WalState): boolean {
    const changed = !same(wal, this.previous);
    this.previous = wal;
    if (same(wal, this.atCheckpoint)) return false;
    this.pendingTicks++;
    if (idle && !changed) return true;
    if (this.pendingTicks >= this.limits.maxPendingTicks) return true;
    return wal.size >= this.limits.maxWalBytes && wal.size > (this.atCheckpoint?.size ?? 0);
  }

  /** After a checkpoint: `wal` as it is now (a checkpoint does not write the WAL file). */
  checkpointed(wal: WalState): void {
    this.atCheckpoint = wal;
    this.previous = wal;
    this.pendingTicks = 0;
  }
}

function same(a: WalState, b: WalState | undefined): boolean {
  return b !== undefined && a.size === b.size && a.mtimeMs === b.mtimeMs;
}
