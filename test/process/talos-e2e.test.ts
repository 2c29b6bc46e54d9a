import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { FakeOllama } from "../fakes/fake-ollama.ts";
import { freePort } from "../fakes/telegram-emulator.ts";
import { startTestHermes } from "../helpers/hermes-harness.ts";

const ROOT = join(import.meta.dirname, "..", "..");
const TOKEN = "talos-e2e-token-0123456789abcdef";
const cleanups: (() => Promise<unknown>)[] = [];
/**
 * Real processes on a machine that may be busy: every wait is for a condition, with a generous limit
 * of its own, and the test's limit is the sum of them, so a slow start is not mistaken for a hang.
 */
const START_MS = 20_000; // Talos up and answering its health check
const STREAMING_MS = 20_000; // Hermes has handed the job to Talos, which is streaming from Ollama
const COMPLETED_MS = 45_000; // after the restart, Hermes retries on Talos until the job completes

/** Polls `cond` every 25 ms until it holds; fails after `limitMs` naming what it waited for. */
async function until(cond: () => boolean | Promise<boolean>, limitMs: number, what: string): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${limitMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

/** The real Talos agent as its own process (`node agent/main.ts`), as pm2 or launchd runs it. */
function startTalos(port: number, ollamaUrl: string): { child: ChildProcess; ready: Promise<void> } {
  const child = spawn(process.execPath, [join(ROOT, "agent", "main.ts")], {
    env: {
      PATH: process.env.PATH ?? "",
      TALOS_HOST: "127.0.0.1",
      TALOS_PORT: String(port),
      TALOS_TOKEN: TOKEN,
      OLLAMA_HOST: ollamaUrl,
      TALOS_LOG_LEVEL: "info",
      // The resource guard reads this machine's real CPU and memory: on a busy machine it would
      // refuse the job (503 OVERLOADED) for as long as the load lasts. The guard has its own tests
      // (test/agent/agent.test.ts); this one is about the crash and the retry.
      TALOS_MAX_CPU_PERCENT: "100",
      TALOS_MAX_MEMORY_PERCENT: "100",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const healthy = async () => {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/agent/health`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      return res.ok;
    } catch {
      return false; // not up yet
    }
  };
  const ready = until(healthy, START_MS, "Talos to start");
  cleanups.push(async () => child.kill("SIGKILL"));
  return { child, ready };
}

describe("Hermes → Talos → Ollama", () => {
  it(
    "a draft runs on Talos; Talos killed mid-job and restarted: the job still completes",
    async () => {
      const ollama = await FakeOllama.start();
      cleanups.push(() => ollama.stop());
      // The first answer stalls after one chunk until Talos dies: still streaming whenever we look.
      ollama.setResponder(() => ({ chunks: ["t0 ", "t1 "], chunkDelayMs: 3_600_000 }));
      const port = await freePort();
      let talos = startTalos(port, ollama.url);
      await talos.ready;

      const deadOllama = await freePort();
      const h = await startTestHermes(
        {
          TALOS_URL: `http://127.0.0.1:${port}`,
          TALOS_TOKEN: TOKEN,
          OLLAMA_HOST: `http://127.0.0.1:${deadOllama}`,
        },
        // Short retry and health intervals: once Talos is back, the job is retried within seconds
        // (Talos' circuit re-opens to a probe after one health interval, 10 s by default).
        {
          "backend.ollama.enabled": "false",
          "talos.execution.retry_interval": "1",
          "hermes.talos.health_check_interval": "1",
        },
      );
      cleanups.push(() => h.stop());
      const talosStatus = h.hermes.backends.status().find((b) => b.name === "talos");
      expect(talosStatus?.kind).toBe("talos");

      const r = await h.hermes.engine.submitIdea({
        userId: "cli",
        text: "Outline a talk on bridges",
        source: "cli",
      });
      // Wait until Talos is streaming the job from Ollama, then kill Talos like a crash.
      await until(() => ollama.inFlight() > 0, STREAMING_MS, "Talos to stream the job from Ollama");
      expect(ollama.inFlight()).toBe(1);
      talos.child.kill("SIGKILL");
      await new Promise((res) => talos.child.once("exit", res));
      ollama.setResponder(() => ({ text: "A talk on bridges, in three parts." }));
      talos = startTalos(port, ollama.url);
      await talos.ready;

      let job: Record<string, unknown> | undefined;
      const settled = () => {
        job = h.hermes.database.sqlite
          .prepare("SELECT status, backend_used, full_result FROM jobs WHERE id = ?")
          .get(r.job.id) as Record<string, unknown> | undefined;
        return job?.status === "completed" || job?.status === "failed";
      };
      await until(settled, COMPLETED_MS, "the job to complete or fail");
      expect(job).toMatchObject({
        status: "completed",
        backend_used: "talos",
        full_result: "A talk on bridges, in three parts.",
      });
      expect(ollama.requests.length).toBeGreaterThanOrEqual(2);
    },
    2 * START_MS + STREAMING_MS + COMPLETED_MS,
  );
});
