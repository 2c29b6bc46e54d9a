import { createHmac } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { HermesError } from "../../src/errors.ts";
import { sign, verifySignature } from "../../src/http/signature.ts";
import { CallbackDispatcher } from "../../src/outbox/external-callbacks.ts";
import { CallbackReplayRepo } from "../../src/store/system/callback-replay-repo.ts";
import { type ApiHarness, apiHarness, CALLBACK_SECRET, TOKEN } from "./api-harness.ts";

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

const SECRET = CALLBACK_SECRET;

/** The headers of a callback signed now (or at `atMs`) with `secret`. */
function signed(h: ApiHarness, body: string, secret = SECRET, atMs = h.clock.now()) {
  const timestamp = String(Math.floor(atMs / 1000));
  return { "X-Hermes-Timestamp": timestamp, "X-Hermes-Signature": sign(body, secret, timestamp) };
}

/** Lets the harness' loopback receiver through the callback target check. */
async function allowLoopback(h: ApiHarness) {
  await h.config.set("hermes.api.callback_allowed_hosts", "127.0.0.1", "test");
}

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
    await allowLoopback(h);
    h.dispatcher.start();
    const d = await submitExternal(h, receiver.url);
    await h.runJobs();
    await h.dispatcher.pump();
    expect(receiver.requests).toHaveLength(1);

    const first = receiver.requests[0]!;
    expect(first.headers["content-type"]).toBe("application/json");
    expect(first.headers["x-hermes-event"]).toBe("job.completed");
    const signature = first.headers["x-hermes-signature"] as string;
    const timestamp = first.headers["x-hermes-timestamp"] as string;
    expect(timestamp).toBe(String(h.clock.now() / 1000));
    expect(signature).toBe(
      `sha256=${createHmac("sha256", SECRET).update(`${timestamp}.${first.body}`).digest("hex")}`,
    );
    expect(verifySignature(first.body, signature, SECRET, timestamp)).toBe(true);
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
    // Every attempt carries the same bytes, signed with its own timestamp.
    expect(new Set(receiver.requests.map((r) => r.body)).size).toBe(1);
    for (const r of receiver.requests) {
      const ts = r.headers["x-hermes-timestamp"] as string;
      expect(verifySignature(r.body, r.headers["x-hermes-signature"] as string, SECRET, ts)).toBe(true);
    }
    expect(new Set(receiver.requests.map((r) => r.headers["x-hermes-timestamp"])).size).toBe(3);
    expect(h.logs.some((l) => l.msg === "callback delivered")).toBe(true);
  });

  it("gives up after hermes.api.callback_max_attempts with an error log", async () => {
    receiver = await startReceiver([], 500);
    h = await apiHarness();
    await allowLoopback(h);
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
    await allowLoopback(h);
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
    // The callback's own credential is the signature: no admin token is sent.
    const res = await h.call("POST", `/api/external/callback/${d.thread_id}`, {
      raw: body,
      token: null,
      headers: signed(h, body),
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
    const ts = signed(h, body)["X-Hermes-Timestamp"];
    const variants: (Record<string, string> | undefined)[] = [
      undefined,
      { "X-Hermes-Timestamp": ts, "X-Hermes-Signature": "sha256=nothex" },
      signed(h, body, "some-other-secret-entirely"),
      { "X-Hermes-Timestamp": ts, "X-Hermes-Signature": sign(`${body} `, SECRET, ts) },
      { "X-Hermes-Timestamp": ts, "X-Hermes-Signature": sign(body, SECRET, ts).replace("sha256=", "sha1=") },
      // The old scheme (body only, no timestamp) is refused.
      { "X-Hermes-Signature": `sha256=${createHmac("sha256", SECRET).update(body).digest("hex")}` },
      // The admin token is no substitute for the callback secret.
      signed(h, body, TOKEN),
    ];
    for (const headers of variants) {
      const res = await h.call("POST", `/api/external/callback/${d.thread_id}`, { raw: body, headers });
      expect(res.status, JSON.stringify(headers)).toBe(401);
      expect(res.json.error.code).toBe("UNAUTHORIZED");
    }
    const garbage = "{not json";
    const res = await h.call("POST", `/api/external/callback/${d.thread_id}`, {
      raw: garbage,
      headers: signed(h, garbage),
    });
    expect(res.status).toBe(400);
  });

  it("uses the current hermes.api.callback_secret; unknown thread → 404; bad results → 400", async () => {
    h = await apiHarness();
    const d = await submitExternal(h, "https://example.com/cb");
    await h.config.set("hermes.api.callback_secret", "a-shared-secret-of-16+", "test");
    const body = JSON.stringify({ results: { options: [1, 2, 3] } });
    const old = await h.call("POST", `/api/external/callback/${d.thread_id}`, {
      raw: body,
      headers: signed(h, body),
    });
    expect(old.status).toBe(401);
    const unknown = await h.call("POST", "/api/external/callback/deadbeef", {
      raw: body,
      headers: signed(h, body, "a-shared-secret-of-16+"),
    });
    expect(unknown.status).toBe(404);
    const bad = JSON.stringify({ results: 5, status: "weird" });
    const invalid = await h.call("POST", `/api/external/callback/${d.thread_id}`, {
      raw: bad,
      headers: signed(h, bad, "a-shared-secret-of-16+"),
    });
    expect(invalid.status).toBe(400);
    // The 404 above used this very signature: a second use is a replay, so sign a second later.
    h.clock.advance(1000);
    const ok = await h.call("POST", `/api/external/callback/${d.thread_id}`, {
      raw: body,
      headers: signed(h, body, "a-shared-secret-of-16+"),
    });
    expect(ok.status).toBe(200);
  });

  it("answers 503 on both endpoints while no callback secret is set, admin token or not", async () => {
    h = await apiHarness({ callbackSecret: null });
    const submit = await h.call("POST", "/api/external/submit", {
      json: { idea: "An idea", callback_url: "https://example.com/h", source_app: "app" },
    });
    expect(submit.status).toBe(503);
    const body = JSON.stringify({ results: "x" });
    const cb = await h.call("POST", "/api/external/callback/deadbeef", {
      raw: body,
      headers: signed(h, body),
    });
    expect(cb.status).toBe(503);
  });
});

