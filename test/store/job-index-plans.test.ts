import { afterEach, describe, expect, it } from "vitest";
import type { HermesDatabase } from "../../src/store/database.ts";
import { JobsRepo } from "../../src/store/jobs/repo.ts";
import { ThreadJobsRepo } from "../../src/store/jobs/thread-jobs-repo.ts";
import { MetricsRepo } from "../../src/store/system/metrics-repo.ts";
import { ThreadLearningRepo } from "../../src/store/threads/learning-repo.ts";
import { memoryDb } from "../helpers/memory-db.ts";
import { plansOf } from "../helpers/query-plans.ts";

/**
 * Migration 022: the jobs table keeps one narrow index per query, most of them partial on the one
 * status the query asks for, so a transition rewrites two or three indexes instead of nine. Every
 * query on jobs must still be an index read: no plan may read the whole table (a plan is
 * behaviour, not timing), and every index must serve some query.
 */

let db: HermesDatabase | undefined;
afterEach(async () => {
  await db?.close();
  db = undefined;
});

const NOW = Date.UTC(2026, 0, 2, 12);
const PARTIAL = ["ready", "running", "pending", "retry_due", "completed", "rated"];
const JOB_INDEXES = [...PARTIAL, "thread_id", "parent"].map((i) => `idx_jobs_${i}`);
/** A whole-table read of jobs (by any alias); a walk of a partial index holds only its status. */
const readsAllJobs = (plan: string) =>
  new RegExp(
    `\\bSCAN (jobs|j|me|d|r)\\b(?! USING (COVERING )?INDEX idx_jobs_(${PARTIAL.join("|")})\\b| (EXISTS )?VIRTUAL TABLE)`,
  ).test(plan);

const fields = {
  fullResult: "x",
  resultSummary: "x",
  backendUsed: "b",
  modelUsed: "m",
  costCents: 3,
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
        `INSERT INTO idea_threads (uuid, title, original_request, user_id) VALUES ('u', 't', 'idea', 'g') RETURNING id`,
      )
      .pluck()
      .get(),
  );
  return { d, threadId };
}

/** Every read and transition of the queue, the thread views, /metrics and learning, in one go. */
async function everyJobsQuery(d: HermesDatabase, threadId: number) {
  const repo = new JobsRepo(d.sqlite);
  const job = (priority = 5) => ({ threadId, jobType: "t", priority });
  const [a, , c] = repo.enqueueMany([job(9), job(8), job(7)], NOW);
  const child = repo.enqueue({ ...job(), dependencies: [a?.id ?? 0], parentJobId: a?.id ?? 0 }, NOW);
  const claimed = repo.claimMany(NOW, "me", 60_000, 2);
  const one = repo.claimNext(NOW, "me", 60_000);
  const [ja, jb] = claimed;
  if (!ja || !jb || !one || !c) throw new Error("setup: three claims expected");
  repo.renewLease(ja.id, ja.attempt, NOW + 60_000);
  repo.completeMany([{ id: ja.id, attempt: ja.attempt, fields }], NOW);
  repo.scheduleRetry(jb.id, jb.attempt, {
    at: new Date(NOW + 5000).toISOString(),
    reason: "r",
    errorMessage: "e",
    strategy: "s",
  });
  repo.enqueue({ ...job(), dependencies: [c.id] }, NOW);
  repo.fail(one.id, one.attempt, "broken", NOW);
  repo.enqueue(job(), NOW);
  const reads = [
    repo.nextDueAt(),
    repo.aheadOf(child.id),
    repo.countActive(),
    repo.countByStatus(),
    repo.activeForThread(threadId),
    repo.jobsOfThread(threadId),
    repo.running(),
    repo.get(child.id),
    repo.pullRetriesForward(NOW),
    repo.recoverExpired(NOW + 120_000),
    repo.recoverOrphans(NOW, () => true),
    repo.cancel(child.id, "no", NOW),
  ];
  const requeued = repo.claimNext(NOW, "me", 60_000);
  if (requeued) repo.requeue(requeued.id, requeued.attempt, NOW);
  const views = new ThreadJobsRepo(d.db);
  const learning = new ThreadLearningRepo(d.db);
  await learning.setJobFeedback(ja.id, 4);
  return [
    reads,
    await views.ofThread(threadId),
    await views.inThread(threadId, ja.id),
    await views.activeCountsOfUser("g"),
    await views.recentRunSeconds(20),
    await learning.ratedOutcomes(),
    new MetricsRepo(d.sqlite).snapshot(NOW),
  ];
}

describe("queries on jobs after migration 022", () => {
  it("read through an index, never the whole table, and every index serves a query", async () => {
    const { d, threadId } = await setup();
    const plans = await plansOf(d, () => everyJobsQuery(d, threadId));
    expect(plans.length).toBeGreaterThan(30);
    expect(plans.filter(readsAllJobs)).toEqual([]);
    for (const index of JOB_INDEXES)
      expect(
        plans.some((p) => new RegExp(`INDEX ${index}\\b`).test(p)),
        index,
      ).toBe(true);
  });

  it("a guest's queue counts come from the unfinished jobs, not from the guest's history", async () => {
    const { d, threadId } = await setup();
    const repo = new JobsRepo(d.sqlite);
    const other = Number(
      d.sqlite
        .prepare(
          `INSERT INTO idea_threads (uuid, title, original_request, user_id) VALUES ('v', 't', 'i', 'h') RETURNING id`,
        )
        .pluck()
        .get(),
    );
    const job = (t: number, priority = 5) => ({ threadId: t, jobType: "t", priority });
    const [first] = repo.enqueueMany([job(threadId, 9), job(threadId), job(other)], NOW);
    repo.enqueue({ ...job(threadId), dependencies: [first?.id ?? 0] }, NOW);
    repo.claimNext(NOW, "me", 60_000);
    const plans = await plansOf(d, async () =>
      expect(await new ThreadJobsRepo(d.db).activeCountsOfUser("g")).toEqual({
        running: 1,
        queued: 1,
        pending: 1,
      }),
    );
    expect(plans).toHaveLength(1);
    expect(plans[0]).toMatch(
      /^CO-ROUTINE active;.*idx_jobs_ready.*idx_jobs_running.*idx_jobs_pending.*SEARCH t USING INTEGER PRIMARY KEY/,
    );
  });

  it("the latest run times are those completed last, newest first", async () => {
    const { d, threadId } = await setup();
    const repo = new JobsRepo(d.sqlite);
    const jobs = repo.enqueueMany(
      [1, 2, 3].map(() => ({ threadId, jobType: "t", priority: 5 })),
      NOW,
    );
    const claimed = repo.claimMany(NOW, "me", 60_000, 3);
    // Completed in the order 2, 3, 1 (seconds 2, 3, 1 each).
    for (const [i, at] of [
      [1, NOW + 1000],
      [2, NOW + 2000],
      [0, NOW + 3000],
    ] as const) {
      const j = claimed.find((c) => c.id === jobs[i]?.id);
      if (j) repo.complete(j.id, j.attempt, { ...fields, executionSeconds: i + 1 }, at);
    }
    expect(await new ThreadJobsRepo(d.db).recentRunSeconds(2)).toEqual([1, 3]);
  });
});
