import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { better, defineQueue, defineWorker } from "plainjob";
import { countdown, type Sample, silentLogger, timed } from "./sample.ts";

/**
 * plainjob 0.0.14 on better-sqlite3, a file database in a temp dir. plainjob sets the same
 * durability as Hermes itself (journal_mode=WAL, synchronous=1 i.e. NORMAL); unlike Hermes it keeps
 * SQLite's automatic checkpoints (every 1,000 WAL pages). Its worker claims one job per
 * transaction (BEGIN IMMEDIATE: select + update) and marks it done in its own commit.
 *
 * Modes: `perCommit` enqueues with `add` (a commit per job); `batched` with `addMany` in batches of
 * `batch` (a commit per batch) — plainjob has no batched claim or completion, so those stay one
 * commit each.
 */
export async function plainjobRun(opts: {
  jobs: number;
  batched: boolean;
  batch: number;
  workers: number;
}): Promise<Sample> {
  const dir = mkdtempSync(join(tmpdir(), "hermes-bench-plainjob-"));
  const queue = defineQueue({
    connection: better(new Database(join(dir, "q.db"))),
    logger: silentLogger,
    maintenanceInterval: 3_600_000,
  });
  const all = countdown(opts.jobs);
  const workers = Array.from({ length: opts.workers }, () =>
    defineWorker("noop", async () => {}, {
      queue,
      logger: silentLogger,
      pollIntervall: 1,
      onCompleted: all.tick,
    }),
  );
  const loops = workers.map((w) => w.start());
  const sample = await timed(opts.jobs, async () => {
    if (opts.batched) {
      for (let i = 0; i < opts.jobs; i += opts.batch)
        queue.addMany(
          "noop",
          Array.from({ length: opts.batch }, () => ({})),
        );
    } else {
      for (let i = 0; i < opts.jobs; i++) queue.add("noop", {});
    }
    await all.done;
  });
  await Promise.all(workers.map((w) => w.stop()));
  await Promise.all(loops);
  queue.close();
  rmSync(dir, { recursive: true, force: true });
  return sample;
}
