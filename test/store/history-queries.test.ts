import { afterEach, describe, expect, it } from "vitest";
import type { HermesDatabase } from "../../src/store/database.ts";
import { JobsRepo } from "../../src/store/jobs/repo.ts";
import { ThreadJobsRepo } from "../../src/store/jobs/thread-jobs-repo.ts";
import { MetricsRepo } from "../../src/store/system/metrics-repo.ts";
import { ThreadsRepo } from "../../src/store/threads/repo.ts";
import { memoryDb } from "../helpers/memory-db.ts";
import { plansOf } from "../helpers/query-plans.ts";

/**
 * Issue 17: the reads on every submit, status, short-id lookup and /metrics scrape must not grow
 * with history. Their results are checked, and their query plans must be index searches: no
 * full-table SCAN and no sort of every matching row (a plan is behaviour, not timing).
 */

let db: HermesDatabase | undefined;
afterEach(async () => {
  await db?.close();
  db = undefined;
});

/**
 * A full scan of a table that grows with history (p = backend_performance), or a sort of all
 * matches. A walk of a partial index that holds only unfinished or completed jobs is an index
 * read (SQLite calls it a SCAN of the index; migration 022).
 */
const grows = (plan: string) =>
  /\bSCAN (idea_threads|jobs|conversations|external_callbacks|budget_ledger|p)\b(?! USING (COVERING )?INDEX idx_jobs_(ready|running|pending|retry_due|completed)\b)|TEMP B-TREE/.test(
    plan,
  );

function addThread(d: HermesDatabase, uuid: string, userId = "u1", status = "active"): number {
  return Number(
    d.sqlite
      .prepare(
        `INSERT INTO idea_threads (uuid, title, original_request, source, chat_id, user_id, status)
         VALUES (?, 't', 'idea', 'telegram', '42', ?, ?) RETURNING id`,
      )
      .pluck()
      .get(uuid, userId, status),
  );
}

function addJob(
  d: HermesDatabase,
  threadId: number,
  status: string,
  seconds = 0,
  completed?: string,
): number {
  return Number(
    d.sqlite
      .prepare(
        `INSERT INTO jobs (thread_id, job_sequence, job_type, status, priority, execution_time_seconds,
           completed_date, cost_cents) VALUES (?, 1, 't', ?, 5, ?, ?, 2) RETURNING id`,
      )
      .pluck()
      .get(threadId, status, seconds, completed ?? null),
  );
}

describe("the time estimate's recent run times", () => {
  it("are the newest completed jobs' times, read through an index without sorting them all", async () => {
    db = await memoryDb();
    const d = db;
    const t = addThread(d, "aaaaaaaa-0000-0000-0000-000000000000");
    for (let i = 1; i <= 30; i++) addJob(d, t, i % 3 === 0 ? "failed" : "completed", i);
    const repo = new ThreadJobsRepo(d.db);
    let times: number[] = [];
    const plans = await plansOf(d, async () => {
      times = await repo.recentRunSeconds(3);
    });
    expect(times).toEqual([29, 28, 26]);
    expect(plans.filter(grows)).toEqual([]);
  });
});

describe("a thread by short id", () => {
  it("finds by prefix in any case, within the user's threads, through the uuid index", async () => {
    db = await memoryDb();
    const d = db;
    addThread(d, "abcdef12-1111-4111-8111-111111111111", "u1");
    const mine = addThread(d, "abcdef12-2222-4222-8222-222222222222", "u1");
    const theirs = addThread(d, "abcdef12-3333-4333-8333-333333333333", "u2");
    addThread(d, "abcdef13-4444-4444-8444-444444444444", "u1");
    const repo = new ThreadsRepo(d.db);
    let found: (number | undefined)[] = [];
    const plans = await plansOf(d, async () => {
      found = [
        (await repo.byRef("abcdef12", "u1"))?.id,
        (await repo.byRef("ABCDEF12"))?.id,
        (await repo.byRef("abcdef1z"))?.id,
        (await repo.byRef("%"))?.id,
      ];
    });
    expect(found).toEqual([mine, theirs, undefined, undefined]);
    // A range on the uuid index (a prefix matches one thread or a few), never the user's whole history.
    expect(plans).toHaveLength(3);
    for (const plan of plans)
      expect(plan).toMatch(
        /^SEARCH idea_threads USING INDEX sqlite_autoindex_idea_threads_1 \(uuid>\? AND uuid<\?\)/,
      );
  });
});

