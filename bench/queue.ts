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
import { type GraphilePeer, startGraphile } from "./queue-peers/graphile.ts";
import { QUEUE_NOTES } from "./queue-peers/notes.ts";
import { plainjobRun } from "./queue-peers/plainjob.ts";
import { type Cluster, startCluster } from "./queue-peers/postgres.ts";
import { type Contender, type Mode, type Runs, report } from "./queue-peers/report.ts";
import { countdown, type Sample, timed } from "./queue-peers/sample.ts";
import { median, percentile } from "./stats.ts";

/**
 * Durable queue benchmark (issue 17): no-op jobs, enqueue → completion committed, through the
 * production scheduler on a real file database (WAL, synchronous=NORMAL, as Hermes runs by
 * default), beside two peers in the same process and run, alternating: plainjob (SQLite, same
 * WAL + synchronous=NORMAL) and graphile-worker (a throwaway Postgres cluster with
 * synchronous_commit=off, fsync=on — see queue-peers/postgres.ts; skipped, with one line saying
 * why, when Postgres is not installed). Two modes: a commit per transition, and batched (each
 * queue's own batching). Each figure is the median of RUNS rounds.
 */
const RUNS = Number(process.env.QUEUE_RUNS ?? 5);
const THROUGHPUT_JOBS = 5_000;
const WARMUP_JOBS = 1_000;
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

/** Jobs per second (and CPU per job) from the first enqueue to the last committed completion. */
export async function hermesRun(jobs: number, groupCommit: boolean): Promise<Sample> {
  const s = await setup(groupCommit ? 256 : 32, groupCommit);
  const all = countdown(jobs);
  s.events.subscribe((e) => {
    if (e.type === "completed") all.tick();
  });
  const job = () => ({ threadId: s.threadId, jobType: "noop", priority: 5 });
  const sample = await timed(jobs, async () => {
    if (groupCommit) {
      // A burst arrives in batches (as a bulk submission does): one commit per batch.
      for (let i = 0; i < jobs; i += BATCH) s.queue.enqueueMany(Array.from({ length: BATCH }, job));
    } else {
      for (let i = 0; i < jobs; i++) s.queue.enqueue(job());
    }
    await all.done;
  });
  await s.close();
  return sample;
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

/** The graphile-worker peer on a throwaway Postgres cluster, or why it is skipped. */
async function startPostgresPeer(): Promise<{ peer: GraphilePeer; cluster: Cluster } | string> {
  const cluster = startCluster();
  if (typeof cluster === "string") return cluster;
  try {
    return { peer: await startGraphile(cluster), cluster };
  } catch (error) {
    cluster.stop();
    return `graphile-worker did not start on Postgres (${String(error)})`;
  }
}

/** One round: every contender in both modes, alternating; odd rounds run the order backwards. */
async function round(r: number, jobs: number, runs: Runs, graphile: GraphilePeer | undefined): Promise<void> {
  const steps: [Contender, Mode, () => Promise<Sample>][] = [];
  for (const mode of ["perCommit", "batched"] as const) {
    const batched = mode === "batched";
    steps.push(["hermes", mode, () => hermesRun(jobs, batched)]);
    steps.push(["plainjob", mode, () => plainjobRun({ jobs, batched, batch: BATCH, workers: 4 })]);
    if (graphile) {
      const g = graphile;
      steps.push(["graphile", mode, () => g.run({ jobs, batched, batch: BATCH, concurrency: 8 })]);
    }
  }
  if (r % 2 === 1) steps.reverse();
  for (const [who, mode, step] of steps) runs[who][mode].push(await step());
}

const emptyRuns = (): Runs => ({
  hermes: { perCommit: [], batched: [] },
  plainjob: { perCommit: [], batched: [] },
  graphile: { perCommit: [], batched: [] },
});

export async function run(): Promise<void> {
  const runs = emptyRuns();
  const lat = {
    startP50: [] as number[],
    startP99: [] as number[],
    doneP50: [] as number[],
    doneP99: [] as number[],
  };
  const pg = await startPostgresPeer();
  const skipped = typeof pg === "string" ? `graphile-worker peer skipped: ${pg}` : undefined;
  if (skipped) console.log(skipped);
  const graphile = typeof pg === "string" ? undefined : pg.peer;
  try {
    // One unmeasured round first: every contender's code is past JIT warm-up when measured.
    await round(0, WARMUP_JOBS, emptyRuns(), graphile);
    for (let r = 0; r < RUNS; r++) {
      await round(r, THROUGHPUT_JOBS, runs, graphile);
      const l = await latency();
      lat.startP50.push(median(l.start));
      lat.startP99.push(percentile(l.start, 99));
      lat.doneP50.push(median(l.done));
      lat.doneP99.push(percentile(l.done, 99));
    }
  } finally {
    if (typeof pg !== "string") {
      await pg.peer.close();
      pg.cluster.stop();
    }
  }
  const ms = (v: number[]) => `${median(v).toFixed(3)} ms`;
  const latencyRows = [
    ["Hermes enqueue→start latency p50, one job at a time", ms(lat.startP50)],
    ["Hermes enqueue→start latency p99", ms(lat.startP99)],
    ["Hermes enqueue→completed (queue overhead) p50", ms(lat.doneP50)],
    ["Hermes enqueue→completed (queue overhead) p99 (target ≤ 5 ms)", ms(lat.doneP99)],
  ];
  const out = report({ runs, skipped, latencyRows, jobs: THROUGHPUT_JOBS, rounds: RUNS, batch: BATCH });
  console.log(`${out}\n\n${QUEUE_NOTES}`);
  writeFileSync(join(import.meta.dirname, "results", "queue.md"), `${out}\n\n${QUEUE_NOTES}\n`);
}

if (process.argv[1] === import.meta.filename) await run();
