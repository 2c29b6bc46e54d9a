import { afterEach, describe, expect, it } from "vitest";
import type { HermesDatabase } from "../../src/store/database.ts";
import { JobsRepo } from "../../src/store/jobs/repo.ts";
import type { UnreadableRowError } from "../../src/store/json-column.ts";
import { memoryDb } from "../helpers/memory-db.ts";

/**
 * The group-commit paths of the queue (JobsRepo.enqueueMany, claimMany, completeMany) write a batch
 * with one statement where they can; each must do exactly what the one-job path does.
 */

let db: HermesDatabase | undefined;
afterEach(async () => {
  await db?.close();
  db = undefined;
});

const NOW = Date.UTC(2026, 0, 1);
const fields = (n: number) => ({
  fullResult: `result ${n} ✓`,
  resultSummary: `summary ${n}`,
  backendUsed: "b",
  modelUsed: "m",
  costCents: n + 0.4,
  executionSeconds: n / 4,
  processingSeconds: 2,
  queueSeconds: 1,
  fallbackUsed: n % 2 === 1,
});

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
  const status = (id: number) => d.sqlite.prepare("SELECT status FROM jobs WHERE id = ?").pluck().get(id);
  return { d, repo: new JobsRepo(d.sqlite), threadId, status };
}

describe("enqueueMany", () => {
  it("inserts a burst (several statements' worth) in the given order, each job as enqueue would", async () => {
    const { repo, threadId } = await setup();
    const burst = Array.from({ length: 150 }, (_, n) => ({
      threadId,
      jobType: n % 2 ? "draft" : "analysis",
      jobSubtype: n % 3 ? null : "refine",
      priority: 1 + (n % 10),
      jobSequence: n,
      promptVariables: { n, idea: `idea "${n}"` },
      requestedBackend: n % 5 ? null : "ollama",
      userId: `user-${n % 7}`,
      maxRetries: n,
    }));
    const jobs = repo.enqueueMany(burst, NOW);
    expect(jobs).toHaveLength(150);
    expect(jobs.map((j) => j.id)).toEqual([...jobs.map((j) => j.id)].sort((a, b) => a - b));
    for (const [n, job] of jobs.entries()) {
      const input = burst[n];
      expect(job).toMatchObject({
        thread_id: threadId,
        job_type: input?.jobType,
        job_subtype: input?.jobSubtype,
        priority: input?.priority,
        job_sequence: n,
        prompt_variables: input?.promptVariables,
        requested_backend: input?.requestedBackend,
        user_id: input?.userId,
        max_retries: n,
        status: "queued",
        dependencies: [],
        scheduled_date: new Date(NOW).toISOString(),
        created_date: new Date(NOW).toISOString(),
      });
      expect(repo.get(job.id)).toStrictEqual(job);
    }
    expect(repo.countActive()).toBe(150);
    expect(repo.enqueueMany([], NOW)).toEqual([]);
  });

  it("checks each job of a batch with dependencies against them", async () => {
    const { repo, threadId } = await setup();
    const first = repo.enqueue({ threadId, jobType: "t", priority: 5 }, NOW);
    const [waits, free] = repo.enqueueMany(
      [
        { threadId, jobType: "t", priority: 5, dependencies: [first.id] },
        { threadId, jobType: "t", priority: 5 },
      ],
      NOW,
    );
    expect([waits?.status, waits?.dependencies, free?.status]).toEqual(["pending", [first.id], "queued"]);
  });
});

describe("claimMany", () => {
  it("leases the most urgent ready jobs in the scheduler's order, at most max, and skips what is not ready", async () => {
    const { repo, threadId, d } = await setup();
    const jobs = repo.enqueueMany(
      [3, 9, 5, 9, 1].map((priority) => ({ threadId, jobType: "t", priority })),
      NOW,
    );
    const later = repo.enqueue({ threadId, jobType: "t", priority: 10 }, NOW + 60_000);
    d.sqlite.prepare("UPDATE jobs SET cancel_requested = 1 WHERE id = ?").run(jobs[4]?.id);
    const ids = (list: { id: number }[]) => list.map((j) => j.id);
    const first = repo.claimMany(NOW, "me", 1000, 3);
    expect(ids(first)).toEqual([jobs[1], jobs[3], jobs[2]].map((j) => j?.id));
    for (const job of first)
      expect(job).toMatchObject({
        status: "running",
        attempt: 1,
        lease_owner: "me",
        lease_expires_at: new Date(NOW + 1000).toISOString(),
        started_date: new Date(NOW).toISOString(),
      });
    expect(ids(repo.claimMany(NOW, "me", 1000, 3))).toEqual([jobs[0]?.id]);
    expect(repo.claimMany(NOW, "me", 1000, 3)).toEqual([]);
    expect(ids(repo.claimMany(NOW + 60_000, "me", 1000, 3))).toEqual([later.id]);
  });

  it("fails a claimed job that cannot be read, reports it, and returns the others", async () => {
    const { repo, threadId, d, status } = await setup();
    const [bad, good] = repo.enqueueMany(
      [9, 5].map((priority) => ({ threadId, jobType: "t", priority })),
      NOW,
    );
    d.sqlite.prepare("UPDATE jobs SET prompt_variables = '{' WHERE id = ?").run(bad?.id);
    const reported: UnreadableRowError[] = [];
    repo.onUnreadable((e) => reported.push(e));
    expect(repo.claimMany(NOW, "me", 1000, 5).map((j) => j.id)).toEqual([good?.id]);
    expect(reported.map((e) => e.rowId)).toEqual([bad?.id]);
    expect(status(bad?.id ?? 0)).toBe("failed");
  });
});

describe("completeMany", () => {
  it("settles each completion as complete would; a stale attempt is refused; dependents wait for all theirs", async () => {
    const { repo, threadId, status } = await setup();
    const [a, b] = repo.enqueueMany(
      [9, 8].map((priority) => ({ threadId, jobType: "t", priority })),
      NOW,
    );
    const both = repo.enqueue(
      { threadId, jobType: "t", priority: 5, dependencies: [a?.id ?? 0, b?.id ?? 0] },
      NOW,
    );
    const onA = repo.enqueue({ threadId, jobType: "t", priority: 5, dependencies: [a?.id ?? 0] }, NOW);
    const [ca, cb] = repo.claimMany(NOW, "me", 1000, 2);
    if (!ca || !cb) throw new Error("two claims expected");
    const at = NOW + 5000;
    expect(
      repo.completeMany(
        [
          { id: ca.id, attempt: ca.attempt, fields: fields(1) },
          { id: cb.id, attempt: cb.attempt + 1, fields: fields(2) },
        ],
        at,
      ),
    ).toEqual([true, false]);
    expect(repo.get(ca.id)).toMatchObject({
      status: "completed",
      full_result: "result 1 ✓",
      result_summary: "summary 1",
      backend_used: "b",
      model_used: "m",
      cost_cents: 1,
      execution_time_seconds: 0.25,
      completed_date: new Date(at).toISOString(),
      lease_owner: null,
      lease_expires_at: null,
    });
    expect([status(cb.id), status(onA.id), status(both.id)]).toEqual(["running", "queued", "pending"]);
    expect(repo.completeMany([{ id: cb.id, attempt: cb.attempt, fields: fields(2) }], at)).toEqual([true]);
    expect(status(both.id)).toBe("queued");
    expect(repo.completeMany([], at)).toEqual([]);
  });
});
