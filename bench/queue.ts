import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { systemClock } from "../src/clock.ts";
import { QueueEvents } from "../src/queue/events.ts";
import { JobQueue } from "../src/queue/job-queue.ts";
import { Scheduler } from "../src/queue/scheduler/scheduler.ts";
import { openDatabase, startIdleCheckpoints } from "../src/store/database.ts";
import { JobsRepo } from "../src/store/jobs/repo.ts";
import { median, percentile, table } from "./stats.ts";

/**
 * Durable queue benchmark on a real file database (WAL, synchronous=NORMAL): no-op jobs through
 * the production scheduler. Each figure is the median of RUNS runs.
 */
const RUNS = 5;
const THROUGHPUT_JOBS = 5_000;
const LATENCY_JOBS = 1000;
const WARMUP = 200;
const BATCH = 500;

const noop = async () => ({
  text: "ok",
  summary: "ok",
  backend: "noop",
  model: "noop",
  costCents: 0,
  executionMs: 0,
});

async function setup(capacity: number, groupCommit: boolean) {
  const dir = mkdtempSync(join(tmpdir(), "hermes-bench-"));
  const db = await openDatabase({ path: join(dir, "q.db"), synchronous: "NORMAL" });
  let scheduler: Scheduler | undefined;
  // As in production: checkpoint the WAL only while no job runs (or when it passes 16 MB).
  const checkpoints = startIdleCheckpoints(db, { isIdle: () => (scheduler?.runningCount() ?? 0) === 0 });
  const repo = new JobsRepo(db.sqlite);
  const events = new QueueEvents();
  scheduler = new Scheduler({
    repo,
    events,
    clock: systemClock,
    owner: "bench",
    capacity: () => capacity,
    retrySettings: () => ({ baseDelayMs: 1000, maxDelayMs: 60_000, maxRetryDurationMs: 3_600_000 }),
    dispatch: noop,
    groupCommit,
  });
  const queue = new JobQueue({ repo, scheduler, events, clock: systemClock, maxQueuedJobs: () => 1_000_000 });
  const threadId = Number(
    db.sqlite
      .prepare("INSERT INTO idea_threads (uuid, title, original_request) VALUES ('b','b','b') RETURNING id")
      .pluck()
      .get(),
  );
  scheduler.start();
  return {
    queue,
    events,
    threadId,
    async close() {
      await scheduler?.stop(0);
      checkpoints.stop();
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Jobs per second from the first enqueue to the last completion. */
async function throughput(groupCommit: boolean): Promise<number> {
  const s = await setup(groupCommit ? 256 : 32, groupCommit);
  let done = 0;
  const finished = new Promise<void>((resolve) =>
    s.events.subscribe((e) => {
      if (e.type === "completed" && ++done === THROUGHPUT_JOBS) resolve();
    }),
  );
  const job = () => ({ threadId: s.threadId, jobType: "noop", priority: 5 });
  const t0 = performance.now();
  if (groupCommit) {
    // A burst arrives in batches (as a bulk submission does): one commit per batch.
    for (let i = 0; i < THROUGHPUT_JOBS; i += BATCH) s.queue.enqueueMany(Array.from({ length: BATCH }, job));
  } else {
    for (let i = 0; i < THROUGHPUT_JOBS; i++) s.queue.enqueue(job());
  }
  await finished;
  const seconds = (performance.now() - t0) / 1000;
  await s.close();
  return THROUGHPUT_JOBS / seconds;
}

/** One job at a time: enqueue → started and enqueue → completed, in ms. */
async function latency(): Promise<{ start: number[]; done: number[] }> {
  const s = await setup(4, false);
  const start: number[] = [];
  const done: number[] = [];
  // The first WARMUP jobs are not measured: a running Hermes is past JIT warm-up.
  for (let i = 0; i < LATENCY_JOBS + WARMUP; i++) {
    let startedAt = 0;
    const t0 = performance.now();
    const completed = new Promise<void>((resolve) => {
      const off = s.events.subscribe((e) => {
        if (e.type === "started") startedAt = performance.now();
        if (e.type === "completed") {
          off();
          resolve();
        }
      });
    });
    s.queue.enqueue({ threadId: s.threadId, jobType: "noop", priority: 5 });
    await completed;
    if (i < WARMUP) continue;
    start.push(startedAt - t0);
    done.push(performance.now() - t0);
  }
  await s.close();
  return { start, done };
}

export async function run(): Promise<void> {
  const perJob: number[] = [];
  const group: number[] = [];
  const lat = {
    startP50: [] as number[],
    startP99: [] as number[],
    doneP50: [] as number[],
    doneP99: [] as number[],
  };
  for (let r = 0; r < RUNS; r++) {
    perJob.push(await throughput(false));
    group.push(await throughput(true));
    const l = await latency();
    lat.startP50.push(median(l.start));
    lat.startP99.push(percentile(l.start, 99));
    lat.doneP50.push(median(l.done));
    lat.doneP99.push(percentile(l.done, 99));
  }
  const ms = (v: number[]) => `${median(v).toFixed(3)} ms`;
  const out = table(
    ["measure", "median of runs", "target"],
    [
      [
        `no-op jobs enqueue→complete, a commit per transition`,
        `${Math.round(median(perJob))} jobs/s`,
        "≥ 3,000 jobs/s",
      ],
      [`no-op jobs enqueue→complete, group commit`, `${Math.round(median(group))} jobs/s`, "≥ 15,000 jobs/s"],
      ["enqueue→start latency p50", ms(lat.startP50), "—"],
      ["enqueue→start latency p99", ms(lat.startP99), "—"],
      ["enqueue→completed (queue overhead) p50", ms(lat.doneP50), "—"],
      ["enqueue→completed (queue overhead) p99", ms(lat.doneP99), "≤ 5 ms"],
    ],
  );
  console.log(out);
  const list = (v: number[]) => v.map((r) => Math.round(r)).join(", ");
  console.log(
    `\n${RUNS} runs of ${THROUGHPUT_JOBS} jobs; per run: ${list(perJob)} (per-job commit), ${list(group)} (group commit) jobs/s`,
  );
  writeFileSync(join(import.meta.dirname, "results", "queue.md"), `${out}\n`);
}

if (process.argv[1] === import.meta.filename) await run();
