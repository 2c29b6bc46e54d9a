import { afterEach, describe, expect, it } from "vitest";
import { HermesError } from "../../src/errors.ts";
import { HTTP_STATUS } from "../../src/http/error-status.ts";
import { type ApiHarness, apiHarness, TOKEN } from "./api-harness.ts";

let h: ApiHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe("envelopes", () => {
  it("wraps success in {status, data, meta} with timestamp, request id and processing time", async () => {
    h = await apiHarness();
    const res = await h.call("POST", "/api/submit", { json: { idea: "Plan a weekend trip to the coast" } });
    expect(res.status).toBe(202);
    expect(res.json.status).toBe("success");
    expect(res.json.data.thread_id).toMatch(UUID);
    expect(res.json.meta).toEqual({
      timestamp: "2026-01-15T12:00:00.000Z",
      request_id: expect.stringMatching(/^req-/),
      processing_time_ms: expect.any(Number),
    });
    expect(res.headers.get("x-request-id")).toBe(res.json.meta.request_id);
  });

  it("echoes a sane X-Request-Id and replaces an unsafe one", async () => {
    h = await apiHarness();
    const mine = await h.call("GET", "/api/system/config", { headers: { "X-Request-Id": "abc-123" } });
    expect(mine.json.meta.request_id).toBe("abc-123");
    const bad = await h.call("GET", "/api/system/config", { headers: { "X-Request-Id": "<script>" } });
    expect(bad.json.meta.request_id).toMatch(/^req-/);
  });

  it("maps every error code to its HTTP status in one table", () => {
    expect(HTTP_STATUS).toEqual({
      INVALID_INPUT: 400,
      UNAUTHORIZED: 401,
      FORBIDDEN: 403,
      NOT_FOUND: 404,
      RATE_LIMITED: 429,
      QUEUE_FULL: 503,
      BUDGET_EXCEEDED: 402,
      BACKEND_UNAVAILABLE: 503,
      TALOS_UNAVAILABLE: 503,
      BACKEND_ERROR: 502,
      TIMEOUT: 504,
      CANCELLED: 409,
      STORAGE_FULL: 503,
      INTERNAL: 500,
    });
  });

  it("answers an unknown endpoint with a NOT_FOUND envelope", async () => {
    h = await apiHarness();
    const res = await h.call("GET", "/api/nope");
    expect(res.status).toBe(404);
    expect(res.json).toMatchObject({
      status: "error",
      error: { code: "NOT_FOUND", details: null, retry_after: null },
      meta: { request_id: expect.any(String) },
    });
  });

  it("never leaks an internal error's message, stack or secrets; logs it with the request id", async () => {
    h = await apiHarness({
      ideas: {
        submitIdea: async () => {
          throw new Error(`SQLITE_CORRUPT at /srv/hermes/data.db token=${TOKEN}`);
        },
      },
    });
    const res = await h.call("POST", "/api/submit", { json: { idea: "anything" } });
    expect(res.status).toBe(500);
    expect(res.json.error.code).toBe("INTERNAL");
    expect(res.text).not.toContain("SQLITE");
    expect(res.text).not.toContain("/srv/hermes");
    expect(res.text).not.toContain(TOKEN);
    const logged = h.logs.find((l) => l.msg === "API request failed");
    expect(logged?.obj).toMatchObject({ requestId: res.json.meta.request_id, path: "/api/submit" });
  });

  it("scrubs configured secrets from the messages of non-internal errors", async () => {
    h = await apiHarness({
      ideas: {
        submitIdea: async () => {
          throw new HermesError("BACKEND_ERROR", `upstream said: bad key ${TOKEN}`, { retryable: true });
        },
      },
    });
    const res = await h.call("POST", "/api/submit", { json: { idea: "anything" } });
    expect(res.status).toBe(502);
    expect(res.json.error.message).toBe("upstream said: bad key [REDACTED]");
  });

  it("sends Retry-After with QUEUE_FULL (503) and RATE_LIMITED (429)", async () => {
    h = await apiHarness();
    await h.config.set("hermes.web.max_queued_jobs", "1", "test", { force: true });
    await h.submit();
    const full = await h.call("POST", "/api/submit", { json: { idea: "second idea please" } });
    expect(full.status).toBe(503);
    expect(full.json.error.code).toBe("QUEUE_FULL");
    expect(full.headers.get("retry-after")).toBe("60");
    expect(full.json.error.retry_after).toBe(60);
  });
});

