import { expect, it } from "vitest";
import { ManualClock } from "../../src/clock.ts";
import { BackendsRepo } from "../../src/store/backends/repo.ts";
import { UserDataRepo } from "../../src/store/threads/user-data-repo.ts";
import { WriteBatch } from "../../src/store/write-batch.ts";
import { memoryDb } from "../helpers/memory-db.ts";

it("/forget writes held backend statistics first, so none of the user's lands after the delete", async () => {
  const db = await memoryDb();
  const sqlite = db.sqlite;
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const writes = new WriteBatch(sqlite, () => {}, { clock });
  const backends = new BackendsRepo(sqlite, writes);
  sqlite.prepare("INSERT INTO backends (name, backend_type, config) VALUES ('ollama', 'ollama', '{}')").run();
  const threadId = Number(
    sqlite
      .prepare(
        "INSERT INTO idea_threads (uuid, title, original_request, user_id) VALUES ('u','t','my secret idea','u1') RETURNING id",
      )
      .pluck()
      .get(),
  );
  const jobId = Number(
    sqlite
      .prepare(
        "INSERT INTO jobs (thread_id, job_type, status, priority) VALUES (?, 'mixed', 'completed', 5) RETURNING id",
      )
      .pluck()
      .get(threadId),
  );
  // e.g. draft 1's assumptions call, made just before the user taps "Yes, delete everything"
  backends.recordCall(
    {
      backend: "ollama",
      jobId,
      jobType: "mixed",
      model: "m",
      success: false,
      latencyMs: 5,
      tokens: 3,
      costCents: 0,
      error: "BACKEND_ERROR: …",
    },
    new Date(clock.now()).toISOString(),
  );
  const deleted = new UserDataRepo(sqlite, writes).forget("u1", undefined);
  expect(deleted.backend_performance).toBe(1);
  clock.advance(1000);
  const left = sqlite.prepare("SELECT job_id, job_type, error_message FROM backend_performance").all();
  await db.close();
  expect(left).toEqual([]);
});
