/** What the WAL file looks like at one tick: its size and last write (a commit changes either). */
export interface WalState {
  size: number;
  mtimeMs: number;
}

/**
 * When the idle checkpointer runs (see startIdleCheckpoints). A checkpoint copies the WAL into the
 * database and fsyncs both, ~10–20 ms on the event loop; run whenever no job happened to be running
 * at a tick, it landed between two ideas once a second and delayed the next one. So it runs:
 * - when quiet: nothing running and no commit since the previous tick (a whole interval);
 * - under sustained load, at most `maxPendingTicks` ticks after the first uncheckpointed commit,
 *   which bounds what a power loss can take (synchronous=NORMAL: the WAL is fsynced at checkpoints);
 * - when the WAL file has grown past `maxWalBytes` since the last checkpoint (SQLite reuses the
 *   file from its start after a checkpoint, so a file that once grew stays large: only growth counts);
 * - never when nothing was committed since the last checkpoint.
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
