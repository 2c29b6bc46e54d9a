import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { pidFilePath } from "../../src/ops/pid-file.ts";
import type { DispatchOutcome } from "../../src/queue/scheduler/scheduler.ts";
import { openDatabase } from "../../src/store/database.ts";
import { JobsRepo } from "../../src/store/jobs/repo.ts";
import { type LogLine, recordingLogger, testHermes } from "../helpers/test-hermes.ts";

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

const settle = async (rounds = 20) => {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
};

describe("createHermes start/stop", () => {
  it("stop() closes intake, lets the running job finish and its draft be recorded, then stops operations and the database", async () => {
    dir = mkdtempSync(join(tmpdir(), "hermes-lifecycle-"));
    const dbPath = join(dir, "hermes.db");
    let finish: ((o: DispatchOutcome) => void) | undefined;
    const logs: LogLine[] = [];
    const { hermes } = await testHermes({
      env: { HERMES_DB_PATH: dbPath, HERMES_HTTP_HOST: "127.0.0.1" },
      http: true,
      logger: recordingLogger(logs),
      stopGraceMs: 60_000,
      dispatch: () => new Promise((resolve) => (finish = resolve)),
    });
    await hermes.start();
    expect(hermes.httpPort).toBeGreaterThan(0);
    expect(existsSync(pidFilePath(dbPath))).toBe(true);
    const threadId = Number(
      hermes.database.sqlite
        .prepare(
          "INSERT INTO idea_threads (uuid, title, original_request) VALUES ('u', 't', 'i') RETURNING id",
        )
        .pluck()
        .get(),
    );
    const job = hermes.queue.enqueue({ threadId, jobType: "creation", priority: 5 });
    await settle();
    expect(finish).toBeDefined();

    const stopped = hermes.stop();
    await settle();
    // Intake is closed at once: the HTTP port no longer answers.
    await expect(fetch(`http://127.0.0.1:${hermes.httpPort}/health`)).rejects.toThrow();
    finish?.({ text: "done", summary: "done", backend: "fake", model: "m", costCents: 0, executionMs: 1 });
    await stopped;
    expect(existsSync(pidFilePath(dbPath))).toBe(false);
    const msgs = logs.map((l) => l.msg);
    expect(msgs.slice(msgs.indexOf("stopping: no new work is taken"))).toEqual([
      "stopping: no new work is taken",
      "job completed",
      "stopped cleanly",
    ]);
    // The draft that ended in the grace period was recorded before the database closed.
    expect(logs.filter((l) => l.level === "error")).toEqual([]);

    const reopened = await openDatabase({ path: dbPath });
    expect(new JobsRepo(reopened.sqlite).get(job.id)?.status).toBe("completed");
    expect(
      reopened.sqlite.prepare("SELECT draft_count, final_result_summary FROM idea_threads").get(),
    ).toEqual({ draft_count: 1, final_result_summary: "done" });
    await reopened.close();
  });
});
