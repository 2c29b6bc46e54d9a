import { createHmac } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { HermesError } from "../../src/errors.ts";
import { deriveCallbackSecret, sign, verifySignature } from "../../src/http/signature.ts";
import { CallbackDispatcher } from "../../src/outbox/external-callbacks.ts";
import { type ApiHarness, apiHarness, TOKEN } from "./api-harness.ts";

let h: ApiHarness | undefined;
let receiver: Receiver | undefined;
afterEach(async () => {
  await h?.close();
  await receiver?.close();
  h = undefined;
  receiver = undefined;
});

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}
interface Receiver {
  url: string;
  requests: Received[];
  close(): Promise<void>;
}

/** A loopback HTTP server that records each request and answers with the next scripted status. */
async function startReceiver(statuses: number[], fallback = 200): Promise<Receiver> {
  const requests: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      requests.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
      res.statusCode = statuses.shift() ?? fallback;
      res.end("ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const SECRET = deriveCallbackSecret(TOKEN);

async function submitExternal(h: ApiHarness, callbackUrl: string) {
  const res = await h.call("POST", "/api/external/submit", {
    json: {
      idea: "Summarise this week's meeting notes into action items",
      callback_url: callbackUrl,
      source_app: "notes-app",
    },
  });
  expect(res.status).toBe(202);
  return res.json.data as { thread_id: string; status_url: string; job_id: number };
}

describe("POST /api/external/submit", () => {
  it("creates an external thread and answers thread_id and an absolute status_url", async () => {
    h = await apiHarness();
    const d = await submitExternal(h, "https://example.com/hermes-hook?x=1");
    expect(d.status_url).toBe(`http://localhost/api/threads/${d.thread_id}/status`);
    const thread = await h.threadByRef(d.thread_id);
    expect(thread).toMatchObject({
      source: "external",
      user_id: "external:notes-app",
      callback_url: "https://example.com/hermes-hook?x=1",
    });
  });

  it("refuses non-http(s) callback URLs, URLs with credentials and bad source apps", async () => {
    h = await apiHarness();
    const cases: [Record<string, unknown>, string][] = [
      [{ callback_url: "ftp://example.com/x" }, "callback_url"],
      [{ callback_url: "javascript:alert(1)" }, "callback_url"],
      [{ callback_url: "file:///etc/passwd" }, "callback_url"],
      [{ callback_url: "http://user:pass@example.com/hook" }, "callback_url"],
      [{ callback_url: "https://token@example.com/hook" }, "callback_url"],
      [{ callback_url: "not a url" }, "callback_url"],
      [{ callback_url: 7 }, "callback_url"],
      [{ source_app: "bad app!" }, "source_app"],
      [{ source_app: undefined }, "source_app"],
    ];
    for (const [patch, field] of cases) {
      const json = { idea: "An idea", callback_url: "https://example.com/h", source_app: "app", ...patch };
      const res = await h.call("POST", "/api/external/submit", { json });
      expect(res.status, JSON.stringify(patch)).toBe(400);
      expect(res.json.error.details, JSON.stringify(patch)).toMatch(new RegExp(`^${field}: `));
    }
    expect(await h.database.db.selectFrom("idea_threads").selectAll().execute()).toEqual([]);
  });
});

describe("result callbacks", () => {
  it("POSTs the result, signed, to a loopback receiver; retries with backoff after failures", async () => {
    receiver = await startReceiver([500, 503, 200]);
    h = await apiHarness();
    h.dispatcher.start();
    const d = await submitExternal(h, receiver.url);
    await h.runJobs();
    await h.dispatcher.pump();
    expect(receiver.requests).toHaveLength(1);

    const first = receiver.requests[0]!;
    expect(first.headers["content-type"]).toBe("application/json");
    expect(first.headers["x-hermes-event"]).toBe("job.completed");
    const signature = first.headers["x-hermes-signature"] as string;
    expect(signature).toBe(`sha256=${createHmac("sha256", SECRET).update(first.body).digest("hex")}`);
    expect(verifySignature(first.body, signature, SECRET)).toBe(true);
    const payload = JSON.parse(first.body);
    expect(payload).toMatchObject({
      event: "job.completed",
      thread_id: d.thread_id,
      job_id: d.job_id,
      draft: 1,
      status: "completed",
      result: expect.stringContaining("useful first draft"),
      result_url: `/api/threads/${d.thread_id}/jobs/${d.job_id}/result`,
    });

    const row = () => h!.callbacksRepo.forThread(1)[0]!;
    expect(row()).toMatchObject({ status: "pending", attempts: 1, last_status: 500 });
    expect(Date.parse(row().next_attempt_at) - h.clock.now()).toBe(10_000);

    h.clock.advance(9_999);
    await h.dispatcher.pump();
    expect(receiver.requests).toHaveLength(1);
    h.clock.advance(1);
    await h.settle();
    await h.dispatcher.pump();
    expect(receiver.requests).toHaveLength(2);
    expect(row()).toMatchObject({ status: "pending", attempts: 2, last_status: 503 });
    expect(Date.parse(row().next_attempt_at) - h.clock.now()).toBe(20_000);

    h.clock.advance(20_000);
    await h.settle();
    await h.dispatcher.pump();
    expect(receiver.requests).toHaveLength(3);
    expect(row()).toMatchObject({ status: "delivered", attempts: 3, last_status: 200 });
    // Every attempt carries the same bytes and signature.
    expect(new Set(receiver.requests.map((r) => r.body)).size).toBe(1);
    expect(new Set(receiver.requests.map((r) => r.headers["x-hermes-signature"])).size).toBe(1);
    expect(h.logs.some((l) => l.msg === "callback delivered")).toBe(true);
  });

  it("gives up after hermes.api.callback_max_attempts with an error log", async () => {
    receiver = await startReceiver([], 500);
    h = await apiHarness();
    await h.config.set("hermes.api.callback_max_attempts", "3", "test");
    h.dispatcher.start();
    await submitExternal(h, receiver.url);
    await h.runJobs();
    await h.dispatcher.pump();
    for (const wait of [10_000, 20_000, 40_000]) {
      h.clock.advance(wait);
      await h.settle();
      await h.dispatcher.pump();
    }
    expect(receiver.requests).toHaveLength(3);
    expect(h.callbacksRepo.forThread(1)[0]).toMatchObject({
      status: "failed",
      attempts: 3,
      last_error: "HTTP 500",
    });
    const gaveUp = h.logs.find((l) => l.level === "error" && l.msg.startsWith("callback gave up"));
    expect(gaveUp?.obj).toMatchObject({ attempt: 3, status: 500 });
  });

  it("survives a restart: a new dispatcher delivers what the old one left pending", async () => {
    receiver = await startReceiver([500]);
    h = await apiHarness();
    h.dispatcher.start();
    await submitExternal(h, receiver.url);
    await h.runJobs();
    await h.dispatcher.pump();
    await h.dispatcher.stop();
    expect(h.callbacksRepo.forThread(1)[0]).toMatchObject({ status: "pending", attempts: 1 });

    const log = { info: () => {}, warn: () => {}, error: () => {} };
    const reborn = new CallbackDispatcher({
      repo: h.callbacksRepo,
      clock: h.clock,
      secret: () => SECRET,
      maxAttempts: () => 5,
      log,
    });
    reborn.start();
    h.clock.advance(10_000);
    await h.settle();
    await reborn.pump();
    await reborn.stop();
    expect(receiver.requests).toHaveLength(2);
    expect(h.callbacksRepo.forThread(1)[0]).toMatchObject({ status: "delivered", attempts: 2 });
  });

  it("announces a failed job as job.failed; threads without a callback_url send nothing", async () => {
    const sent: { url: string; body: string }[] = [];
    const fakeFetch = (async (url: string | URL | Request, init?: RequestInit) => {
      sent.push({ url: String(url), body: String(init?.body) });
      return new Response("ok", { status: 204 });
    }) as typeof fetch;
    h = await apiHarness({ fetch: fakeFetch });
    h.setBehaviour(async () => {
      throw new HermesError("INVALID_INPUT", "the model refused this prompt");
    });
    h.dispatcher.start();
    await h.submit("A plain API idea without callback");
    const d = await submitExternal(h, "https://example.com/cb");
    await h.runJobs();
    await h.dispatcher.pump();
    expect(sent).toHaveLength(1);
    expect(sent[0]?.url).toBe("https://example.com/cb");
    expect(JSON.parse(sent[0]!.body)).toMatchObject({
      event: "job.failed",
      thread_id: d.thread_id,
      status: "failed",
      error: { code: "INVALID_INPUT", message: "the model refused this prompt" },
      result: null,
    });
  });
});

describe("POST /api/external/callback/:thread_id", () => {
  it("stores a correctly signed result in the thread", async () => {
    h = await apiHarness();
    const d = await submitExternal(h, "https://example.com/cb");
    const body = JSON.stringify({
      results: "## Findings\n\nThe external tool found three options.",
      status: "completed",
      metadata: { tool: "scraper" },
    });
    const res = await h.call("POST", `/api/external/callback/${d.thread_id}`, {
      raw: body,
      headers: { "X-Hermes-Signature": sign(body, SECRET) },
    });
    expect(res.status).toBe(200);
    expect(res.json.data).toMatchObject({
      callback_received: true,
      processing_status: "stored",
      thread_id: d.thread_id,
    });
    const jobId = res.json.data.job_id as number;
    const status = await h.call("GET", `/api/threads/${d.thread_id}/status`);
    expect(status.json.data.completed_jobs).toEqual([
      expect.objectContaining({ job_id: jobId, kind: "external_result", backend: "external:notes-app" }),
    ]);
    const md = await h.call("GET", `/api/threads/${d.thread_id}/jobs/${jobId}/result.md`);
    expect(md.text).toContain("The external tool found three options.");
  });

  it("refuses a missing, malformed or wrongly keyed signature with 401 before reading the body", async () => {
    h = await apiHarness();
    const d = await submitExternal(h, "https://example.com/cb");
    const body = JSON.stringify({ results: "x" });
    const variants: (Record<string, string> | undefined)[] = [
      undefined,
      { "X-Hermes-Signature": "sha256=nothex" },
      { "X-Hermes-Signature": sign(body, "some-other-secret-entirely") },
      { "X-Hermes-Signature": sign(`${body} `, SECRET) },
      { "X-Hermes-Signature": sign(body, SECRET).replace("sha256=", "sha1=") },
    ];
    for (const headers of variants) {
      const res = await h.call("POST", `/api/external/callback/${d.thread_id}`, { raw: body, headers });
      expect(res.status, JSON.stringify(headers)).toBe(401);
      expect(res.json.error.code).toBe("UNAUTHORIZED");
    }
    const garbage = "{not json";
    const res = await h.call("POST", `/api/external/callback/${d.thread_id}`, {
      raw: garbage,
      headers: { "X-Hermes-Signature": sign(garbage, SECRET) },
    });
    expect(res.status).toBe(400);
  });

  it("uses hermes.api.callback_secret when set; unknown thread → 404; bad results → 400", async () => {
    h = await apiHarness();
    const d = await submitExternal(h, "https://example.com/cb");
    await h.config.set("hermes.api.callback_secret", "a-shared-secret-of-16+", "test");
    const body = JSON.stringify({ results: { options: [1, 2, 3] } });
    const old = await h.call("POST", `/api/external/callback/${d.thread_id}`, {
      raw: body,
      headers: { "X-Hermes-Signature": sign(body, SECRET) },
    });
    expect(old.status).toBe(401);
    const ok = await h.call("POST", `/api/external/callback/${d.thread_id}`, {
      raw: body,
      headers: { "X-Hermes-Signature": sign(body, "a-shared-secret-of-16+") },
    });
    expect(ok.status).toBe(200);
    const unknown = await h.call("POST", "/api/external/callback/deadbeef", {
      raw: body,
      headers: { "X-Hermes-Signature": sign(body, "a-shared-secret-of-16+") },
    });
    expect(unknown.status).toBe(404);
    const bad = JSON.stringify({ results: 5, status: "weird" });
    const invalid = await h.call("POST", `/api/external/callback/${d.thread_id}`, {
      raw: bad,
      headers: { "X-Hermes-Signature": sign(bad, "a-shared-secret-of-16+") },
    });
    expect(invalid.status).toBe(400);
  });
});
