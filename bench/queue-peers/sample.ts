import { performance } from "node:perf_hooks";

/** One throughput run: no-op jobs from the first enqueue to the last committed completion. */
export interface Sample {
  jobsPerSec: number;
  /** CPU of this Node process per job (process.cpuUsage: user + system), ms. */
  cpuMsPerJob: number;
  /** CPU of the database server's processes per job, ms (Postgres only; SQLite runs in-process). */
  dbCpuMsPerJob?: number;
}

/** Times `work` (which enqueues `jobs` jobs and resolves once all are completed and committed). */
export async function timed(
  jobs: number,
  work: () => Promise<void>,
  dbCpuMs?: () => number,
): Promise<Sample> {
  const db0 = dbCpuMs?.() ?? 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await work();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const sample: Sample = { jobsPerSec: jobs / seconds, cpuMsPerJob: (cpu.user + cpu.system) / 1000 / jobs };
  if (dbCpuMs) sample.dbCpuMsPerJob = (dbCpuMs() - db0) / jobs;
  return sample;
}

/** A promise resolved by the `n`-th call of `tick`. */
export function countdown(n: number): { tick: () => void; done: Promise<void> } {
  let left = n;
  let resolve!: () => void;
  const done = new Promise<void>((r) => {
    resolve = r;
  });
  return {
    tick: () => {
      if (--left === 0) resolve();
    },
    done,
  };
}

export const silentLogger = { error() {}, warn() {}, info() {}, debug() {} };
