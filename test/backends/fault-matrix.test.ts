// Every backend kind × every transport fault the loopback fakes can produce: the exact HermesError
// (code, retryable, retryAfter) the manager and the queue decide on — or success for a slow stream
// that still finishes in time. Plus the HTTP statuses the fakes give for a bad key / unknown model.
import { afterEach, describe, expect, it } from "vitest";
import type { RunProgress } from "../../src/backends/backend.ts";
import { classifyFailure, httpStatusError, parseRetryAfter, scrub } from "../../src/backends/http/errors.ts";
import { OllamaBackend } from "../../src/backends/ollama/backend.ts";
import { OpenAIBackend } from "../../src/backends/openai/backend.ts";
import type { ErrorCode } from "../../src/errors.ts";
import { FakeOllama } from "../fakes/fake-ollama.ts";
import { FakeOpenAI } from "../fakes/fake-openai.ts";
import type { FakeReply } from "../fakes/fake-server.ts";
import { waitUntil } from "../fakes/fake-server.ts";
import { builtinTargets, type ContractSetup, failure, request } from "./contract.ts";

/** The deadline of the cases that must end in TIMEOUT: their fake never answers in time, whatever the load. */
const TIMEOUT_MS = 300;
/**
 * The deadline of every other case: generous, so that a busy machine cannot turn a fault that is
 * seen at once (refused, HTTP 500, …) into a TIMEOUT. Which error a fault gives does not depend on it.
 */
const GENEROUS_MS = 10_000;
/** A stall longer than any test: a stream that "stalls" this long only ends because we end it. */
const FOREVER_MS = 3_600_000;
const LONG_TEXT = "Once upon a time there was a bakery that sold the best bread in town.";

interface FaultCase {
  name: string;
  reply?: FakeReply;
  /** Stop the fake before the call (connection refused). */
  stopFirst?: boolean;
  expect: { code: ErrorCode; retryable: boolean; retryAfter?: number };
  /** What the message says, so that two faults with the same code are still told apart. */
  says?: RegExp;
}

const cases: FaultCase[] = [
  {
    name: "connection refused",
    stopFirst: true,
    expect: { code: "BACKEND_UNAVAILABLE", retryable: true },
    says: /connection refused/,
  },
  {
    name: "hang past the timeout",
    reply: { fault: "hang" },
    expect: { code: "TIMEOUT", retryable: true },
    says: /within 300 ms/,
  },
  {
    name: "HTTP 500",
    reply: { fault: "http500" },
    expect: { code: "BACKEND_ERROR", retryable: true },
    says: /HTTP 500/,
  },
  {
    name: "HTTP 429 with Retry-After",
    reply: { fault: "http429", retryAfterSeconds: 7 },
    expect: { code: "RATE_LIMITED", retryable: true, retryAfter: 7 },
  },
  {
    name: "HTTP 429 without Retry-After",
    reply: { fault: "http429" },
    expect: { code: "RATE_LIMITED", retryable: true, retryAfter: undefined },
  },
  {
    name: "malformed JSON",
    reply: { fault: "malformed", text: LONG_TEXT },
    expect: { code: "BACKEND_ERROR", retryable: true },
    says: /malformed JSON/,
  },
  {
    name: "stream cut midway",
    reply: { fault: "cut", text: LONG_TEXT },
    expect: { code: "BACKEND_ERROR", retryable: true },
    says: /lost mid-answer/,
  },
  {
    name: "stream stalls mid-answer past the timeout",
    reply: { chunks: ["one ", "two ", "three"], chunkDelayMs: FOREVER_MS },
    expect: { code: "TIMEOUT", retryable: true },
  },
];

