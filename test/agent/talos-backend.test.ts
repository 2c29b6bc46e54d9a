// Hermes' TalosBackend against a real Talos agent (listening on 127.0.0.1) in front of a fake
// Ollama: the whole path Hermes → Talos → Ollama over loopback sockets, including a Talos restart
// in the middle of a job.
import { Hono } from "hono";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { JobManager, JobManagerOptions } from "../../agent/jobs/jobs.ts";
import type { ResourceSnapshot } from "../../agent/resources.ts";
import { listenTalos, type RunningServer } from "../../agent/server/server.ts";
import type { RunProgress, RunRequest } from "../../src/backends/backend.ts";
import { TalosBackend, type TalosBackendOptions } from "../../src/backends/talos/backend.ts";
import { HermesError } from "../../src/errors.ts";
import { FakeOllama } from "../fakes/fake-ollama.ts";
import { waitUntil } from "../fakes/fake-server.ts";
import { buildTalos } from "./agent-harness.ts";

const TOKEN = "talos-test-token-0123456789";
const MODEL = "llama3.1:8b";

interface Agent {
  jobs: JobManager;
  server: RunningServer;
  resources: ResourceSnapshot;
  url: string;
}

let fake: FakeOllama;
let agents: Agent[] = [];

async function startAgent(opts: Partial<JobManagerOptions> & { port?: number } = {}): Promise<Agent> {
  const { port, ...jobOpts } = opts;
  const { app, jobs, resources } = buildTalos(fake.url, TOKEN, {
    resultTtlMs: 60_000,
    maxResults: 100,
    ...jobOpts,
  });
  const server = await listenTalos(app, { host: "127.0.0.1", port: port ?? 0 });
  const agent = { jobs, server, resources, url: `http://127.0.0.1:${server.port}` };
  agents.push(agent);
  return agent;
}

/** Kills an agent like a crash: connections dropped, its jobs (and their Ollama streams) gone. */
async function kill(agent: Agent): Promise<void> {
  await agent.server.close();
  await agent.jobs.shutdown(500);
  agents = agents.filter((a) => a !== agent);
}

function backend(url: string, extra: Partial<TalosBackendOptions> = {}): TalosBackend {
  return new TalosBackend({
    name: "talos",
    url,
    token: TOKEN,
    pollIntervalMs: 10,
    maxPollIntervalMs: 40,
    ...extra,
  });
}

function request(extra: Partial<RunRequest> = {}): RunRequest {
  return {
    jobId: 101,
    model: MODEL,
    messages: [
      { role: "system", content: "You write drafts." },
      { role: "user", content: "a bakery newsletter" },
    ],
    ...extra,
  };
}

async function failure(p: Promise<unknown>): Promise<HermesError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(HermesError);
    return err as HermesError;
  }
  throw new Error("expected the call to fail");
}

/** A port nothing listens on. */
async function deadPort(): Promise<number> {
  const s = await listenTalos(new Hono(), { host: "127.0.0.1", port: 0 });
  await s.close();
  return s.port;
}

/** A stream that stalls longer than any test: only the agent's end can end it. */
const STALL_MS = 3_600_000;

const stream = (n: number, delay: number) => () => ({
  chunks: Array.from({ length: n }, (_, i) => `w${i} `),
  chunkDelayMs: delay,
});

beforeEach(async () => {
  fake = await FakeOllama.start({ models: [MODEL], loaded: [MODEL] });
});

afterEach(async () => {
  for (const a of agents) await kill(a);
  agents = [];
  await fake.stop();
});

