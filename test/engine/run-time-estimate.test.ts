import { describe, expect, it } from "vitest";
import { ManualClock } from "../../src/clock.ts";
import { EstimateInputs, estimateMinutes } from "../../src/engine/threads/progress.ts";
import type { JobQueue } from "../../src/queue/job-queue.ts";
import type { ThreadJobsRepo } from "../../src/store/jobs/thread-jobs-repo.ts";

/** A queue and jobs repo whose figures the test sets, counting how often they are read. */
function fakeSources(times: number[], active = 0) {
  const s = {
    reads: 0,
    fail: false,
    times,
    active,
    async recentRunSeconds(n: number): Promise<number[]> {
      s.reads++;
      if (s.fail) throw new Error("database is locked");
      return s.times.slice(0, n);
    },
    depth: () => s.active,
  };
  const deps = (clock: { now(): number }) => ({
    jobs: s as unknown as ThreadJobsRepo,
    queue: s as unknown as JobQueue,
    clock,
  });
  return { s, deps };
}

describe("the estimate shown on submit", () => {
  it("reads its inputs at most once a second, and again once a second has passed", async () => {
    const clock = new ManualClock(1_000_000);
    const { s, deps } = fakeSources([60, 120], 3);
    const inputs = new EstimateInputs(deps(clock));
    expect(await inputs.read()).toEqual({ avgSeconds: 90, active: 3 });
    s.times = [600];
    s.active = 10;
    clock.advance(999);
    expect(await inputs.read()).toEqual({ avgSeconds: 90, active: 3 });
    expect(s.reads).toBe(1);
    clock.advance(1);
    expect(await inputs.read()).toEqual({ avgSeconds: 600, active: 10 });
    expect(s.reads).toBe(2);
  });

  it("is the work ahead times the recent run time, over the slots, in whole minutes (at least 1)", async () => {
    const { deps } = fakeSources([120], 5);
    const inputs = new EstimateInputs(deps(new ManualClock(0)));
    expect(await estimateMinutes(inputs, 2)).toBe(5); // 5 jobs × 2 min ÷ 2 slots
    const idle = new EstimateInputs(fakeSources([]).deps(new ManualClock(0)));
    expect(await estimateMinutes(idle)).toBe(2); // nothing ahead counts as 1 job, 90 s before any ran
  });

  it("does not keep a failed read: the next estimate reads again", async () => {
    const { s, deps } = fakeSources([30]);
    s.fail = true;
    const inputs = new EstimateInputs(deps(new ManualClock(0)));
    await expect(inputs.read()).rejects.toThrow("database is locked");
    s.fail = false;
    expect((await inputs.read()).avgSeconds).toBe(30);
    expect(s.reads).toBe(2);
  });

  it("reads again when the clock goes back (a corrected system time)", async () => {
    let now = 10_000;
    const { s, deps } = fakeSources([30]);
    const inputs = new EstimateInputs(deps({ now: () => now }));
    await inputs.read();
    now = 5_000;
    await inputs.read();
    expect(s.reads).toBe(2);
  });
});
