import { Kysely, SqliteDialect } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import * as settledJobCounts from "../../migrations/024_settled_job_counts.ts";
import type { HermesDatabase } from "../../src/store/database.ts";
import { JobsRepo } from "../../src/store/jobs/repo.ts";
import { ThreadJobsRepo } from "../../src/store/jobs/thread-jobs-repo.ts";
import { MetricsRepo } from "../../src/store/system/metrics-repo.ts";
import { memoryDb } from "../helpers/memory-db.ts";

/**
 * Migration 024: status_counts holds only the settled statuses of jobs; the unfinished ones are
 * counted from their partial indexes. Whatever path a job takes, the counts the queue, /metrics
 * and the capacity check read must equal a count of the table itself.
 */

let db: HermesDatabase | undefined;
afterEach(async () => {
  await db?.close();
  db = undefined;
});

const NOW = Date.UTC(2026, 0, 1);
const fields = {
  fullResult: "x",
  resultSummary: "x",
  backendUsed: "b",
  modelUsed: "m",
  costCents: 0,
  executionSeconds: 1,
  processingSeconds: 1,
  queueSeconds: 0,
};

async function setup() {
  db = await memoryDb();
  const d = db;
  const threadId = Number(
    d.sqlite
      .prepare(
        "INSERT INTO idea_threads (uuid, title, original_request) VALUES ('u', 't', 'idea') RETURNING id",
      )
      .pluck()
      .get(),
  );
  /** The truth: a count of the jobs table by status (NULL as 'unknown'), what status_counts replaces. */
  const truth = () => {
    const out: Record<string, number> = {};
    const rows = d.sqlite
      .prepare("SELECT coalesce(status, 'unknown') AS status, count(*) AS n FROM jobs GROUP BY 1")
      .all() as { status: string; n: number }[];
    for (const r of rows) out[r.status] = r.n;
    return out;
  };
  const stored = () =>
    d.sqlite.prepare("SELECT status, n FROM status_counts WHERE scope = 'jobs' AND n != 0").all();
  return { d, repo: new JobsRepo(d.sqlite), threadId, truth, stored };
}

/** Jobs in every status, through the repo's every transition. */
function everyStatus(repo: JobsRepo, threadId: number) {
  const job = (priority = 5) => ({ threadId, jobType: "t", priority });
  const [a, b, c, e] = repo.enqueueMany([job(9), job(8), job(7), job(6)], NOW);
  if (!a || !b || !c || !e) throw new Error("setup: four jobs expected");
  repo.enqueue({ ...job(), dependencies: [c.id] }, NOW); // pending on c
  const [ja, jb] = repo.claimMany(NOW, "me", 60_000, 2);
  const jc = repo.claimNext(NOW, "me", 60_000);
  if (!ja || !jb || !jc) throw new Error("setup: three claims expected");
  repo.complete(ja.id, ja.attempt, fields, NOW);
  repo.scheduleRetry(jb.id, jb.attempt, {
    at: new Date(NOW + 5000).toISOString(),
    reason: "r",
    errorMessage: "m",
    strategy: "s",
  });
  repo.enqueue(job(), NOW); // queued
  repo.cancel(e.id, "no", NOW);
  repo.enqueue(job(), NOW);
  const failed = repo.enqueue({ ...job(), dependencies: [e.id] }, NOW); // at once: its dependency was cancelled
  return { jc, failed };
}

describe("job counts by status (migration 024)", () => {
  it("equal a count of the table through every transition, for the queue and /metrics alike", async () => {
    const { d, repo, threadId, truth } = await setup();
    const { jc, failed } = everyStatus(repo, threadId);
    const metrics = () => new MetricsRepo(d.sqlite).snapshot(NOW).jobsByStatus;
    expect(truth()).toEqual({
      completed: 1,
      retrying: 1,
      running: 1,
      queued: 2,
      pending: 1,
      cancelled: 1,
      failed: 1,
    });
    expect(repo.countByStatus()).toEqual(truth());
    expect(metrics()).toEqual(truth());
    expect(repo.countActive()).toBe(5);

    repo.fail(jc.id, jc.attempt, "broken", NOW); // and its pending dependent with it
    await new ThreadJobsRepo(d.db).insertFinished({
      threadId,
      sequence: 1,
      jobType: "t",
      subtype: "t",
      status: "completed",
      priority: 5,
      promptVariables: null,
      backendUsed: "b",
      fullResult: "r",
      resultSummary: "r",
      errorMessage: null,
      userId: null,
      now: new Date(NOW).toISOString(),
    });
    d.sqlite.prepare("INSERT INTO jobs (thread_id, job_type, status) VALUES (?, 't', NULL)").run(threadId);
    // Leaving a settled status (a hand edit) and deleting settled and unfinished jobs.
    d.sqlite.prepare("UPDATE jobs SET status = 'queued' WHERE id = ?").run(failed.id);
    d.sqlite.prepare("DELETE FROM jobs WHERE status IN ('cancelled', 'retrying')").run();
    expect(truth()).toEqual({ completed: 2, failed: 2, queued: 3, unknown: 1 });
    expect(repo.countByStatus()).toEqual(truth());
    expect(metrics()).toEqual(truth());
    expect(repo.countActive()).toBe(3);
  });

  it("stores only settled statuses: enqueueing and claiming write no counter", async () => {
    const { repo, threadId, stored } = await setup();
    repo.enqueueMany(
      [1, 2, 3].map(() => ({ threadId, jobType: "t", priority: 5 })),
      NOW,
    );
    const [job] = repo.claimMany(NOW, "me", 60_000, 1);
    repo.claimNext(NOW, "me", 60_000);
    expect(stored()).toEqual([]);
    if (job) repo.complete(job.id, job.attempt, fields, NOW);
    expect(stored()).toEqual([{ status: "completed", n: 1 }]);
  });

  it("upgrades a database counted the old way, and rolls back to it", async () => {
    const { d, repo, threadId, truth, stored } = await setup();
    const kysely = new Kysely<unknown>({ dialect: new SqliteDialect({ database: d.sqlite }) });
    await settledJobCounts.down(kysely);
    everyStatus(repo, threadId); // counted by 010's triggers, every status
    expect(
      Object.fromEntries((stored() as { status: string; n: number }[]).map((r) => [r.status, r.n])),
    ).toEqual(truth());
    await settledJobCounts.up(kysely);
    expect(stored()).toEqual([
      { status: "cancelled", n: 1 },
      { status: "completed", n: 1 },
      { status: "failed", n: 1 },
    ]);
    expect(repo.countByStatus()).toEqual(truth());
    await settledJobCounts.down(kysely);
    expect(
      Object.fromEntries((stored() as { status: string; n: number }[]).map((r) => [r.status, r.n])),
    ).toEqual(truth());
  });
});
