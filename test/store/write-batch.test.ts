import { afterEach, describe, expect, it } from "vitest";
import type { HermesDatabase } from "../../src/store/database.ts";
import { JobsRepo } from "../../src/store/jobs/repo.ts";
import { WriteBatch } from "../../src/store/write-batch.ts";
import { memoryDb } from "../helpers/memory-db.ts";

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
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

async function setup() {
  db = await memoryDb();
  const sqlite = db.sqlite;
  sqlite.exec("CREATE TABLE stats (n INTEGER)");
  const threadId = Number(
    sqlite
      .prepare(
        "INSERT INTO idea_threads (uuid, title, original_request) VALUES ('u', 't', 'idea') RETURNING id",
      )
      .pluck()
      .get(),
  );
  const errors: unknown[] = [];
  const writes = new WriteBatch(sqlite, (error) => errors.push(error));
  const repo = new JobsRepo(sqlite);
  repo.rideAlong(writes);
  const running = () => {
    repo.enqueue({ threadId, jobType: "t", priority: 5 }, NOW);
    const [job] = repo.claimMany(NOW, "me", 1000, 1);
    if (!job) throw new Error("nothing claimed");
    return job;
  };
  const insert = sqlite.prepare("INSERT INTO stats (n) VALUES (?)");
  const stats = () => sqlite.prepare("SELECT n FROM stats ORDER BY n").pluck().all();
  const status = (id: number) => sqlite.prepare("SELECT status FROM jobs WHERE id = ?").pluck().get(id);
  return { sqlite, writes, repo, running, insert, stats, status, errors };
}

describe("WriteBatch riding along a job's completion (JobsRepo.rideAlong)", () => {
  it("writes what is queued inside the completion's transaction, before its own flush", async () => {
    const { writes, repo, running, insert, stats } = await setup();
    const job = running();
    writes.add(() => insert.run(1));
    writes.add(() => insert.run(2));
    expect(repo.complete(job.id, job.attempt, fields, NOW)).toBe(true);
    expect(stats()).toEqual([1, 2]); // no turn has passed: it came with the completion
    expect(writes.size).toBe(0);
    const other = running();
    writes.add(() => insert.run(3));
    expect(repo.completeMany([{ id: other.id, attempt: other.attempt, fields }], NOW)).toEqual([true]);
    expect(stats()).toEqual([1, 2, 3]);
  });

  it("still flushes by itself, two turns later, when no job completes", async () => {
    const { writes, insert, stats } = await setup();
    writes.add(() => insert.run(7));
    await nextTurn();
    expect(stats()).toEqual([]); // one turn: a completion of this turn could still take it
    await nextTurn();
    expect(stats()).toEqual([7]);
  });

  it("a failing write is reported and undone; the completion holds", async () => {
    const { sqlite, writes, repo, running, insert, stats, status, errors } = await setup();
    const job = running();
    writes.add(() => insert.run(1));
    writes.add(() => sqlite.prepare("INSERT INTO no_such_table VALUES (1)").run());
    expect(repo.complete(job.id, job.attempt, fields, NOW)).toBe(true);
    expect(status(job.id)).toBe("completed");
    expect(stats()).toEqual([]); // the batch is one unit: all of it or none
    expect(errors).toHaveLength(1);
    expect(sqlite.inTransaction).toBe(false);
  });
});
