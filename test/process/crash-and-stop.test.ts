import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { FakeOllama } from "../fakes/fake-ollama.ts";
import { jobStatuses, seedJobs, spawnHermes, waitUntil } from "../helpers/child-hermes.ts";

let ollama: FakeOllama | undefined;
let dir: string | undefined;
const children: ReturnType<typeof spawnHermes>[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) c.child.kill("SIGKILL");
  await ollama?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/**
 * Real processes on a machine that may be busy: each wait below has its own limit, and each test's
 * limit is the sum of its waits plus slack, so a slow start is never mistaken for a hang.
 * How fast recovery is (restart → interrupted job running again, target 10 s) is `npm run bench`'s
 * figure (bench/process.ts); the prompt requeue of a dead owner's jobs is tested with the clock in
 * test/queue/scheduler.test.ts.
 */
const STEP_MS = 20_000; // one child start up to a given point (first request, a job mid-stream)
const GRACE_MS = 10_000; // Hermes' stop grace (src/main.ts) before it requeues a running job
const ALL_DONE_MS = 45_000; // a fresh child finishing every queued job
const SLACK_MS = 10_000;

const markerOf = (req: { messages: { content: string }[] }) =>
  /marker (job-\d+)/.exec(req.messages.at(-1)?.content ?? "")?.[1];

describe("Hermes as a process", () => {
  it(
    "SIGTERM stops cleanly: no new work, the running job goes back to the queue, the next start finishes it",
    async () => {
      ollama = await FakeOllama.start();
      // A stream that stalls for an hour: the job is mid-answer when SIGTERM arrives and cannot
      // finish within the grace, however slow the machine.
      ollama.setResponder(() => ({ chunks: ["w0 ", "w1 "], chunkDelayMs: 3_600_000 }));
      dir = mkdtempSync(join(tmpdir(), "hermes-proc-"));
      const db = join(dir, "hermes.db");
      await seedJobs(db, 2);
      const env = { HERMES_DB_PATH: db, OLLAMA_HOST: ollama.url };
      const first = spawnHermes(env);
      children.push(first);
      await waitUntil(() => (ollama?.inFlight() ?? 0) === 1, STEP_MS, "the first job to stream");
      first.child.kill("SIGTERM");
      const code = await first.exited;
      expect(code, first.output()).toBe(0);
      expect(first.output()).toContain("stopped cleanly");
      expect(jobStatuses(db)).toEqual({ queued: 2 });
      expect(ollama.requests).toHaveLength(1);

      ollama.setResponder(() => ({ text: "quick" }));
      const second = spawnHermes(env);
      children.push(second);
      await waitUntil(
        () => jobStatuses(db).completed === 2,
        ALL_DONE_MS,
        "both jobs to complete after restart",
      );
      second.child.kill("SIGTERM");
      expect(await second.exited).toBe(0);
    },
    STEP_MS + GRACE_MS + ALL_DONE_MS + GRACE_MS + SLACK_MS,
  );

  it(
    "kill -9 while jobs run: every job completes after restarts, none lost, duplicates ≤ kills",
    async () => {
      ollama = await FakeOllama.start();
      ollama.setResponder(() => ({
        chunks: Array.from({ length: 10 }, (_, i) => `part${i} `),
        chunkDelayMs: 40,
      }));
      dir = mkdtempSync(join(tmpdir(), "hermes-crash-"));
      const db = join(dir, "hermes.db");
      const N = 8;
      await seedJobs(db, N);
      const env = { HERMES_DB_PATH: db, OLLAMA_HOST: ollama.url };
      let kills = 0;
      for (let round = 0; round < 2; round++) {
        const c = spawnHermes(env);
        children.push(c);
        const before = ollama.requests.length;
        await waitUntil(
          () => (ollama?.requests.length ?? 0) >= before + 2 && (ollama?.inFlight() ?? 0) === 1,
          STEP_MS,
          "a job mid-stream",
        );
        const interrupted = markerOf(ollama.requests.at(-1) ?? { messages: [] });
        c.child.kill("SIGKILL");
        await c.exited;
        kills++;
        // Restart at once: the interrupted job is sent to the backend again.
        const seen = ollama.requests.length;
        const next = spawnHermes(env);
        children.push(next);
        await waitUntil(
          () => ollama?.requests.slice(seen).some((r) => markerOf(r) === interrupted) ?? false,
          STEP_MS,
          `interrupted ${interrupted} to run again`,
        );
        next.child.kill("SIGKILL");
        await next.exited;
        kills++;
      }
      const last = spawnHermes(env);
      children.push(last);
      await waitUntil(() => jobStatuses(db).completed === N, ALL_DONE_MS, "every job to complete");
      last.child.kill("SIGTERM");
      await last.exited;

      const perJob = new Map<string, number>();
      for (const r of ollama.requests) {
        const m = markerOf(r);
        if (m) perJob.set(m, (perJob.get(m) ?? 0) + 1);
      }
      expect(perJob.size).toBe(N);
      const duplicates = [...perJob.values()].reduce((a, b) => a + b, 0) - N;
      expect(duplicates).toBeLessThanOrEqual(kills);
    },
    4 * STEP_MS + ALL_DONE_MS + GRACE_MS + SLACK_MS,
  );
});
