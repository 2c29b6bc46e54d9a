import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import type { Clock, TimerHandle } from "../clock.ts";

/**
 * Gives back to the system, once Hermes is quiet again, the memory a burst of work made V8 take.
 *
 * Why Hermes does it itself: after a burst (3,000 ideas through the API, bench/memory.ts) V8's
 * heap stayed at ~92 MB committed for ~20 MB used, and RSS at ~225 MB for as long as we watched.
 * V8's memory reducer, whose job this is, logged "high alloc" at every 8-second check of a minute
 * of idling (--trace-memory-reducer) and never started its GC, and `--memory-saver-mode`, which
 * makes it start anyway, cost ~15% more CPU per idea at concurrency 10 (bench/per-idea.ts). A
 * regular full GC shrinks the heap but keeps its freed pages resident; the "last-resort" GC (the
 * one V8 runs before giving up on memory) compacts and returns them: RSS fell by the whole
 * difference in ~50 ms. So: once the process has been quiet for two checks and RSS has grown by
 * `growthBytes` since the last release, run that GC once. An idle Hermes never grows, so it never
 * pays for it twice; a busy one is never interrupted.
 *
 * Start-up is the first burst: module evaluation, the first backend probes and the bot's first
 * polls leave V8's heap larger than what stays live, and an idle Hermes with the bot polling went
 * from 82.8 MB three seconds after start to 84.6 MB forty seconds later. So the first quiet period
 * after start releases once whatever the growth (`afterStart`): ~77 MB (bench/process.ts).
 *
 * Idling is a slow burst: the bot's long polls, the backends' health probes and Hermes' own timers
 * leave garbage that V8 promotes and then keeps (~0.3 MB a minute, 76.7 -> 79.7 MB over 12 minutes
 * of idling with the bot). With a 1 MB threshold it is returned every few minutes, ~50 ms of CPU
 * each time: 76.6 and 77.6 MB after 10 minutes (2 MB: 77.9 and 78.3); with 16 MB it never was.
 */
export interface IdleMemoryOptions {
  clock: Clock;
  /** No job running: the process is between bursts. */
  isIdle: () => boolean;
  checkEveryMs?: number;
  /** CPU (µs) the process may use per check and still count as quiet: the bot's polling, health probes. */
  quietCpuMicros?: number;
  /** RSS grown since the last release that makes a quiet process release again (default 1 MB). */
  growthBytes?: number;
  /** Release once at the first quiet period after start, whatever the growth (default true). */
  afterStart?: boolean;
  rssBytes?: () => number;
  cpuMicros?: () => number;
  release?: () => void;
}

const MB = 1024 * 1024;

export function startIdleMemoryRelease(o: IdleMemoryOptions): { stop(): void } {
  const every = o.checkEveryMs ?? 10_000;
  const quietCpu = o.quietCpuMicros ?? every * 20; // 2% of one core
  const growth = o.growthBytes ?? MB;
  const rss = o.rssBytes ?? (() => process.memoryUsage.rss());
  const cpu = o.cpuMicros ?? cpuMicrosOfProcess;
  const release = o.release ?? lastResortGc;
  let baseline = rss();
  let lastCpu = cpu();
  let quietChecks = 0;
  let startPending = o.afterStart ?? true;
  let timer: TimerHandle | undefined;
  const check = () => {
    const used = cpu();
    const quiet = o.isIdle() && used - lastCpu <= quietCpu;
    lastCpu = used;
    quietChecks = quiet ? quietChecks + 1 : 0;
    const now = rss();
    if (quietChecks >= 2 && (startPending || now - baseline >= growth)) {
      startPending = false;
      release();
      baseline = rss();
      lastCpu = cpu();
      quietChecks = 0;
    } else if (now < baseline) baseline = now;
    timer = o.clock.setTimeout(check, every);
  };
  timer = o.clock.setTimeout(check, every);
  return {
    stop() {
      if (timer) o.clock.clearTimeout(timer);
      timer = undefined;
    },
  };
}

function cpuMicrosOfProcess(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

let gc: ((options: object) => void) | undefined;

/**
 * V8's gc() without starting Node with --expose-gc: the flag is read when a context is created, so
 * a fresh vm context carries the function (the way jest's leak detector gets it), and the flag is
 * turned off again at once so that no other context sees it.
 */
function lastResortGc(): void {
  if (!gc) {
    setFlagsFromString("--expose-gc");
    gc = runInNewContext("gc") as (options: object) => void;
    setFlagsFromString("--no-expose-gc");
  }
  gc({ type: "major", execution: "sync", flavor: "last-resort" });
}