describe("/metrics", () => {
  it("counts threads, jobs, questions and callbacks exactly as the tables hold them, without scanning them", async () => {
    db = await memoryDb();
    const d = db;
    const t1 = addThread(d, "t1");
    addThread(d, "t2", "u1", "completed");
    const j1 = addJob(d, t1, "queued");
    addJob(d, t1, "completed", 3, "2026-01-02T10:00:00.000Z");
    addJob(d, t1, "completed", 3, "2026-01-01T10:00:00.000Z");
    const j4 = addJob(d, t1, "running");
    d.sqlite
      .prepare("UPDATE jobs SET status = 'completed', completed_date = ? WHERE id = ?")
      .run("2026-01-02T11:00:00Z", j1);
    d.sqlite.prepare("DELETE FROM jobs WHERE id = ?").run(j4);
    d.sqlite.prepare("UPDATE idea_threads SET status = 'archived' WHERE id = ?").run(t1);
    const ask = d.sqlite.prepare(
      `INSERT INTO conversations (thread_id, conversation_position, question_asked, question_type, asked_date)
       VALUES (?, ?, 'q?', 'intent', ?) RETURNING id`,
    );
    const q1 = Number(ask.pluck().get(t1, 1, "2026-01-01T09:00:00Z"));
    ask.run(t1, 2, "2026-01-02T09:00:00Z");
    ask.run(t1, 3, "2026-01-02T09:30:00Z");
    d.sqlite.prepare("UPDATE conversations SET user_response = 'yes' WHERE id = ?").run(q1);
    d.sqlite.prepare("DELETE FROM conversations WHERE id = ?").run(q1);
    const metrics = new MetricsRepo(d.sqlite);
    let snap: ReturnType<MetricsRepo["snapshot"]> | undefined;
    let queueCounts: Record<string, number> = {};
    const plans = await plansOf(d, () => {
      snap = new MetricsRepo(d.sqlite).snapshot(Date.UTC(2026, 0, 2, 12));
      queueCounts = new JobsRepo(d.sqlite).countByStatus(); // /health and /metrics' queue gauges
    });
    expect(queueCounts).toEqual({ completed: 3 });
    expect(snap).toMatchObject({
      jobsByStatus: { completed: 3 },
      threadsByStatus: { archived: 1, completed: 1 },
      jobCostCentsToday: 4,
      questionsAsked: 2,
      questionsAnswered: 0,
      questionsAskedToday: 2,
      callbacksByStatus: {},
    });
    expect(metrics.snapshot(Date.UTC(2026, 0, 2, 12))).toEqual(snap);
    expect(plans.filter(grows)).toEqual([]);
  });
});

describe("Kysely queries", () => {
  it("reuse the prepared statement of a query shape run before, and still bind each run's values", async () => {
    db = await memoryDb();
    const d = db;
    const a = addThread(d, "aaaaaaaa-1");
    const b = addThread(d, "bbbbbbbb-2");
    const repo = new ThreadsRepo(d.db);
    await repo.byId(a); // prepares the shape once
    let prepared = 0;
    const original = d.sqlite.prepare.bind(d.sqlite);
    d.sqlite.prepare = ((source: string) => {
      prepared++;
      return original(source);
    }) as typeof d.sqlite.prepare;
    const found = [(await repo.byId(b))?.uuid, (await repo.byId(a))?.uuid, (await repo.byId(999))?.uuid];
    d.sqlite.prepare = original as typeof d.sqlite.prepare;
    expect(found).toEqual(["bbbbbbbb-2", "aaaaaaaa-1", undefined]);
    expect(prepared).toBe(0);
  });
});
