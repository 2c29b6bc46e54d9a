import { describe, expect, it } from "vitest";
import { CheckpointPolicy, type WalState } from "../../src/store/checkpoint-policy.ts";

const limits = { maxWalBytes: 1000, maxPendingTicks: 5 };
/** A commit at tick t: the WAL file's mtime moves (its size may or may not). */
const wal = (size: number, t: number): WalState => ({ size, mtimeMs: t });

describe("CheckpointPolicy", () => {
  it("waits for a whole quiet interval: idle at a tick right after a commit is not enough", () => {
    const policy = new CheckpointPolicy(limits);
    expect(policy.due(true, wal(100, 1))).toBe(false); // a commit since the last tick
    expect(policy.due(true, wal(100, 1))).toBe(true); // nothing since: quiet
  });

  it("does not checkpoint while a job runs, even with nothing new committed", () => {
    const policy = new CheckpointPolicy(limits);
    policy.due(false, wal(100, 1));
    expect(policy.due(false, wal(100, 1))).toBe(false);
  });

  it("checkpoints under sustained load after maxPendingTicks ticks", () => {
    const policy = new CheckpointPolicy(limits);
    const dues = [1, 2, 3, 4, 5].map((t) => policy.due(true, wal(100 + t, t)));
    expect(dues).toEqual([false, false, false, false, true]);
    policy.checkpointed(wal(105, 5));
    expect(policy.due(false, wal(105, 6))).toBe(false); // the count starts again
  });

  it("never checkpoints when nothing was committed since the last checkpoint", () => {
    const policy = new CheckpointPolicy(limits);
    policy.checkpointed(wal(100, 1));
    for (let i = 0; i < 10; i++) expect(policy.due(true, wal(100, 1))).toBe(false);
  });

  it("checkpoints a WAL that grew past maxWalBytes at once, but not a file that merely stayed large", () => {
    const policy = new CheckpointPolicy(limits);
    expect(policy.due(false, wal(1500, 1))).toBe(true);
    policy.checkpointed(wal(1500, 1));
    // SQLite rewrites the same file from its start: still 1,500 bytes, new commits.
    expect(policy.due(false, wal(1500, 2))).toBe(false);
    expect(policy.due(false, wal(2600, 3))).toBe(true);
  });
});
