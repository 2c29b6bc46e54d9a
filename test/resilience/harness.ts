import { createHermes, type Hermes } from "../../src/app/hermes.ts";
import { ManualClock } from "../../src/clock.ts";
import { parseEnv } from "../../src/config/env.ts";
import { createLogger } from "../../src/log.ts";
import { FakeOllama } from "../fakes/fake-ollama.ts";
import { FakeOpenAI, type FakeOpenAIOptions } from "../fakes/fake-openai.ts";

export const TOKEN = "resilience-admin-token-0123";
/** Seconds between health checks of every backend in these tests. */
export const HEALTH_INTERVAL_S = 30;

/**
 * Hermes as production wires it (real Ollama and OpenAI-compatible backends, the real engine and
 * dispatcher) over loopback fakes, on an in-memory database and a ManualClock. The remote is the
 * `gpt5` backend (OPENAI_API_KEY + OPENAI_BASE_URL), disabled until a test switches it on.
 */
export async function resilienceHermes(
  opts: { remote?: FakeOpenAIOptions; config?: Record<string, string> } = {},
) {
  const ollama = await FakeOllama.start();
  const remote = await FakeOpenAI.start({ models: ["gpt-5"], ...opts.remote });
  const clock = new ManualClock(Date.UTC(2026, 0, 15, 12, 0, 0));
  const hermes: Hermes = await createHermes({
    env: parseEnv({
      HERMES_DB_PATH: ":memory:",
      HERMES_HTTP_PORT: "0",
      HERMES_ADMIN_TOKEN: TOKEN,
      OLLAMA_HOST: ollama.url,
      OPENAI_API_KEY: "sk-resilience-test",
      OPENAI_BASE_URL: remote.url,
    }),
    logger: createLogger({ level: process.env.TEST_LOG_LEVEL ?? "silent", secrets: [] }),
    clock,
    http: false,
    telegram: false,
    jitter: () => 0.5,
    stopGraceMs: 0,
    config: {
      "hermes.talos.health_check_interval": String(HEALTH_INTERVAL_S),
      // The key would turn gpt5 on; these tests switch it on themselves, as an owner does.
      "backend.gpt5.enabled": "false",
      ...opts.config,
    },
  });
  await hermes.start();

  async function call(method: string, path: string, json?: unknown) {
    const res = await hermes.app.request(path, {
      method,
      headers: { Authorization: `Bearer ${TOKEN}`, "Content-Type": "application/json" },
      body: json === undefined ? undefined : JSON.stringify(json),
    });
    // biome-ignore lint/suspicious/noExplicitAny: tests read response bodies freely
    return { status: res.status, json: (await res.json()) as any };
  }

  /** Real I/O (loopback sockets) gets a moment; the ManualClock does not move. */
  const tick = () => new Promise((r) => setTimeout(r, 5));

  /** Polls (real time, generous) until `cond` holds; the limit only names a hang. */
  async function until(cond: () => boolean, what: string, limitMs = 10_000): Promise<void> {
    const deadline = Date.now() + limitMs;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await tick();
    }
  }

  const backend = (name: string) => hermes.backends.status().find((b) => b.name === name);

  const job = (id: number) =>
    hermes.database.sqlite
      .prepare("SELECT status, backend_used, model_used, retry_count, error_message FROM jobs WHERE id = ?")
      .get(id) as {
      status: string;
      backend_used: string | null;
      model_used: string | null;
      retry_count: number;
      error_message: string | null;
    };

  async function submit(idea = "Write a short blog post about keeping bees in a city garden") {
    const res = await call("POST", "/api/submit", { idea });
    if (res.status !== 202) throw new Error(`submit failed: ${res.status} ${JSON.stringify(res.json)}`);
    return res.json.data as { thread_id: string; job_id: number };
  }

  /**
   * Moves the ManualClock forward in `stepMs` steps (letting real I/O run between them) until
   * `cond` holds or `maxMs` have passed; returns the clock time it took.
   */
  async function advanceUntil(cond: () => boolean, maxMs: number, stepMs = 1000): Promise<number> {
    const start = clock.now();
    for (;;) {
      for (let i = 0; i < 6 && !cond(); i++) await tick();
      if (cond() || clock.now() - start >= maxMs) return clock.now() - start;
      clock.advance(stepMs);
    }
  }

  return {
    hermes,
    clock,
    ollama,
    remote,
    call,
    until,
    backend,
    job,
    submit,
    advanceUntil,
    async close() {
      await hermes.stop().catch(() => {});
      await Promise.all([ollama.stop(), remote.stop()]);
    },
  };
}
