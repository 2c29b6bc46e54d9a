import { afterEach, describe, expect, it } from "vitest";
import { ManualClock } from "../../src/clock.ts";
import type { HermesDatabase } from "../../src/store/database.ts";
import { JobsRepo } from "../../src/store/jobs/repo.ts";
import { WRITE_BEHIND_MS, WriteBatch } from "../../src/store/write-batch.ts";
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
  const clock = new ManualClock(NOW);
  const writes = new WriteBatch(sqlite, (error) => errors.push(error), { clock });
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
  return { sqlite, clock, writes, repo, running, insert, stats, status, errors };
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

  it("waits for a completion to ride with: a record queued well before it (an analysis call, a failed attempt) rides too", async () => {
    const { clock, writes, repo, running, insert, stats } = await setup();
    const job = running();
    writes.add(() => insert.run(1));
    await new Promise<void>((resolve) => setImmediate(() => setImmediate(resolve)));
    clock.advance(WRITE_BEHIND_MS - 1);
    expect(stats()).toEqual([]); // turns and most of the delay passed: still held
    writes.add(() => insert.run(2));
    expect(repo.complete(job.id, job.attempt, fields, NOW)).toBe(true);
    expect(stats()).toEqual([1, 2]);
    // The completion took them: the delay's timer is gone, nothing is written twice.
    expect(clock.pendingTimers()).toBe(0);
    clock.advance(WRITE_BEHIND_MS);
    expect(stats()).toEqual([1, 2]);
  });

  it("writes by itself once the delay passes with no completion; a reader's flush writes at once", async () => {
    const { clock, writes, insert, stats } = await setup();
    writes.add(() => insert.run(7));
    clock.advance(WRITE_BEHIND_MS - 1);
    expect(stats()).toEqual([]);
    clock.advance(1);
    expect(stats()).toEqual([7]);
    writes.add(() => insert.run(8));
    writes.flush(); // what readers (and stop, before closing) do
    expect(stats()).toEqual([7, 8]);
    expect(clock.pendingTimers()).toBe(0);
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