describe("authentication", () => {
  it("refuses a missing token with 401 and WWW-Authenticate", async () => {
    h = await apiHarness();
    const res = await h.call("GET", "/api/system/config", { token: null });
    expect(res.status).toBe(401);
    expect(res.json.error.code).toBe("UNAUTHORIZED");
    expect(res.headers.get("www-authenticate")).toContain("Bearer");
  });

  it("refuses a wrong token (same length or not) with 401", async () => {
    h = await apiHarness();
    for (const token of ["x".repeat(TOKEN.length), "short", `${TOKEN}x`]) {
      const res = await h.call("GET", "/api/system/config", { token });
      expect(res.status).toBe(401);
    }
    const basic = await h.call("GET", "/api/system/config", {
      token: null,
      headers: { Authorization: `Basic ${TOKEN}` },
    });
    expect(basic.status).toBe(401);
  });

  it("guards every /api route and /metrics, but not /health", async () => {
    h = await apiHarness();
    const routes: [string, string][] = [
      ["POST", "/api/submit"],
      ["GET", "/api/threads/12345678/status"],
      ["GET", "/api/threads/12345678/jobs/1/result"],
      ["GET", "/api/threads/12345678/jobs/1/result.md"],
      ["POST", "/api/threads/12345678/continue"],
      ["POST", "/api/threads/12345678/optimize"],
      ["POST", "/api/threads/12345678/cancel"],
      ["GET", "/api/learn/patterns"],
      ["POST", "/api/learn/feedback"],
      ["GET", "/api/system/health"],
      ["GET", "/api/system/config"],
      ["PUT", "/api/system/config"],
      ["POST", "/api/external/submit"],
      ["POST", "/api/external/callback/12345678"],
      ["GET", "/metrics"],
    ];
    for (const [method, path] of routes) {
      const res = await h.call(method, path, { token: null, ...(method === "GET" ? {} : { json: {} }) });
      expect(res.status, `${method} ${path}`).toBe(401);
    }
    expect((await h.call("GET", "/health", { token: null })).status).toBe(200);
  });

  it("without HERMES_ADMIN_TOKEN the API is off: 503 UNAUTHORIZED that says how to turn it on", async () => {
    h = await apiHarness({ adminToken: null });
    for (const path of ["/api/system/config", "/metrics"]) {
      const res = await h.call("GET", path, { token: "anything-at-all-here" });
      expect(res.status).toBe(503);
      expect(res.json.error.code).toBe("UNAUTHORIZED");
      expect(res.json.error.message).toContain("HERMES_ADMIN_TOKEN");
    }
    expect((await h.call("GET", "/health", { token: null })).status).toBe(200);
  });
});

describe("request bodies", () => {
  it("malformed JSON → 400 INVALID_INPUT", async () => {
    h = await apiHarness();
    const res = await h.call("POST", "/api/submit", { raw: '{"idea": "unterminated' });
    expect(res.status).toBe(400);
    expect(res.json.error).toMatchObject({ code: "INVALID_INPUT", details: "body" });
  });

  it("missing body → 400", async () => {
    h = await apiHarness();
    const res = await h.call("POST", "/api/submit");
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe("INVALID_INPUT");
  });

  it("wrong types → 400 naming the field", async () => {
    h = await apiHarness();
    const res = await h.call("POST", "/api/submit", { json: { idea: 42 } });
    expect(res.status).toBe(400);
    expect(res.json.error.message).toContain("idea");
    expect(res.json.error.details).toMatch(/^idea: /);
    const prio = await h.call("POST", "/api/submit", { json: { idea: "ok", priority: 11 } });
    expect(prio.status).toBe(400);
    expect(prio.json.error.details).toMatch(/^priority: /);
    const extra = await h.call("POST", "/api/submit", { json: { idea: "ok", idae: "typo" } });
    expect(extra.status).toBe(400);
    expect(extra.json.error.details).toContain("idae");
  });

  it("a body over the limit → 413 INVALID_INPUT, with or without Content-Length", async () => {
    h = await apiHarness();
    const big = JSON.stringify({ idea: "x".repeat(70 * 1024) });
    const res = await h.call("POST", "/api/submit", { raw: big });
    expect(res.status).toBe(413);
    expect(res.json.error).toMatchObject({ code: "INVALID_INPUT", details: "body" });
    // Streamed (no Content-Length): the reader stops at the limit.
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 80; i++) controller.enqueue(new TextEncoder().encode("x".repeat(1024)));
        controller.close();
      },
    });
    const streamed = await h.app.request("/api/submit", {
      method: "POST",
      headers: { Authorization: `Bearer ${TOKEN}` },
      body: stream,
      duplex: "half",
    } as RequestInit);
    expect(streamed.status).toBe(413);
    // A Content-Length that understates the body (possible in-process, never over a socket).
    const understated = await h.app.request("/api/submit", {
      method: "POST",
      headers: {
        Authorization: `Bearer ${TOKEN}`,
        "Content-Type": "application/json",
        "Content-Length": "10",
      },
      body: big,
    });
    expect(understated.status).toBe(413);
  });

  it("the limit follows hermes.api.max_body_kb", async () => {
    h = await apiHarness();
    await h.config.set("hermes.api.max_body_kb", "1", "test");
    const res = await h.call("POST", "/api/submit", { json: { idea: "y".repeat(2000) } });
    expect(res.status).toBe(413);
  });
});

describe("rate limiting", () => {
  it("limits each client per minute when hermes.debug.api_rate_limiting is on, with Retry-After", async () => {
    h = await apiHarness({ rateLimiting: true });
    await h.config.set("hermes.api.rate_limit_per_minute", "3", "test");
    for (let i = 0; i < 3; i++)
      expect((await h.call("GET", "/api/system/config", { remote: "10.0.0.1" })).status).toBe(200);
    const limited = await h.call("GET", "/api/system/config", { remote: "10.0.0.1" });
    expect(limited.status).toBe(429);
    expect(limited.json.error.code).toBe("RATE_LIMITED");
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    // The admin token is one principal wherever it comes from; failed logins have their own bucket.
    expect((await h.call("GET", "/api/system/config", { remote: "10.0.0.2" })).status).toBe(429);
    expect((await h.call("GET", "/api/system/config", { remote: "10.0.0.2", token: "bad" })).status).toBe(
      401,
    );
    // After the refill time the first client may go again.
    h.clock.advance(20_000);
    expect((await h.call("GET", "/api/system/config", { remote: "10.0.0.1" })).status).toBe(200);
  });

  it("does not limit when the setting is off", async () => {
    h = await apiHarness({ rateLimiting: false });
    await h.config.set("hermes.api.rate_limit_per_minute", "1", "test");
    for (let i = 0; i < 5; i++) expect((await h.call("GET", "/api/system/config")).status).toBe(200);
  });
});
