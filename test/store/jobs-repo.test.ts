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