describe("external callbacks: attacks", () => {
  it("refuses a replayed signed callback (same body, signature and timestamp)", async () => {
    h = await apiHarness();
    const d = await submitExternal(h, "https://example.com/cb");
    const body = JSON.stringify({ results: "first and only result" });
    const headers = signed(h, body);
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await h.call("POST", `/api/external/callback/${d.thread_id}`, { raw: body, headers });
      statuses.push(res.status);
    }
    expect(statuses).toEqual([200, 401, 401]);
    const jobs = await h.threadService.jobs((await h.threadByRef(d.thread_id))!);
    expect(jobs.filter((j) => j.job_subtype === "external_result")).toHaveLength(1);
  });

  it("refuses timestamps more than 5 minutes off, either way", async () => {
    h = await apiHarness();
    const d = await submitExternal(h, "https://example.com/cb");
    const body = JSON.stringify({ results: "late" });
    for (const offset of [-301_000, 301_000]) {
      const res = await h.call("POST", `/api/external/callback/${d.thread_id}`, {
        raw: body,
        headers: signed(h, body, SECRET, h.clock.now() + offset),
      });
      expect(res.status, String(offset)).toBe(401);
      expect(res.json.error.message).toMatch(/minutes off/);
    }
    const inTime = await h.call("POST", `/api/external/callback/${d.thread_id}`, {
      raw: body,
      headers: signed(h, body, SECRET, h.clock.now() - 299_000),
    });
    expect(inTime.status).toBe(200);
  });

  it("writes only into an external thread that still waits for a result", async () => {
    h = await apiHarness();
    const own = await h.submit("The owner's private idea about the garden");
    const body = JSON.stringify({ results: "injected text" });
    const injected = await h.call("POST", `/api/external/callback/${own.thread_id}`, {
      raw: body,
      headers: signed(h, body),
    });
    expect(injected.status).toBe(404);
    const ownJobs = await h.threadService.jobs((await h.threadByRef(own.thread_id))!);
    expect(ownJobs.some((j) => j.job_subtype === "external_result")).toBe(false);

    const d = await submitExternal(h, "https://example.com/cb");
    const result = JSON.stringify({ results: "the external tool's result" });
    const first = await h.call("POST", `/api/external/callback/${d.thread_id}`, {
      raw: result,
      headers: signed(h, result),
    });
    expect(first.status).toBe(200);
    const second = JSON.stringify({ results: "a second, different result" });
    const again = await h.call("POST", `/api/external/callback/${d.thread_id}`, {
      raw: second,
      headers: signed(h, second),
    });
    expect(again.status).toBe(409);
  });

  it("remembers seen signatures in the database (a restart does not reopen them)", async () => {
    h = await apiHarness();
    const repo = new CallbackReplayRepo(h.database.sqlite);
    const now = h.clock.now();
    expect(repo.claim("sha256=abc", now + 60_000, now)).toBe(true);
    expect(new CallbackReplayRepo(h.database.sqlite).claim("SHA256=ABC", now + 60_000, now)).toBe(false);
    // Expired rows go: after its expiry the same value could be claimed (its timestamp is refused anyway).
    expect(repo.claim("sha256=abc", now + 200_000, now + 61_000)).toBe(true);
  });

  it("answers 400, not 500, to a 12,000-deep JSON array in a signed callback", async () => {
    h = await apiHarness();
    const d = await submitExternal(h, "https://example.com/cb");
    const body = `{"results":${"[".repeat(12_000)}${"]".repeat(12_000)}}`;
    const res = await h.call("POST", `/api/external/callback/${d.thread_id}`, {
      raw: body,
      headers: signed(h, body),
    });
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe("INVALID_INPUT");
    expect(res.json.error.message).toMatch(/nests deeper than 64 levels/);
  });
});

