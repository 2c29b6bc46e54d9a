import { availableParallelism, loadavg } from "node:os";
import { median, table } from "../stats.ts";
import { POSTGRES_DURABILITY } from "./postgres.ts";
import type { Sample } from "./sample.ts";

export type Contender = "hermes" | "plainjob" | "graphile";
export type Mode = "perCommit" | "batched";
export type Runs = Record<Contender, Record<Mode, Sample[]>>;

const MODE_LABEL: Record<Mode, string> = {
  perCommit: "a commit per transition",
  batched: "batched",
};

const jobsPerSec = (s: Sample[]) => median(s.map((x) => x.jobsPerSec));
const nodeCpu = (s: Sample[]) => median(s.map((x) => x.cpuMsPerJob));
const totalCpu = (s: Sample[]) => median(s.map((x) => x.cpuMsPerJob + (x.dbCpuMsPerJob ?? 0)));
const dbCpu = (s: Sample[]) => median(s.map((x) => x.dbCpuMsPerJob ?? 0));
const int = (n: number) => Math.round(n).toLocaleString("en-US");
/**
 * Hermes ÷ peer, paired by round (both ran minutes apart in the same round, under the same load),
 * then the median of those per-round ratios: steadier on a busy machine than a ratio of medians.
 */
function pairedRatio(h: Sample[], p: Sample[], value: (s: Sample) => number): number {
  return median(h.map((x, i) => value(x) / value(p[i] as Sample)));
}
const fmtRatio = (r: number) => (Number.isFinite(r) ? `${r.toFixed(2)}×` : "—");
const total = (x: Sample) => x.cpuMsPerJob + (x.dbCpuMsPerJob ?? 0);
const thrRatio = (h: Sample[], p: Sample[]) => pairedRatio(h, p, (x) => x.jobsPerSec);

/** Throughput and CPU rows for one mode: Hermes, each peer, Hermes ÷ peer. */
function modeRows(runs: Runs, mode: Mode, withGraphile: boolean): string[][] {
  const h = runs.hermes[mode];
  const p = runs.plainjob[mode];
  const g = runs.graphile[mode];
  const skip = withGraphile ? undefined : "skipped";
  const thr = [
    `no-op jobs/s enqueue→complete, ${MODE_LABEL[mode]}`,
    int(jobsPerSec(h)),
    int(jobsPerSec(p)),
    fmtRatio(thrRatio(h, p)),
    skip ?? int(jobsPerSec(g)),
    skip ?? fmtRatio(thrRatio(h, g)),
  ];
  const gCpu = `${totalCpu(g).toFixed(3)} (Node ${nodeCpu(g).toFixed(3)} + Postgres ${dbCpu(g).toFixed(3)})`;
  const cpu = [
    `CPU ms per job, ${MODE_LABEL[mode]} (lower is better)`,
    nodeCpu(h).toFixed(3),
    nodeCpu(p).toFixed(3),
    fmtRatio(pairedRatio(h, p, total)),
    skip ?? gCpu,
    skip ?? fmtRatio(pairedRatio(h, g, total)),
  ];
  return [thr, cpu];
}

/** The verdict on issue 17's queue row: ≥ plainjob one commit at a time, ≥ graphile batched. */
function verdict(runs: Runs, withGraphile: boolean): string {
  const vsPlain = thrRatio(runs.hermes.perCommit, runs.plainjob.perCommit);
  const lines = [
    `- Target "at or above plainjob, one commit at a time": ${vsPlain >= 1 ? "met" : "NOT met"} (${vsPlain.toFixed(2)}×).`,
  ];
  if (withGraphile) {
    const vsGraphile = thrRatio(runs.hermes.batched, runs.graphile.batched);
    lines.push(
      `- Target "at or above graphile-worker, batched": ${vsGraphile >= 1 ? "met" : "NOT met"} (${vsGraphile.toFixed(2)}×).`,
    );
  } else {
    lines.push(`- Target "at or above graphile-worker, batched": not measured (peer skipped).`);
  }
  return lines.join("\n");
}

