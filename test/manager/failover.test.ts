import { describe, expect, it } from "vitest";
import type { RunProgress } from "../../src/backends/backend.ts";
import { HermesError } from "../../src/errors.ts";
import { config, errors, FakeBackend, manager, messages, settings, signal } from "./helpers.ts";

const job = (jobId = 1) => ({ jobId, jobType: "research", messages });

function pair(cfg: Record<string, string | number | boolean> = {}) {
  const { manager: m, clock } = manager({ config: config(cfg) });
  const a = new FakeBackend("a");
  const b = new FakeBackend("b");
  m.register(a, settings({ type: "local" }));
  m.register(b, settings({ type: "local" }));
  return { m, a, b, clock };
}

async function failure(p: Promise<unknown>): Promise<HermesError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(HermesError);
  return e as HermesError;
}

describe("failover", () => {
  it.each([
    ["HTTP 500", errors.http500],
    ["a timeout", errors.timeout],
    ["a refused connection", errors.refused],
  ])("on %s the same job moves to the next ranked backend", async (_, make) => {
    const { m, a, b } = pair();
    a.failWith(() => make("a"));
    const result = await m.execute(job(), signal());
    expect(result).toMatchObject({
      backend: "b",
      text: "b says hi",
      fallbackUsed: true,
      attempted: ["a", "b"],
    });
    expect([a.calls.length, b.calls.length]).toEqual([1, 1]);
    expect(m.status().find((s) => s.name === "a")).toMatchObject({
      health: "degraded",
      consecutiveFailures: 1,
    });
  });

  it("a stream cut mid-answer fails over too; progress restarts on the fallback", async () => {
    const { m, a } = pair();
    a.respond((_req, _signal, onProgress) => {
      onProgress?.({ tokens: 2, textSoFar: "Dear rea" });
      throw errors.streamCut("a");
    });
    const seen: RunProgress[] = [];
    const result = await m.execute(job(), signal(), (p) => seen.push(p));
    expect(result.backend).toBe("b");
    expect(result.fallbackUsed).toBe(true);
    expect(seen[0]?.textSoFar).toBe("Dear rea");
  });

  it("with auto_failover off, the error goes back to the queue (retryable) without trying others", async () => {
    const { m, a, b } = pair({ "hermes.backends.auto_failover": false });
    a.failWith(() => errors.http500("a"));
    const err = await failure(m.execute(job(), signal()));
    expect(err).toMatchObject({ code: "BACKEND_ERROR", retryable: true });
    expect(b.calls).toHaveLength(0);
  });

  it("a backend's own fallback_backends come before the ranking", async () => {
    const { manager: m } = manager();
    const a = new FakeBackend("a").failWith(() => errors.http500("a"));
    const b = new FakeBackend("b");
    const c = new FakeBackend("c");
    m.register(a, settings({ type: "local", fallbacks: ["c"] }));
    m.register(b, settings({ type: "local" }));
    m.register(c, settings({ type: "local" }));
    expect((await m.execute(job(), signal())).backend).toBe("c");
    expect(b.calls).toHaveLength(0);
  });

  it("the primary's failure goes to hermes.backends.fallback", async () => {
    const { manager: m } = manager({
      config: config({ "hermes.backends.primary": "a", "hermes.backends.fallback": "c" }),
    });
    const a = new FakeBackend("a").failWith(() => errors.timeout("a"));
    m.register(a, settings({ type: "local" }));
    m.register(new FakeBackend("b"), settings({ type: "local" }));
    m.register(new FakeBackend("c"), settings({ type: "local" }));
    expect((await m.execute(job(), signal())).backend).toBe("c");
  });

  it("a non-retryable error (HTTP 400) is not failed over and does not count against the backend", async () => {
    const { m, a, b } = pair();
    a.failWith(() => errors.http400("a"));
    const err = await failure(m.execute(job(), signal()));
    expect(err.retryable).toBe(false);
    expect(b.calls).toHaveLength(0);
    expect(m.status().find((s) => s.name === "a")?.consecutiveFailures).toBe(0);
  });

  it("when every backend fails, a retryable error goes back to the queue", async () => {
    const { m, a, b } = pair();
    a.failWith(() => errors.http500("a"));
    b.failWith(() => errors.timeout("b"));
    const err = await failure(m.execute(job(), signal()));
    expect(err.retryable).toBe(true);
    a.failWith(() => errors.refused("a"));
    b.failWith(() => errors.refused("b"));
    const none = await failure(m.execute(job(2), signal()));
    expect(none).toMatchObject({ code: "BACKEND_UNAVAILABLE", retryable: true });
    expect(none.message).toMatch(/Cannot reach a at in-process, b at in-process/);
  });

  it("429: fails over and keeps the rate-limited backend out until Retry-After passes", async () => {
    const { m, a, clock } = pair();
    await m.checkHealth();
    a.once(() => {
      throw errors.http429("a", 20);
    });
    expect((await m.execute(job(), signal())).backend).toBe("b");
    expect(m.select({ jobType: "research", messages }).rejected[0]?.reason).toMatch(/rate limited for 20 s/);
    clock.advance(20_000);
    expect((await m.execute(job(2), signal())).backend).toBe("a");
    expect(m.status().find((s) => s.name === "a")?.consecutiveFailures).toBe(0);
  });

  it("cancellation stops at once: no failover, CANCELLED", async () => {
    const { m, a, b } = pair();
    const ctl = new AbortController();
    a.respond(async () => {
      ctl.abort();
      throw new HermesError("CANCELLED", "cancelled");
    });
    const err = await failure(m.execute(job(), ctl.signal));
    expect(err.code).toBe("CANCELLED");
    expect(b.calls).toHaveLength(0);
  });
});
