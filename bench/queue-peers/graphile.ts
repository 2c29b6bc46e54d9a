import { EventEmitter } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import { Logger, makeWorkerUtils, run, type WorkerEvents, type WorkerUtils } from "graphile-worker";
import pg from "pg";
import type { Cluster } from "./postgres.ts";
import { countdown, type Sample, timed } from "./sample.ts";

/**
 * graphile-worker 0.18 on the throwaway Postgres cluster (see postgres.ts for its durability).
 *
 * Modes: `perCommit` — jobs added one `addJob` at a time (a commit each), claimed one per
 * `get_job` call and completed one `complete_job` call each (graphile's defaults: no local queue,
 * no completion batching). `batched` — `addJobs` in batches of `batch` (one statement each), the
 * local queue fetching (and locking) `batch` jobs per query, and completions batched
 * (`completeJobBatchDelay: 0`, one statement per tick) — graphile's documented batching knobs.
 *
 * A run ends when the jobs table is empty (graphile deletes a job when its completion commits).
 */
export interface GraphilePeer {
  run(opts: { jobs: number; batched: boolean; batch: number; concurrency: number }): Promise<Sample>;
  close(): Promise<void>;
}

const silent = new Logger(() => () => {});

export async function startGraphile(cluster: Cluster): Promise<GraphilePeer> {
  const connectionString = cluster.connectionString;
  const logger = silent;
  const utils: WorkerUtils = await makeWorkerUtils({ connectionString, logger });
  await utils.migrate();
  const probe = new pg.Client({ connectionString });
  await probe.connect();
  const remaining = async () =>
    Number((await probe.query("select count(*) as n from graphile_worker._private_jobs")).rows[0].n);
  return {
    async run(opts) {
      await probe.query("truncate graphile_worker._private_jobs");
      await probe.query("vacuum analyze graphile_worker._private_jobs");
      const events: WorkerEvents = new EventEmitter();
      const all = countdown(opts.jobs);
      events.on("job:complete", all.tick);
      const runner = await run({
        connectionString,
        logger,
        events,
        concurrency: opts.concurrency,
        maxPoolSize: opts.concurrency + 2,
        noHandleSignals: true,
        pollInterval: 1000,
        taskList: { noop: async () => {} },
        preset: {
          worker: opts.batched
            ? { localQueue: { size: opts.batch }, completeJobBatchDelay: 0 }
            : { localQueue: { size: -1 }, completeJobBatchDelay: -1 },
        },
      });
      const sample = await timed(
        opts.jobs,
        async () => {
          await enqueue(utils, opts);
          await all.done;
          while ((await remaining()) > 0) await sleep(1);
        },
        cluster.cpuMs,
      );
      await runner.stop();
      return sample;
    },
    async close() {
      await probe.end();
      await utils.release();
    },
  };
}

async function enqueue(utils: WorkerUtils, opts: { jobs: number; batched: boolean; batch: number }) {
  if (!opts.batched) {
    for (let i = 0; i < opts.jobs; i++) await utils.addJob("noop", {});
    return;
  }
  for (let i = 0; i < opts.jobs; i += opts.batch) {
    await utils.addJobs(Array.from({ length: opts.batch }, () => ({ identifier: "noop", payload: {} })));
  }
}