export function report(o: {
  runs: Runs;
  skipped: string | undefined;
  latencyRows: string[][];
  jobs: number;
  rounds: number;
  batch: number;
}): string {
  const withGraphile = o.skipped === undefined;
  const blank = ["—", "—", "—", "—"];
  const out = table(
    [
      "measure (median of rounds)",
      "Hermes",
      "plainjob (SQLite)",
      "Hermes ÷ plainjob",
      "graphile-worker (Postgres)",
      "Hermes ÷ graphile",
    ],
    [
      ...modeRows(o.runs, "perCommit", withGraphile),
      ...modeRows(o.runs, "batched", withGraphile),
      ...o.latencyRows.map(([name, value]) => [name ?? "", value ?? "", ...blank]),
    ],
  );
  const perRun = (c: Contender, m: Mode) => o.runs[c][m].map((s) => int(s.jobsPerSec)).join(", ");
  const runLines = (["hermes", "plainjob", "graphile"] as const)
    .filter((c) => withGraphile || c !== "graphile")
    .map(
      (c) => `- ${c}: ${perRun(c, "perCommit")} (a commit per transition); ${perRun(c, "batched")} (batched)`,
    );
  return [
    out,
    "",
    "\\* Ratios: Hermes ÷ the peer in the same round, median over rounds. Jobs/s: above 1 Hermes is faster; CPU: below 1 Hermes is cheaper.",
    "",
    verdict(o.runs, withGraphile),
    "",
    DURABILITY,
    `- Postgres: ${withGraphile ? POSTGRES_DURABILITY : `not run — ${o.skipped}`}.`,
    "",
    SETUP(o.batch),
    `- Machine: ${availableParallelism()} cores, load average ${loadavg()[0]?.toFixed(1)} at the end of the run (a busy machine lowers absolute jobs/s; read the ratios and CPU per job).`,
    "",
    `${o.rounds} rounds of ${int(o.jobs)} jobs per contender and mode, alternating (odd rounds in reverse order); jobs/s per round:`,
    ...runLines,
  ].join("\n");
}

const DURABILITY = [
  "Durability, the same in spirit on every side — a commit survives a crash of the process; on power",
  "loss the last commits may roll back, the database stays consistent; no fsync per commit:",
  "- Hermes and plainjob: SQLite file database, journal_mode=WAL, synchronous=NORMAL (Hermes' default,",
  "  HERMES_DB_SYNCHRONOUS; plainjob sets the same itself); WAL fsynced at checkpoints.",
].join("\n");

const SETUP = (batch: number) =>
  [
    "Setup: all three run in this one Node process; the job body is an empty async function.",
    "- A commit per transition: jobs enqueued one at a time (a commit each), claimed and completed one",
    "  commit each. Hermes: capacity 32, group commit off. plainjob: `add`, 4 in-process workers",
    "  (its best of 1/4). graphile-worker: sequential `addJob`, concurrency 8, no local queue, no",
    "  completion batching (its defaults).",
    `- Batched: enqueued ${batch} at a time in one commit. Hermes: \`enqueueMany\`, capacity 256, group`,
    "  commit on (claims and completions grouped). plainjob: `addMany` (it has no batched claim or",
    `  completion). graphile-worker: \`addJobs\`, concurrency 8, localQueue.size ${batch},`,
    "  completeJobBatchDelay 0 (its documented batching).",
    "- A run ends when the last completion is committed (Hermes' and plainjob's completion events",
    "  fire after the commit; for graphile-worker, when its jobs table is empty).",
    "- CPU: process.cpuUsage of this process over the run; for graphile-worker plus the postmaster and",
    "  all its child processes (backends, WAL writer, checkpointer) from /proc/<pid>/stat.",
    "- Hermes and plainjob do all their work on one thread; graphile-worker splits it between Node and",
    "  Postgres processes, so it can use two cores: compare CPU per job as well as jobs/s.",
  ].join("\n");