describe.each(builtinTargets)("fault matrix: $name", (target) => {
  let s: ContractSetup | undefined;
  afterEach(async () => {
    await s?.fake.stop();
    s = undefined;
  });

  it.each(cases)("$name → $expect.code", async (c) => {
    s = await target.start({ defaultTimeoutMs: c.expect.code === "TIMEOUT" ? TIMEOUT_MS : GENEROUS_MS });
    const setup = s;
    if (c.reply) {
      const reply = c.reply;
      setup.fake.setResponder(() => reply);
    }
    if (c.stopFirst) await setup.fake.stop();
    const started = performance.now();
    const error = await failure(setup.backend.run(request(setup.model), new AbortController().signal));
    expect({ code: error.code, retryable: error.retryable }).toEqual({
      code: c.expect.code,
      retryable: c.expect.retryable,
    });
    if ("retryAfter" in c.expect) expect(error.retryAfter).toBe(c.expect.retryAfter);
    expect(error.message).toContain(setup.backend.name);
    if (c.says) expect(error.message).toMatch(c.says);
    // Not before the deadline. That it was the deadline that ended the call is shown by the code:
    // these fakes never finish on their own (how soon after the deadline is load, not behaviour).
    if (c.expect.code === "TIMEOUT")
      expect(performance.now() - started).toBeGreaterThanOrEqual(TIMEOUT_MS - 5);
    // Whatever went wrong, no request is left open on the server.
    await waitUntil(() => setup.fake.inFlight() === 0);
  });

  it("very slow stream that finishes within the timeout → success", async () => {
    s = await target.start({ defaultTimeoutMs: TIMEOUT_MS });
    s.fake.setResponder(() => ({
      fault: "slow",
      chunks: ["slow ", "but ", "steady ", "wins"],
      chunkDelayMs: 150,
    }));
    const progress: RunProgress[] = [];
    // The request's own deadline replaces the backend's 300 ms default, which the stream outlasts.
    const result = await s.backend.run(
      request(s.model, { timeoutMs: GENEROUS_MS }),
      new AbortController().signal,
      (p) => progress.push(p),
    );
    expect(result.text).toBe("slow but steady wins");
    expect(progress.map((p) => p.tokens)).toEqual([1, 2, 3, 4]);
    expect(result.latencyMs).toBeGreaterThanOrEqual(450 - 5);
    expect(result.firstTokenMs).toBeLessThan(result.latencyMs - 300);
  });

  it("unknown model → BACKEND_ERROR, not retryable, with a user action", async () => {
    s = await target.start({ defaultTimeoutMs: GENEROUS_MS });
    const error = await failure(s.backend.run(request("no-such-model:1b"), new AbortController().signal));
    expect(error.code).toBe("BACKEND_ERROR");
    expect(error.retryable).toBe(false);
    expect(error.userAction).toBe(
      s.backend.kind === "ollama"
        ? "run `ollama pull no-such-model:1b` on that machine, or pick an installed model"
        : `pick a model that ${s.backend.name} serves (see its model list)`,
    );
  });
});

describe("credentials", () => {
  const stops: (() => Promise<void>)[] = [];
  afterEach(async () => {
    await Promise.all(stops.splice(0).map((stop) => stop()));
  });

  it("a rejected key → BACKEND_ERROR, not retryable, 'check the API key', and the key is never shown", async () => {
    const fake = await FakeOpenAI.start({ apiKey: "sk-the-right-key-000000" });
    stops.push(() => fake.stop());
    const wrongKey = "sk-or-v1-WRONG-secret-987654321";
    // Providers echo (partly masked) keys in their 401 text; make this one echo it in full.
    const echoing: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (res.status !== 401) return res;
      const body = {
        error: { message: `Incorrect API key provided: ${wrongKey}`, type: "invalid_request_error" },
      };
      return new Response(JSON.stringify(body), {
        status: 401,
        headers: { "content-type": "application/json" },
      });
    };
    const backend = new OpenAIBackend({
      name: "openrouter",
      baseURL: fake.url,
      apiKey: wrongKey,
      provider: "openrouter",
      fetch: echoing,
    });
    const error = await failure(backend.run(request("gpt-4o-mini"), new AbortController().signal));
    expect(error.code).toBe("BACKEND_ERROR");
    expect(error.retryable).toBe(false);
    expect(error.userAction).toBe("check the API key for openrouter");
    const everything = `${error.message} ${error.details} ${error.userAction} ${JSON.stringify(error)} ${String(error.cause)}`;
    expect(everything).not.toContain(wrongKey);
    expect(everything).not.toContain("WRONG-secret");
    const health = await backend.health();
    expect(health.status).toBe("unhealthy");
    expect(health.detail).not.toContain(wrongKey);
  });
});