describe("TalosBackend", () => {
  it("runs a job: text, usage, model, latency, and progress while it streams", async () => {
    const agent = await startAgent();
    const chunks = Array.from({ length: 12 }, (_, i) => `part${i} `);
    fake.setResponder(() => ({ chunks, chunkDelayMs: 15, promptTokens: 30, evalTokens: 12 }));
    const b = backend(agent.url);
    expect(b.kind).toBe("talos");
    expect(b.local).toBe(true);
    const progress: RunProgress[] = [];
    const result = await b.run(
      request({ maxTokens: 300, temperature: 0.5, timeoutMs: 20_000 }),
      new AbortController().signal,
      (p) => progress.push(p),
    );
    expect(result.text).toBe(chunks.join(""));
    expect(result.model).toBe(MODEL);
    expect(result.usage).toEqual({ inputTokens: 30, outputTokens: 12 });
    expect(result.latencyMs).toBeGreaterThan(0);
    expect(result.firstTokenMs).toBeGreaterThan(0);
    expect(result.firstTokenMs).toBeLessThanOrEqual(result.latencyMs);

    expect(progress.length).toBeGreaterThanOrEqual(2);
    for (let i = 0; i < progress.length; i++) {
      const p = progress[i]!;
      expect(result.text.startsWith(p.textSoFar)).toBe(true);
      if (i > 0) expect(p.tokens).toBeGreaterThan(progress[i - 1]!.tokens);
    }

    const seen = fake.requests[0];
    expect(seen?.messages).toEqual(request().messages);
    expect(seen?.options).toEqual({ num_predict: 300, temperature: 0.5 });
    expect(fake.requests).toHaveLength(1);
  });

  it("abort: the cancel reaches the agent, the Ollama stream is closed, CANCELLED", async () => {
    const agent = await startAgent();
    fake.setResponder(stream(2, STALL_MS)); // still running when we act, however slow the machine
    const controller = new AbortController();
    let streaming!: () => void;
    const started = new Promise<void>((r) => {
      streaming = r;
    });
    const run = backend(agent.url).run(request({ jobId: 5 }), controller.signal, () => streaming());
    run.catch(() => {});
    await started;
    controller.abort();
    const error = await failure(run);
    expect(error.code).toBe("CANCELLED");
    expect(error.retryable).toBe(false);
    await waitUntil(() => agent.jobs.status("5")?.status === "cancelled");
    await waitUntil(() => fake.abortedCount() === 1 && fake.inFlight() === 0);
  });

  it("agent down → TALOS_UNAVAILABLE, retryable; health unhealthy; models fail the same way", async () => {
    const url = `http://127.0.0.1:${await deadPort()}`;
    const b = backend(url);
    const error = await failure(b.run(request(), new AbortController().signal));
    expect(error.code).toBe("TALOS_UNAVAILABLE");
    expect(error.retryable).toBe(true);
    expect(error.message).toMatch(/talos at http:\/\/127\.0\.0\.1:\d+ cannot be reached \(ECONNREFUSED\)/);
    expect(error.userAction).toMatch(/Tailscale/);
    const health = await b.health();
    expect(health.status).toBe("unhealthy");
    expect(health.detail).toContain("talos");
    expect((await failure(b.models())).code).toBe("TALOS_UNAVAILABLE");
  });

  it("Talos killed and restarted mid-job (same port): the job is submitted again and completes", async () => {
    const first = await startAgent();
    const port = first.server.port;
    let calls = 0;
    fake.setResponder(() => {
      calls++;
      return calls === 1
        ? { chunks: ["old0 ", "old1 "], chunkDelayMs: STALL_MS } // still streaming when the agent dies
        : { chunks: ["fresh ", "answer"], promptTokens: 5, evalTokens: 2 };
    });
    const progress: RunProgress[] = [];
    const run = backend(first.url).run(request({ jobId: 77 }), new AbortController().signal, (p) =>
      progress.push(p),
    );
    run.catch(() => {});
    await waitUntil(() => progress.length > 0);
    await kill(first);
    await waitUntil(() => fake.abortedCount() === 1); // the dead agent's Ollama stream is gone too
    await new Promise((r) => setTimeout(r, 60)); // a few polls meet "connection refused"
    const second = await startAgent({ port });
    const result = await run;
    expect(result.text).toBe("fresh answer");
    expect(result.usage).toEqual({ inputTokens: 5, outputTokens: 2 });
    expect(fake.requests).toHaveLength(2);
    expect(second.jobs.status("77")?.status).toBe("completed");
  });

  it("Talos stopped gracefully mid-job (SHUTDOWN) and restarted: the job is submitted again", async () => {
    const first = await startAgent();
    const port = first.server.port;
    let calls = 0;
    fake.setResponder(() => {
      calls++;
      // Still streaming when the agent shuts down, however slow the machine.
      return calls === 1 ? stream(2, STALL_MS)() : { text: "after the restart" };
    });
    const progress: RunProgress[] = [];
    const run = backend(first.url).run(request({ jobId: 78 }), new AbortController().signal, (p) =>
      progress.push(p),
    );
    run.catch(() => {});
    await waitUntil(() => progress.length > 0);
    await first.jobs.shutdown(); // SIGTERM: jobs cancelled with SHUTDOWN, the server still answers
    await new Promise((r) => setTimeout(r, 60)); // polls see SHUTDOWN; the resubmission meets 503
    await kill(first);
    await new Promise((r) => setTimeout(r, 30));
    await startAgent({ port });
    expect((await run).text).toBe("after the restart");
    expect(fake.requests).toHaveLength(2);
  });

  it("a job that times out on the agent → TIMEOUT, retryable", async () => {
    const agent = await startAgent({ jobTimeoutMs: 100 });
    fake.setResponder(() => ({ fault: "hang" }));
    const error = await failure(backend(agent.url).run(request(), new AbortController().signal));
    expect(error.code).toBe("TIMEOUT");
    expect(error.retryable).toBe(true);
    await waitUntil(() => fake.abortedCount() === 1);
  });

  it("a model Ollama does not have → BACKEND_ERROR, not retryable, with the pull advice", async () => {
    const agent = await startAgent();
    const error = await failure(
      backend(agent.url).run(request({ model: "mistral:7b" }), new AbortController().signal),
    );
    expect(error.code).toBe("BACKEND_ERROR");
    expect(error.retryable).toBe(false);
    expect(error.userAction).toMatch(/ollama pull mistral:7b/);
  });

  it("an Ollama failure on the agent → BACKEND_ERROR, retryable", async () => {
    const agent = await startAgent();
    fake.setResponder(() => ({ fault: "http500" }));
    const error = await failure(backend(agent.url).run(request(), new AbortController().signal));
    expect(error.code).toBe("BACKEND_ERROR");
    expect(error.retryable).toBe(true);
  });

  it("busy agent (503) → TALOS_UNAVAILABLE, retryable, with retryAfter", async () => {
    const agent = await startAgent();
    fake.setResponder(stream(2, STALL_MS)); // still running when we act, however slow the machine
    const busy = backend(agent.url).run(request({ jobId: 1 }), new AbortController().signal);
    busy.catch(() => {});
    await waitUntil(() => agent.jobs.counts().running === 1);
    const error = await failure(backend(agent.url).run(request({ jobId: 2 }), new AbortController().signal));
    expect(error.code).toBe("TALOS_UNAVAILABLE");
    expect(error.retryable).toBe(true);
    expect(error.retryAfter).toBeGreaterThanOrEqual(1);
    expect(error.message).toMatch(/busy/);

    agent.resources.memory_percent = 97;
    agent.jobs.cancel("1");
    const overloaded = await failure(
      backend(agent.url).run(request({ jobId: 3 }), new AbortController().signal),
    );
    expect(overloaded.code).toBe("TALOS_UNAVAILABLE");
    expect(overloaded.retryAfter).toBe(30);
  });

  it("a wrong token → BACKEND_ERROR, not retryable, 'check TALOS_TOKEN', the token in no message", async () => {
    const agent = await startAgent();
    const wrong = "wrong-token-wrong-token-wrong";
    const b = backend(agent.url, { token: wrong });
    const error = await failure(b.run(request(), new AbortController().signal));
    expect(error.code).toBe("BACKEND_ERROR");
    expect(error.retryable).toBe(false);
    expect(error.userAction).toMatch(/check TALOS_TOKEN/);
    for (const text of [error.message, error.details ?? "", error.userAction ?? ""]) {
      expect(text).not.toContain(wrong);
      expect(text).not.toContain(TOKEN);
    }
    const health = await b.health();
    expect(health.status).toBe("unhealthy");
    expect(health.detail).toMatch(/TALOS_TOKEN/);
    expect(fake.requests).toHaveLength(0);
  });

  it("an answer out of protocol → BACKEND_ERROR, retryable", async () => {
    const app = new Hono();
    app.post("/agent/execute", (c) => c.json({ job_id: 1, status: "sleeping" }, 202));
    app.get("/agent/health", (c) => c.text("not json"));
    const bogus = await listenTalos(app, { host: "127.0.0.1", port: 0 });
    try {
      const b = backend(`http://127.0.0.1:${bogus.port}`);
      const error = await failure(b.run(request(), new AbortController().signal));
      expect(error.code).toBe("BACKEND_ERROR");
      expect(error.retryable).toBe(true);
      expect(error.message).toMatch(/out of protocol/);
      expect((await b.health()).status).toBe("unhealthy");
    } finally {
      await bogus.close();
    }
  });

  it("health: healthy with warm models; degraded when the agent is up but Ollama is not", async () => {
    const agent = await startAgent();
    const b = backend(agent.url);
    const up = await b.health();
    expect(up.status).toBe("healthy");
    expect(up.latencyMs).toBeGreaterThan(0);
    expect(up.warmModels).toEqual([MODEL]);
    await fake.stop();
    const degraded = await b.health();
    expect(degraded.status).toBe("degraded");
    expect(degraded.detail).toMatch(/Ollama is not reachable/);
  });

  it("models: what Ollama on the Talos machine has, with capabilities", async () => {
    const agent = await startAgent();
    const models = await backend(agent.url).models();
    expect(models).toEqual([
      { name: MODEL, sizeBytes: expect.any(Number), family: "llama", capabilities: ["completion", "tools"] },
    ]);
  });
});
