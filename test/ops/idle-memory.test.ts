import { describe, expect, it } from "vitest";
import { ManualClock } from "../../src/clock.ts";
import { startIdleMemoryRelease } from "../../src/ops/idle-memory.ts";

const MB = 1024 * 1024;

/**
 * A process whose RSS and CPU the test sets; a release brings RSS back to `afterRelease`. Without
 * the release after start unless asked, so each test sees only the rule it is about.
 */
function fakeProcess(afterStart = false) {
  const p = { rss: 100 * MB, cpu: 0, idle: true, releases: 0, afterRelease: 100 * MB };
  const clock = new ManualClock();
  const releaser = startIdleMemoryRelease({
    clock,
    isIdle: () => p.idle,
    checkEveryMs: 10_000,
    quietCpuMicros: 200_000,
    growthBytes: 16 * MB,
    afterStart,
    rssBytes: () => p.rss,
    cpuMicros: () => p.cpu,
    release: () => {
      p.releases++;
      p.rss = p.afterRelease;
    },
  });
  return { p, clock, releaser };
}

describe("giving memory back after a burst of work", () => {
  it("releases once the process has been quiet for two checks after RSS grew, and only once", () => {
    const { p, clock } = fakeProcess();
    // A burst: jobs running, a core busy, RSS up by 90 MB.
    p.idle = false;
    p.rss = 190 * MB;
    p.cpu += 9_000_000;
    clock.advance(10_000);
    expect(p.releases).toBe(0);
    // Quiet again: the first quiet check is not enough, the second is.
    p.idle = true;
    clock.advance(10_000);
    expect(p.releases).toBe(0);
    clock.advance(10_000);
    expect(p.releases).toBe(1);
    expect(p.rss).toBe(100 * MB);
    // Idling on, with RSS where the release left it: never again.
    clock.advance(600_000);
    expect(p.releases).toBe(1);
  });

  it("never interrupts work: a running job or a busy core is not quiet", () => {
    const { p, clock } = fakeProcess();
    p.rss = 190 * MB;
    p.idle = false;
    clock.advance(60_000);
    expect(p.releases).toBe(0);
    // No job running, but the process is busy (e.g. answering requests): still not quiet.
    p.idle = true;
    for (let i = 0; i < 6; i++) {
      p.cpu += 2_000_000;
      clock.advance(10_000);
    }
    expect(p.releases).toBe(0);
    clock.advance(20_000);
    expect(p.releases).toBe(1);
  });

  it("does nothing when RSS has not grown by the threshold, and measures growth from the last release", () => {
    const { p, clock } = fakeProcess();
    p.rss = 110 * MB;
    clock.advance(120_000);
    expect(p.releases).toBe(0);
    // What a release could not give back (say, malloc's) becomes the new baseline.
    p.rss = 130 * MB;
    p.afterRelease = 120 * MB;
    clock.advance(20_000);
    expect(p.releases).toBe(1);
    p.rss = 130 * MB;
    clock.advance(120_000);
    expect(p.releases).toBe(1);
    p.rss = 137 * MB;
    clock.advance(20_000);
    expect(p.releases).toBe(2);
  });

  it("releases once after start-up, at its first quiet period, whatever the growth", () => {
    const { p, clock } = fakeProcess(true);
    // Starting: the bot's first polls and backend probes keep a core busy.
    p.cpu += 2_000_000;
    clock.advance(10_000);
    expect(p.releases).toBe(0);
    // Quiet, with RSS where start-up left it (no growth since the baseline): once, after two checks.
    clock.advance(10_000);
    expect(p.releases).toBe(0);
    clock.advance(10_000);
    expect(p.releases).toBe(1);
    // From then on only growth releases.
    p.rss = 110 * MB;
    clock.advance(600_000);
    expect(p.releases).toBe(1);
    p.rss = 120 * MB;
    clock.advance(20_000);
    expect(p.releases).toBe(2);
  });

  it("stops checking when stopped", () => {
    const { p, clock, releaser } = fakeProcess();
    releaser.stop();
    p.rss = 300 * MB;
    clock.advance(120_000);
    expect(p.releases).toBe(0);
    expect(clock.pendingTimers()).toBe(0);
  });
});

describe("the real release", () => {
  it("gives back the pages of a grown and emptied V8 heap", async () => {
    // A heap grown by ~60 MB of objects that then die: what a burst of ideas leaves behind.
    let keep: unknown[] | undefined = [];
    for (let i = 0; i < 12; i++) {
      keep.push(Array.from({ length: 100_000 }, (_, j) => ({ j, s: `x${j}` })));
      if (keep.length > 3) keep.shift();
    }
    keep = undefined;
    const before = process.memoryUsage().heapTotal;
    const clock = new ManualClock();
    const releaser = startIdleMemoryRelease({
      clock,
      isIdle: () => true,
      quietCpuMicros: Number.MAX_SAFE_INTEGER,
      growthBytes: 0,
      rssBytes: () => 0,
    });
    clock.advance(20_000);
    releaser.stop();
    expect(process.memoryUsage().heapTotal).toBeLessThan(before - 20 * MB);
  });
});