describe("callback_url SSRF", () => {
  const INTERNAL: Record<string, string[]> = {
    localhost: ["127.0.0.1", "::1"],
    "internal.corp": ["10.1.2.3"],
    "mixed.example": ["93.184.215.14", "127.0.0.1"],
    "rebinding.example": ["93.184.215.14"],
    "example.com": ["93.184.215.14"],
  };
  const lookup = async (host: string) => {
    const found = INTERNAL[host];
    if (!found) throw new Error(`ENOTFOUND ${host}`);
    return found.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
  };

  it("refuses loopback, private and link-local targets in every spelling at submit time", async () => {
    h = await apiHarness({ lookup });
    const urls = [
      "http://127.0.0.1:5000/api/system/config",
      "http://localhost:5000/health",
      "http://2130706433/",
      "http://0x7f.0.0.1/",
      "http://0177.0.0.1/",
      "http://127.1/",
      "http://0.0.0.0:5000/",
      "http://[::1]:5000/",
      "http://[::ffff:127.0.0.1]/",
      "http://[::ffff:7f00:1]/",
      "http://[fc00::1]/",
      "http://[fd12:3456::1]/",
      "http://[fe80::1]/",
      "http://169.254.169.254/latest/meta-data/",
      "http://10.0.0.1/",
      "http://172.16.5.4/",
      "http://192.168.1.1/",
      "http://100.64.0.7:8001/",
      "http://internal.corp/hook",
      "http://mixed.example/hook",
      "http://unresolvable.invalid/hook",
    ];
    for (const callback_url of urls) {
      const res = await h.call("POST", "/api/external/submit", {
        json: { idea: "An idea", callback_url, source_app: "app" },
      });
      expect(res.status, callback_url).toBe(400);
      expect(res.json.error.details, callback_url).toBe("callback_url");
    }
    expect(await h.database.db.selectFrom("idea_threads").selectAll().execute()).toEqual([]);
  });

  it("lets named hosts through when hermes.api.callback_allowed_hosts lists them", async () => {
    h = await apiHarness({ lookup });
    await h.config.set("hermes.api.callback_allowed_hosts", "internal.corp, 127.0.0.1", "test");
    await submitExternal(h, "http://internal.corp/hook");
    await submitExternal(h, "http://127.0.0.1:8080/hook");
    const other = await h.call("POST", "/api/external/submit", {
      json: { idea: "An idea", callback_url: "http://10.0.0.1/", source_app: "app" },
    });
    expect(other.status).toBe(400);
  });

  it("checks again at delivery: a name re-pointed inside since submit is not called", async () => {
    const sent: string[] = [];
    const fakeFetch = (async (url: string | URL | Request) => {
      sent.push(String(url));
      return new Response("ok", { status: 200 });
    }) as typeof fetch;
    h = await apiHarness({ lookup, fetch: fakeFetch });
    h.dispatcher.start();
    await submitExternal(h, "http://rebinding.example/hook");
    INTERNAL["rebinding.example"] = ["127.0.0.1"];
    try {
      await h.runJobs();
      await h.dispatcher.pump();
    } finally {
      INTERNAL["rebinding.example"] = ["93.184.215.14"];
    }
    expect(sent).toEqual([]);
    expect(h.callbacksRepo.forThread(1)[0]).toMatchObject({ status: "failed", attempts: 1 });
    expect(h.callbacksRepo.forThread(1)[0]?.last_error).toMatch(/loopback, private or link-local/);
  });

  it("pins the checked address: the delivery connects to the address the policy resolved, with no second lookup", async () => {
    receiver = await startReceiver([200]);
    const port = new URL(receiver.url).port;
    const looked: string[] = [];
    // hooks.local exists only in the policy's resolver: a connection can reach it only through it.
    const policyLookup = async (host: string) => {
      looked.push(host);
      return [{ address: "127.0.0.1", family: 4 }];
    };
    h = await apiHarness({ lookup: policyLookup });
    await h.config.set("hermes.api.callback_allowed_hosts", "hooks.local", "test");
    h.dispatcher.start();
    await submitExternal(h, `http://hooks.local:${port}/hook`);
    looked.length = 0;
    await h.runJobs();
    await h.dispatcher.pump();
    expect(receiver.requests).toHaveLength(1);
    expect(looked).toEqual(["hooks.local"]); // the one lookup is the socket's own: nothing to re-point
  });
});

describe("callbacks without a signing key", () => {
  it("wait without spending attempts, and go as soon as a key is set", async () => {
    receiver = await startReceiver([200]);
    h = await apiHarness();
    await allowLoopback(h);
    h.dispatcher.start();
    await submitExternal(h, receiver.url);
    await h.config.set("hermes.api.callback_secret", "", "test");
    await h.runJobs();
    await h.dispatcher.pump();
    expect(receiver.requests).toHaveLength(0);
    expect(h.callbacksRepo.forThread(1)[0]).toMatchObject({ status: "pending", attempts: 0 });
    await h.config.set("hermes.api.callback_secret", SECRET, "test");
    await h.dispatcher.pump();
    expect(receiver.requests).toHaveLength(1);
    expect(h.callbacksRepo.forThread(1)[0]).toMatchObject({ status: "delivered", attempts: 1 });
  });
});
