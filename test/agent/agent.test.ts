// The Talos agent (agent/) in front of a fake Ollama: the hono app is driven in-process with
// app.request(); Ollama is a real loopback server speaking NDJSON. Timeouts and result expiry run on
// a manual clock, so nothing here sleeps for real time beyond a few short streams.
import type { Hono } from "hono";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type AgentClock, JobManager, type JobManagerOptions } from "../../agent/jobs/jobs.ts";
import { OllamaGateway } from "../../agent/ollama.ts";
import {
  CancelResponseSchema,
  ErrorBodySchema,
  ExecuteResponseSchema,
  HealthResponseSchema,
  MAX_BODY_BYTES,
  ModelsResponseSchema,
  StatusResponseSchema,
} from "../../agent/protocol.ts";
import type { ResourceSnapshot } from "../../agent/resources.ts";
import { createTalosApp } from "../../agent/server/server.ts";
import { ManualClock } from "../../src/clock.ts";
import { FakeOllama } from "../fakes/fake-ollama.ts";
import { waitUntil } from "../fakes/fake-server.ts";
import { buildTalos } from "./agent-harness.ts";

const TOKEN = "test-token-0123456789abcdef";
const MODEL = "llama3.1:8b";

interface Agent {
  app: Hono;
  jobs: JobManager;
  resources: ResourceSnapshot;
}

let fake: FakeOllama;
let agents: Agent[] = [];

function startAgent(opts: Partial<JobManagerOptions> & { clock?: AgentClock } = {}): Agent {
  const { app, jobs, resources } = buildTalos(fake.url, TOKEN, opts);
  const agent = { app, jobs, resources };
  agents.push(agent);
  return agent;
}

const auth = { authorization: `Bearer ${TOKEN}` };

