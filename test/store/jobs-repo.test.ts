import { afterEach, describe, expect, it } from "vitest";
import type { HermesDatabase } from "../../src/store/database.ts";
import { JobsRepo } from "../../src/store/jobs/repo.ts";
import { UnreadableRowError } from "../../src/store/json-column.ts";
import { ThreadLearningRepo } from "../../src/store/threads/learning-repo.ts";
import { memoryDb } from "../helpers/memory-db.ts";

let db: HermesDatabase | undefined;
afterEach(async () => {
  await db?.close();
  db = undefined;
});

const NOW = Date.UTC(2026, 0, 1);

async function setup() {
  db = await memoryDb();
  const threadId = Number(
    db.sqlite
      .prepare(
        "INSERT INTO idea_threads (uuid, title, original_request) VALUES ('u', 't', 'idea') RETURNING id",
      )
      .pluck()
      .get(),
  );
  const repo = new JobsRepo(db.sqlite);
  const corrupt = (id: number, column: string, value: string) =>
    db?.sqlite.prepare(`UPDATE jobs SET ${column} = ? WHERE id = ?`).run(value, id);
  return { db, repo, threadId, corrupt };
}

describe("JobsRepo returns jobs with their JSON columns parsed", () => {
  it("reads prompt variables, dependencies and retry reasons as values", async () => {
    const { repo, threadId } = await setup();
    const first = repo.enqueue({ threadId, jobType: "t", priority: 5 }, NOW);
    const second = repo.enqueue(
      { threadId, jobType: "t", priority: 5, promptVariables: { idea: "x", n: 2 }, dependencies: [first.id] },
      NOW,
    );
    expect(first).toMatchObject({ prompt_variables: null, dependencies: [], retry_reasons: [] });
    expect(second).toMatchObject({ prompt_variables: { idea: "x", n: 2 }, dependencies: [first.id] });
  });

  it.each([
    ["prompt_variables", "{not json"],
    ["prompt_variables", "[1, 2]"],
    ["dependencies", '["a"]'],
    ["retry_reasons", "oops"],
  ])("a malformed %s is an error, not an empty value", async (column, value) => {
    const { repo, threadId, corrupt } = await setup();
    const job = repo.enqueue({ threadId, jobType: "t", priority: 5, promptVariables: { idea: "x" } }, NOW);
    corrupt(job.id, column, value);
    let thrown: unknown;
    try {
      repo.get(job.id);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(UnreadableRowError);
    expect(thrown).toMatchObject({ code: "INTERNAL", table: "jobs", column, rowId: job.id });
    // The error names the place, never the stored value (not even through its cause).
    expect((thrown as Error).message).not.toContain(value);
    expect((thrown as Error).cause).toBeUndefined();
    expect(() => repo.jobsOfThread(threadId)).toThrow(UnreadableRowError);
  });

  it("returns each enqueued job exactly as stored, without reading it back", async () => {
    const { repo, threadId } = await setup();
    const plain = repo.enqueue({ threadId, jobType: "t", priority: 5 }, NOW);
    const full = repo.enqueue(
      {
        threadId,
        parentJobId: plain.id,
        jobSequence: 3,
        jobType: "draft",
        jobSubtype: "refine",
        priority: 9,
        promptTemplate: "tpl",
        // What JSON keeps: the undefined value goes, the date becomes its text.
        promptVariables: { idea: "x", gone: undefined, at: new Date(NOW), nested: { n: [1, 2] } },
        requestedBackend: "ollama",
        maxRetries: 2,
        dependencies: [plain.id],
        userId: "u",
        requiredClarity: 0.7,
        achievedClarity: 0.4,
      },
      NOW,
    );
    expect(full.status).toBe("pending");
    expect(full.prompt_variables).toEqual({
      idea: "x",
      at: new Date(NOW).toISOString(),
      nested: { n: [1, 2] },
    });
    for (const job of [plain, full]) expect(job).toStrictEqual(repo.get(job.id));
  });

  it("fails a claimed job that cannot be read, reports it, and claims the next one", async () => {
    const { repo, threadId, corrupt, db } = await setup();
    const bad = repo.enqueue({ threadId, jobType: "t", priority: 9 }, NOW);
    const dependent = repo.enqueue({ threadId, jobType: "t", priority: 5, dependencies: [bad.id] }, NOW);
    const good = repo.enqueue({ threadId, jobType: "t", priority: 5 }, NOW);
    corrupt(bad.id, "prompt_variables", "{");
    const reported: UnreadableRowError[] = [];
    repo.onUnreadable((e) => reported.push(e));

    expect(repo.claimNext(NOW, "me", 1000)?.id).toBe(good.id);
    expect(reported.map((e) => [e.rowId, e.column])).toEqual([[bad.id, "prompt_variables"]]);
    const status = (id: number) => db.sqlite.prepare("SELECT status FROM jobs WHERE id = ?").pluck().get(id);
    expect(status(bad.id)).toBe("failed");
    expect(status(dependent.id)).toBe("failed");
    expect(repo.claimNext(NOW, "me", 1000)).toBeUndefined();
  });

  it("learning's reads of a thread's jobs fail on a malformed row too", async () => {
    const { repo, threadId, corrupt, db } = await setup();
    const job = repo.enqueue({ threadId, jobType: "t", priority: 5, promptVariables: { a: "b" } }, NOW);
    const learning = new ThreadLearningRepo(db.db);
    expect((await learning.job(job.id))?.prompt_variables).toEqual({ a: "b" });
    corrupt(job.id, "prompt_variables", "nope");
    await expect(learning.jobs(threadId)).rejects.toBeInstanceOf(UnreadableRowError);
  });
});

describe("JobsRepo's queue reads that every pump and submit make", () => {
  it("counts active jobs exactly through every transition, from the status counts", async () => {
    const { repo, threadId, db: d } = await setup();
    const counted = () =>
      d.sqlite
        .prepare("SELECT count(*) FROM jobs WHERE status IN ('pending','queued','retrying','running')")
        .pluck()
        .get();
    const a = repo.enqueue({ threadId, jobType: "t", priority: 5 }, NOW);
    const b = repo.enqueue({ threadId, jobType: "t", priority: 5 }, NOW);
    repo.enqueue({ threadId, jobType: "t", priority: 5, dependencies: [b.id] }, NOW);
    const c = repo.enqueue({ threadId, jobType: "t", priority: 5 }, NOW);
    expect(repo.countActive()).toBe(4);
    const [first, second] = repo.claimMany(NOW, "me", 1000, 2);
    expect([first?.id, second?.id]).toEqual([a.id, b.id]);
    expect(repo.countActive()).toBe(counted());
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
    repo.complete(a.id, first?.attempt ?? 0, fields, NOW);
    expect(repo.countActive()).toBe(3);
    repo.fail(b.id, second?.attempt ?? 0, "broken", NOW); // its dependent fails with it
    expect(repo.countActive()).toBe(1);
    repo.cancel(c.id, "no", NOW);
    expect(repo.countActive()).toBe(0);
    expect(counted()).toBe(0);
  });

  it("finds the earliest retry's time, skipping cancelled ones, running ones and queued ones (due when queued)", async () => {
    const { repo, threadId, db: d } = await setup();
    expect(repo.nextDueAt()).toBeUndefined();
    const late = repo.enqueue({ threadId, jobType: "t", priority: 7 }, NOW);
    const early = repo.enqueue({ threadId, jobType: "t", priority: 6 }, NOW);
    const running = repo.enqueue({ threadId, jobType: "t", priority: 5 }, NOW);
    const retry = (id: number, atMs: number) =>
      repo.scheduleRetry(id, 1, {
        at: new Date(atMs).toISOString(),
        reason: "r",
        errorMessage: "e",
        strategy: "s",
      });
    for (const job of [late, early, running]) expect(repo.claimNext(NOW, "me", 1000)?.id).toBe(job.id);
    expect([retry(late.id, NOW + 5000), retry(early.id, NOW + 1000)]).toEqual([true, true]);
    repo.enqueue({ threadId, jobType: "t", priority: 5 }, NOW);
    expect(repo.nextDueAt()).toBe(NOW + 1000);
    d.sqlite.prepare("UPDATE jobs SET cancel_requested = 1 WHERE id = ?").run(early.id);
    expect(repo.nextDueAt()).toBe(NOW + 5000);
    repo.cancel(late.id, "no", NOW);
    expect(repo.nextDueAt()).toBeUndefined();
  });

  it("a pump with nothing ready claims nothing and opens no transaction", async () => {
    const { threadId, db: d } = await setup();
    const opened: string[] = [];
    const transaction = d.sqlite.transaction.bind(d.sqlite);
    d.sqlite.transaction = ((fn: (...args: unknown[]) => unknown) => {
      const run = transaction(fn);
      return (...args: unknown[]) => {
        opened.push("transaction");
        return run(...args);
      };
    }) as unknown as typeof d.sqlite.transaction;
    const repo = new JobsRepo(d.sqlite);
    const queued = repo.enqueue({ threadId, jobType: "t", priority: 5 }, NOW + 60_000);
    opened.length = 0;
    expect(repo.claimMany(NOW, "me", 1000, 4)).toEqual([]);
    expect(opened).toEqual([]);
    expect(repo.claimMany(NOW + 60_000, "me", 1000, 4).map((j) => j.id)).toEqual([queued.id]);
    expect(opened).toEqual(["transaction"]);
  });

  it("claims the most urgent ready jobs in a batch, and gives an unreadable one's slot to the next", async () => {
    const { repo, threadId, corrupt } = await setup();
    const low = repo.enqueue({ threadId, jobType: "t", priority: 2 }, NOW);
    const bad = repo.enqueue({ threadId, jobType: "t", priority: 9 }, NOW);
    const high = repo.enqueue({ threadId, jobType: "t", priority: 8 }, NOW);
    const mid = repo.enqueue({ threadId, jobType: "t", priority: 5 }, NOW);
    corrupt(bad.id, "prompt_variables", "{");
    expect(repo.claimMany(NOW, "me", 1000, 2).map((j) => j.id)).toEqual([high.id, mid.id]);
    expect(repo.claimMany(NOW, "me", 1000, 2).map((j) => j.id)).toEqual([low.id]);
    expect(repo.claimMany(NOW, "me", 1000, 2)).toEqual([]);
  });
});
