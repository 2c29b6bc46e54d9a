import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { systemClock } from "../src/clock.ts";
import { QueueEvents } from "../src/queue/events.ts";
import { JobQueue } from "../src/queue/job-queue.ts";
import { Scheduler } from "../src/queue/scheduler.ts";
import { openDatabase } from "../src/store/database.ts";
import { JobsRepo } from "../src/store/jobs-repo.ts";
import { median, percentile, table } from "./stats.ts";

/**
 * Durable queue benchmark on a real file database (WAL, synchronous=NORMAL): no-op jobs through
 * the production scheduler. Each figure is the median of RUNS runs.
 */
const RUNS = 5;
const THROUGHPUT_JOBS = 5_000;
const LATENCY_JOBS = 500;

async function setup(capacity: number) {
  const dir = mkdtempSync(join(tmpdir(), "hermes-bench-"));
  const db = await openDatabase({ path: join(dir, "q.db"), synchronous: "NORMAL" });
  const repo = new JobsRepo(db.sqlite);
  const events = new QueueEvents();
  const scheduler = new Scheduler({
    repo,
    events,
    clock: systemClock,
    owner: "bench",
    capacity: () => capacity,
    retrySettings: () => ({ baseDelayMs: 1000, maxDelayMs: 60_000, maxRetryDurationMs: 3_600_000 }),
    dispatch: async () => ({
      text: "ok",
      summary: "ok",
      backend: "noop",
      model: "noop",
      costCents: 0,
      executionMs: 0,
    }),
  });
  const queue = new JobQueue({ repo, scheduler, events, clock: systemClock, maxQueuedJobs: () => 1_000_000 });
  const threadId = Number(
    db.sqlite
      .prepare("INSERT INTO idea_threads (uuid, title, original_request) VALUES ('b', 'b', 'b') RETURNING id")
      .pluck()
      .get(),
  );
  scheduler.start();
  return {
    db,
    queue,
    events,
    scheduler,
    threadId,
    async close() {
      await scheduler.stop(0);
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function throughput(): Promise<number> {
  const s = await setup(32);
  let done = 0;
  const finished = new Promise<void>((resolve) =>
    s.events.subscribe((e) => {
      if (e.type === "completed" && ++done === THROUGHPUT_JOBS) resolve();
    }),
  );
  const t0 = performance.now();
  for (let i = 0; i < THROUGHPUT_JOBS; i++)
    s.queue.enqueue({ threadId: s.threadId, jobType: "noop", priority: 5 });
  await finished;
  const seconds = (performance.now() - t0) / 1000;
  await s.close();
  return THROUGHPUT_JOBS / seconds;
}

async function latency(): Promise<{ startP50: number; startP99: number; doneP50: number; doneP99: number }> {
  const s = await setup(4);
  const starts: number[] = [];
  const dones: number[] = [];
  for (let i = 0; i < LATENCY_JOBS; i++) {
    let startedAt = 0;
    const t0 = performance.now();
    const done = new Promise<void>((resolve) => {
      const off = s.events.subscribe((e) => {
        if (e.type === "started") startedAt = performance.now();
        if (e.type === "completed") {
          off();
          resolve();
        }
      });
    });
    s.queue.enqueue({ threadId: s.threadId, jobType: "noop", priority: 5 });
    await done;
    starts.push(startedAt - t0);
    dones.push(performance.now() - t0);
  }
  await s.close();
  return {
    startP50: median(starts),
    startP99: percentile(starts, 99),
    doneP50: median(dones),
    doneP99: percentile(dones, 99),
  };
}

export async function run(): Promise<void> {
  const rates: number[] = [];
  const lat: Awaited<ReturnType<typeof latency>>[] = [];
  for (let r = 0; r < RUNS; r++) {
    rates.push(await throughput());
    lat.push(await latency());
  }
  const out = table(
    ["measure", "median of runs", "target"],
    [
      [
        `no-op jobs enqueue→complete, commit per transition (${THROUGHPUT_JOBS} jobs)`,
        `${Math.round(median(rates))} jobs/s`,
        "≥ 3,000 jobs/s",
      ],
      ["enqueue→start latency p50", `${median(lat.map((l) => l.startP50)).toFixed(3)} ms`, "—"],
      ["enqueue→start latency p99", `${median(lat.map((l) => l.startP99)).toFixed(3)} ms`, "—"],
      ["enqueue→completed (queue overhead) p50", `${median(lat.map((l) => l.doneP50)).toFixed(3)} ms`, "—"],
      [
        "enqueue→completed (queue overhead) p99",
        `${median(lat.map((l) => l.doneP99)).toFixed(3)} ms`,
        "≤ 5 ms",
      ],
    ],
  );
  console.log(out);
  console.log(`\nruns: ${RUNS}; per-run throughput: ${rates.map((r) => Math.round(r)).join(", ")} jobs/s`);
  writeFileSync(join(import.meta.dirname, "results", "queue.md"), `${out}\n`);
}

if (process.argv[1] === import.meta.filename) await run();