function post(app: Hono, path: string, body: unknown, headers: Record<string, string> = auth) {
  return app.request(path, {
    method: "POST",
    headers: { ...headers, "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

const get = (app: Hono, path: string, headers: Record<string, string> = auth) =>
  app.request(path, { headers });

const execute = (app: Hono, jobId: string, extra: Record<string, unknown> = {}) =>
  post(app, "/agent/execute", {
    job_id: jobId,
    model: MODEL,
    messages: [{ role: "user", content: `idea ${jobId}` }],
    ...extra,
  });

async function status(app: Hono, jobId: string, query = "") {
  const res = await get(app, `/agent/status/${jobId}${query}`);
  expect(res.status).toBe(200);
  return StatusResponseSchema.parse(await res.json());
}

async function errorOf(res: Response) {
  return ErrorBodySchema.parse(await res.json()).error;
}

/**
 * A stream that takes a while: `n` chunks, `delay` ms apart. The default outlasts every test (60 s),
 * so a job is still running whenever a test looks, however slow the machine.
 */
const slow =
  (n = 3_000, delay = 20) =>
  () => ({
    chunks: Array.from({ length: n }, (_, i) => `w${i} `),
    chunkDelayMs: delay,
  });

beforeEach(async () => {
  fake = await FakeOllama.start({ models: [MODEL, "qwen2.5-coder:7b"] });
});

afterEach(async () => {
  for (const a of agents) await a.jobs.shutdown(500);
  agents = [];
  await fake.stop();
});

describe("execute → status → result", () => {
  it("runs the prompt on Ollama and returns text, usage and timings", async () => {
    const { app, jobs } = startAgent();
    fake.setResponder(() => ({
      chunks: ["Dear ", "readers, ", "fresh ", "bread."],
      promptTokens: 21,
      evalTokens: 9,
    }));
    const res = await execute(app, "7", {
      options: { temperature: 0.3, num_predict: 200, keep_alive: "10m" },
    });
    expect(res.status).toBe(202);
    const accepted = ExecuteResponseSchema.parse(await res.json());
    expect(accepted).toEqual({ job_id: "7", status: "running", estimated_time: null });

    await jobs.settled("7");
    const s = await status(app, "7");
    expect(s.status).toBe("completed");
    expect(s.progress.tokens).toBe(4);
    expect(s.eta_seconds).toBe(0);
    expect(s.error).toBeUndefined();
    expect(s.result).toMatchObject({
      text: "Dear readers, fresh bread.",
      model: MODEL,
      usage: { input_tokens: 21, output_tokens: 9 },
    });
    expect(s.result?.latency_ms).toBeGreaterThanOrEqual(0);

    const seen = fake.requests[0];
    expect(seen?.path).toBe("/api/chat");
    expect(seen?.stream).toBe(true);
    expect(seen?.messages).toEqual([{ role: "user", content: "idea 7" }]);
    expect(seen?.options).toEqual({ temperature: 0.3, num_predict: 200 });
    expect(seen?.keep_alive).toBe("10m");

    // The live preview: text from an offset.
    const tail = await status(app, "7", "?text_from=5");
    expect(tail.progress.text).toBe("readers, fresh bread.");
    expect(tail.progress.chars).toBe("Dear readers, fresh bread.".length);
  });

  it("accepts a bare prompt as one user message, and reports progress while streaming", async () => {
    const { app, jobs } = startAgent();
    fake.setResponder(slow(3_000, 10));
    expect((await execute(app, "p1", { messages: undefined, prompt: "haiku" })).status).toBe(202);
    await waitUntil(() => (jobs.status("p1")?.progress.tokens ?? 0) >= 3);
    const mid = await status(app, "p1", "?text_from=0");
    expect(mid.status).toBe("running");
    expect(mid.progress.tokens).toBeGreaterThanOrEqual(3);
    expect(mid.progress.text?.startsWith("w0 w1 w2 ")).toBe(true);
    expect(fake.requests[0]?.messages).toEqual([{ role: "user", content: "haiku" }]);
  });

  it("a model Ollama does not have fails the job with MODEL_NOT_FOUND", async () => {
    const { app, jobs } = startAgent();
    await execute(app, "m", { model: "nope:1b" });
    await jobs.settled("m");
    const s = await status(app, "m");
    expect(s.status).toBe("failed");
    expect(s.error?.code).toBe("MODEL_NOT_FOUND");
  });

  it("Ollama down fails the job with OLLAMA_UNAVAILABLE; health is degraded", async () => {
    const { app, jobs } = startAgent();
    await fake.stop();
    await execute(app, "d");
    await jobs.settled("d");
    expect((await status(app, "d")).error?.code).toBe("OLLAMA_UNAVAILABLE");
    const health = HealthResponseSchema.parse(await (await get(app, "/agent/health")).json());
    expect(health.status).toBe("degraded");
    expect(health.ollama.reachable).toBe(false);
    expect(health.reasons?.join(" ")).toMatch(/Ollama is not reachable/);
  });
});

describe("cancel and timeout", () => {
  it("cancel mid-stream aborts the Ollama stream and frees the slot", async () => {
    const { app, jobs } = startAgent();
    fake.setResponder(slow());
    await execute(app, "c1");
    await waitUntil(() => (jobs.status("c1")?.progress.tokens ?? 0) >= 2);
    const res = await post(app, "/agent/cancel/c1", "");
    expect(res.status).toBe(200);
    const cancel = CancelResponseSchema.parse(await res.json());
    expect(cancel).toMatchObject({ job_id: "c1", cancelled: true, status: "cancelled" });
    expect(cancel.cleanup_actions).toContain("aborted the Ollama stream");
    await waitUntil(() => fake.abortedCount() === 1 && fake.inFlight() === 0);
    const s = await status(app, "c1");
    expect(s.status).toBe("cancelled");
    expect(s.error?.code).toBe("CANCELLED");
    expect(jobs.counts().running).toBe(0);

    // Cancelling again is harmless; an unknown job is 404.
    expect(CancelResponseSchema.parse(await (await post(app, "/agent/cancel/c1", "")).json()).cancelled).toBe(
      false,
    );
    expect((await post(app, "/agent/cancel/nope", "")).status).toBe(404);
  });

  it("a job over its timeout ends as timeout / TIMEOUT and its stream is aborted", async () => {
    const clock = new ManualClock();
    const { app } = startAgent({ clock, jobTimeoutMs: 10_000 });
    fake.setResponder(() => ({ fault: "hang" }));
    await execute(app, "t1", { timeout_seconds: 3 }); // the request's own deadline, below the cap
    await waitUntil(() => fake.inFlight() === 1);
    clock.advance(2_999);
    expect((await status(app, "t1")).status).toBe("running");
    clock.advance(1);
    const s = await status(app, "t1");
    expect(s.status).toBe("timeout");
    expect(s.error).toEqual({ code: "TIMEOUT", message: "the job did not finish within 3 s" });
    await waitUntil(() => fake.abortedCount() === 1);
  });

  it("the agent's TALOS_JOB_TIMEOUT_SECONDS caps a longer request deadline", async () => {
    const clock = new ManualClock();
    const { app } = startAgent({ clock, jobTimeoutMs: 5_000 });
    fake.setResponder(() => ({ fault: "hang" }));
    await execute(app, "t2", { timeout_seconds: 3600 });
    clock.advance(5_000);
    expect((await status(app, "t2")).status).toBe("timeout");
  });

  it("shutdown cancels running jobs with SHUTDOWN and refuses new ones", async () => {
    const { app, jobs } = startAgent();
    fake.setResponder(slow());
    await execute(app, "s1");
    await waitUntil(() => (jobs.status("s1")?.progress.tokens ?? 0) >= 1);
    expect(await jobs.shutdown()).toBe(1);
    expect((await status(app, "s1")).error?.code).toBe("SHUTDOWN");
    const res = await execute(app, "s2");
    expect(res.status).toBe(503);
    expect((await errorOf(res)).code).toBe("SHUTDOWN");
  });
});

describe("admission", () => {
  it("a second job while one runs (concurrency 1) → 503 BUSY with Retry-After", async () => {
    const { app, jobs } = startAgent({ maxConcurrent: 1 });
    fake.setResponder(slow());
    expect((await execute(app, "a")).status).toBe(202);
    const res = await execute(app, "b");
    expect(res.status).toBe(503);
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    const error = await errorOf(res);
    expect(error.code).toBe("BUSY");
    expect(error.retry_after).toBe(Number(res.headers.get("retry-after")));
    await waitUntil(() => fake.requests.length === 1);
    expect(jobs.counts().running).toBe(1);
    // Once the first is cancelled the slot is free again.
    await post(app, "/agent/cancel/a", "");
    fake.setResponder(() => ({ text: "b" }));
    expect((await execute(app, "b")).status).toBe(202);
    await jobs.settled("b");
  });

  it("execute is idempotent: the same job_id is the same job, run once", async () => {
    const { app, jobs } = startAgent();
    fake.setResponder(slow(10, 10));
    expect((await execute(app, "42")).status).toBe(202);
    const again = await execute(app, "42"); // even with the only slot taken
    expect(again.status).toBe(200);
    expect(ExecuteResponseSchema.parse(await again.json())).toMatchObject({
      job_id: "42",
      status: "running",
    });
    await jobs.settled("42");
    const done = await execute(app, "42");
    expect(done.status).toBe(200);
    expect(ExecuteResponseSchema.parse(await done.json()).status).toBe("completed");
    expect(fake.requests).toHaveLength(1);

    // The same id with a different conversation is a conflict, not a silent reuse.
    const other = await post(app, "/agent/execute", { job_id: "42", model: MODEL, prompt: "something else" });
    expect(other.status).toBe(409);
    expect((await errorOf(other)).field).toBe("job_id");
  });

  it("a job that failed runs again when submitted again (Hermes retrying it)", async () => {
    const { app, jobs } = startAgent();
    fake.setResponder(() => ({ fault: "http500" }));
    await execute(app, "r");
    await jobs.settled("r");
    expect((await status(app, "r")).status).toBe("failed");
    fake.setResponder(() => ({ text: "second time lucky" }));
    expect((await execute(app, "r")).status).toBe(202);
    await jobs.settled("r");
    expect((await status(app, "r")).result?.text).toBe("second time lucky");
    expect(fake.requests).toHaveLength(2);
  });

  it("the resource guard refuses new work above the limits (503 OVERLOADED), health says why", async () => {
    const { app, resources } = startAgent();
    resources.memory_percent = 93.5;
    const res = await execute(app, "g");
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("30");
    const error = await errorOf(res);
    expect(error.code).toBe("OVERLOADED");
    expect(error.message).toMatch(/memory use 93.5% is above the limit of 80%/);
    expect(fake.requests).toHaveLength(0);

    const health = HealthResponseSchema.parse(await (await get(app, "/agent/health")).json());
    expect(health.status).toBe("degraded");
    expect(health.reasons?.join(" ")).toMatch(/memory/);

    resources.memory_percent = 50;
    resources.cpu_percent = 99;
    expect((await errorOf(await execute(app, "g"))).message).toMatch(/CPU use 99%/);
    resources.cpu_percent = 20;
    expect((await execute(app, "g")).status).toBe(202);
  });
});

describe("authentication", () => {
  const routes: [string, string][] = [
    ["POST", "/agent/execute"],
    ["GET", "/agent/status/1"],
    ["POST", "/agent/cancel/1"],
    ["GET", "/agent/health"],
    ["GET", "/agent/models"],
  ];

  it.each([
    ["no header", {}],
    ["a wrong token", { authorization: "Bearer not-the-token-at-all" }],
    ["a token prefix", { authorization: `Bearer ${TOKEN.slice(0, -1)}` }],
    ["another scheme", { authorization: `Basic ${TOKEN}` }],
  ])("401 with %s on every route", async (_name, headers: Record<string, string>) => {
    const { app } = startAgent();
    for (const [method, path] of routes) {
      const res = await app.request(path, { method, headers });
      expect(res.status, `${method} ${path}`).toBe(401);
      expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
      const error = await errorOf(res);
      expect(error.code).toBe("UNAUTHORIZED");
      expect(JSON.stringify(error)).not.toContain(TOKEN);
    }
    expect(fake.requests).toHaveLength(0);
  });

  it("the right token passes; without a configured token (loopback opt-in) anything passes", async () => {
    const { app } = startAgent();
    expect((await get(app, "/agent/health", { authorization: `bearer ${TOKEN}` })).status).toBe(200);
    const open = createTalosApp({
      token: undefined,
      jobs: new JobManager({
        ollama: new OllamaGateway(fake.url),
        maxConcurrent: 1,
        jobTimeoutMs: 1000,
        resultTtlMs: 1000,
        maxResults: 1,
      }),
      ollama: new OllamaGateway(fake.url),
      resources: { snapshot: async () => agents[0]!.resources },
      limits: { maxCpuPercent: 90, maxMemoryPercent: 80 },
    });
    expect((await get(open, "/agent/health", {})).status).toBe(200);
  });
});

describe("validation", () => {
  const base = { job_id: "v1", model: MODEL, messages: [{ role: "user", content: "x" }] };

  it.each([
    ["not JSON", "{nope", "body"],
    ["not an object", "[1,2]", "body"],
    ["a wrong role", { ...base, messages: [{ role: "wizard", content: "x" }] }, "messages.0.role"],
    ["content not a string", { ...base, messages: [{ role: "user", content: 3 }] }, "messages.0.content"],
    ["a temperature that is text", { ...base, options: { temperature: "hot" } }, "options.temperature"],
    ["an unknown option", { ...base, options: { temprature: 0.2 } }, "options.temprature"],
    ["an unknown top-level field", { ...base, priority: 1 }, "priority"],
    ["no model", { job_id: "v1", messages: base.messages }, "model"],
    ["neither messages nor prompt", { job_id: "v1", model: MODEL }, "messages"],
    ["both messages and prompt", { ...base, prompt: "y" }, "prompt"],
    ["a job_id with a slash", { ...base, job_id: "a/b" }, "job_id"],
    ["a numeric job_id", { ...base, job_id: 5 }, "job_id"],
  ])("400 on %s, naming the field", async (_name, body, field) => {
    const { app } = startAgent();
    const res = await post(app, "/agent/execute", body);
    expect(res.status).toBe(400);
    const error = await errorOf(res);
    expect(error.code).toBe("INVALID_INPUT");
    expect(error.field).toBe(field);
    expect(fake.requests).toHaveLength(0);
  });

  it("400 on a bad job id or text_from in the status route; 404 on an unknown job", async () => {
    const { app } = startAgent();
    expect((await errorOf(await get(app, "/agent/status/a%20b"))).field).toBe("job_id");
    expect((await errorOf(await get(app, "/agent/status/1?text_from=-1"))).field).toBe("text_from");
    const missing = await get(app, "/agent/status/unknown");
    expect(missing.status).toBe(404);
    expect((await errorOf(missing)).code).toBe("NOT_FOUND");
  });

  it("413 on a body over 1 MiB", async () => {
    const { app } = startAgent();
    const res = await post(app, "/agent/execute", { ...base, prompt: "x".repeat(MAX_BODY_BYTES) });
    expect(res.status).toBe(413);
    expect((await errorOf(res)).code).toBe("PAYLOAD_TOO_LARGE");
  });
});

describe("result retention", () => {
  it("results expire after the TTL, or a grace period after being fetched", async () => {
    const clock = new ManualClock();
    const { app, jobs } = startAgent({ clock, resultTtlMs: 60_000, fetchedGraceMs: 5_000 });
    await execute(app, "e1");
    await jobs.settled("e1");
    clock.advance(10_000);
    expect((await get(app, "/agent/status/e1")).status).toBe(200); // first fetch of a final job
    clock.advance(4_999);
    expect((await get(app, "/agent/status/e1")).status).toBe(200);
    clock.advance(1);
    expect((await get(app, "/agent/status/e1")).status).toBe(404);

    await execute(app, "e2");
    await jobs.settled("e2");
    clock.advance(60_000); // never fetched: the TTL alone
    expect((await get(app, "/agent/status/e2")).status).toBe(404);
    expect(jobs.size()).toBe(0);
  });

  it("at most TALOS_MAX_RESULTS finished jobs are kept, oldest dropped first", async () => {
    const { app, jobs } = startAgent({ maxResults: 2 });
    for (const id of ["k1", "k2", "k3"]) {
      await execute(app, id);
      await jobs.settled(id);
    }
    expect((await get(app, "/agent/status/k1")).status).toBe(404);
    expect((await get(app, "/agent/status/k2")).status).toBe(200);
    expect((await get(app, "/agent/status/k3")).status).toBe(200);
    expect(jobs.size()).toBe(2);
  });
});

describe("health and models", () => {
  it("health: ok, with resources, Ollama's version and job counts", async () => {
    const { app } = startAgent();
    const res = await get(app, "/agent/health");
    expect(res.status).toBe(200);
    const h = HealthResponseSchema.parse(await res.json());
    expect(h.status).toBe("ok");
    expect(h.ollama).toMatchObject({ reachable: true, url: fake.url, version: "0.12.6", loaded_models: [] });
    expect(h.resources.memory_percent).toBe(40);
    expect(h.jobs).toEqual({ running: 0, queued: 0, max_concurrent: 1 });
  });

  it("models: Ollama's tags with capabilities; 502 when Ollama is gone", async () => {
    const { app } = startAgent();
    const res = await get(app, "/agent/models");
    expect(res.status).toBe(200);
    const { models } = ModelsResponseSchema.parse(await res.json());
    expect(models.map((m) => m.name)).toEqual([MODEL, "qwen2.5-coder:7b"]);
    expect(models[0]).toMatchObject({
      family: "llama",
      parameter_size: "8.0B",
      capabilities: ["completion", "tools"],
    });
    expect(models[0]?.size_bytes).toBeGreaterThan(0);
    await fake.stop();
    const down = await get(app, "/agent/models");
    expect(down.status).toBe(502);
    expect((await errorOf(down)).code).toBe("OLLAMA_UNAVAILABLE");
  });
});