describe("protocol", () => {
  it("openai-compatible: a stream that ends cleanly before finishing → BACKEND_ERROR retryable", async () => {
    const fake = await FakeOpenAI.start({ models: ["m"] });
    try {
      // Keep the role chunk and the first content chunk, then end the body politely.
      const truncating: typeof fetch = async (input, init) => {
        const res = await fetch(input, init);
        const events = (await res.text()).split("\n\n").slice(0, 2).join("\n\n");
        return new Response(`${events}\n\n`, { status: res.status, headers: res.headers });
      };
      const backend = new OpenAIBackend({
        name: "vllm",
        baseURL: fake.url,
        provider: "custom",
        fetch: truncating,
      });
      fake.setResponder(() => ({ text: LONG_TEXT }));
      const error = await failure(backend.run(request("m"), new AbortController().signal));
      expect([error.code, error.retryable, error.details]).toEqual([
        "BACKEND_ERROR",
        true,
        "stream ended early",
      ]);
    } finally {
      await fake.stop();
    }
  });
});

describe("http-errors", () => {
  const ctx = {
    backend: "ollama",
    kind: "ollama" as const,
    host: "http://user:pw@10.0.0.5:11434/",
    model: "m",
  };
  const state = { cancelled: false, timedOut: false, timeoutMs: 300, responseStarted: false };

  it("Retry-After: seconds, HTTP date, retry-after-ms, garbage", () => {
    const now = Date.parse("2025-06-01T12:00:00Z");
    expect(parseRetryAfter(new Headers({ "retry-after": "12" }), now)).toBe(12);
    expect(parseRetryAfter(new Headers({ "retry-after": "Sun, 01 Jun 2025 12:00:30 GMT" }), now)).toBe(30);
    expect(parseRetryAfter(new Headers({ "retry-after": "Sun, 01 Jun 2025 11:00:00 GMT" }), now)).toBe(0);
    expect(parseRetryAfter(new Headers({ "retry-after-ms": "1500" }), now)).toBe(2);
    expect(parseRetryAfter(new Headers({ "retry-after": "soon" }), now)).toBeUndefined();
    expect(parseRetryAfter(new Headers(), now)).toBeUndefined();
  });

  it("statuses map to codes; messages name backend and host without credentials", () => {
    const e503 = httpStatusError(ctx, 503, { headers: new Headers({ "retry-after": "3" }) });
    expect([e503.code, e503.retryable, e503.retryAfter]).toEqual(["BACKEND_ERROR", true, 3]);
    expect(e503.message).toContain("ollama at http://10.0.0.5:11434");
    expect(e503.message).not.toContain("pw");
    const e400 = httpStatusError(ctx, 400, { message: "bad" });
    expect([e400.code, e400.retryable, e400.details]).toEqual(["BACKEND_ERROR", false, "HTTP 400: bad"]);
    const e403 = httpStatusError(ctx, 403);
    expect([e403.code, e403.retryable, e403.userAction]).toEqual([
      "BACKEND_ERROR",
      false,
      "check the API key for ollama",
    ]);
  });

  it("our abort and our deadline win over whatever the library threw", () => {
    const refused = Object.assign(new TypeError("fetch failed"), { cause: { code: "ECONNREFUSED" } });
    expect(classifyFailure(ctx, refused, state).code).toBe("BACKEND_UNAVAILABLE");
    expect(classifyFailure(ctx, refused, { ...state, responseStarted: true }).code).toBe("BACKEND_ERROR");
    expect(classifyFailure(ctx, refused, { ...state, cancelled: true }).code).toBe("CANCELLED");
    const timedOut = classifyFailure(ctx, refused, { ...state, timedOut: true });
    expect([timedOut.code, timedOut.retryable]).toEqual(["TIMEOUT", true]);
    expect(classifyFailure(ctx, new SyntaxError("Unexpected token"), state)).toMatchObject({
      code: "BACKEND_ERROR",
      retryable: true,
    });
  });

  it("scrub removes given secrets and key-shaped strings", () => {
    expect(scrub("key sk-abc123456789 and hunter2-secret", ["hunter2-secret"])).toBe(
      "key [redacted] and [redacted]",
    );
  });

  it("a caller signal that times out counts as TIMEOUT, not CANCELLED", async () => {
    const fake = await FakeOllama.start();
    try {
      fake.setResponder(() => ({ fault: "hang" }));
      const backend = new OllamaBackend({ name: "ollama", host: fake.url, defaultTimeoutMs: 10_000 });
      const error = await failure(backend.run(request("llama3.1:8b"), AbortSignal.timeout(100)));
      expect(error.code).toBe("TIMEOUT");
    } finally {
      await fake.stop();
    }
  });
});
