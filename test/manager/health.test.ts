import { afterEach, describe, expect, it, vi } from "vitest";
import { HermesError } from "../../src/errors.ts";
import { BackendsRepo } from "../../src/store/backends/repo.ts";
import type { HermesDatabase } from "../../src/store/database.ts";
import { memoryDb } from "../helpers/memory-db.ts";
import { config, errors, FakeBackend, flush, manager, messages, settings, signal } from "./helpers.ts";

const job = (jobId = 1) => ({ jobId, jobType: "research", messages });
/** Jobs that ask for "a" (a degraded backend is otherwise ranked after a healthy one). */
const forA = (jobId: number) => ({ ...job(jobId), preferBackend: "a" });

describe("circuit breaker", () => {
  it("closed → degraded → open after 3 failures; half-open after the cooldown; a good probe closes it", async () => {
    const onUnhealthy = vi.fn();
    const onRecovered = vi.fn();
    const { manager: m, clock } = manager({ onUnhealthy, onRecovered });
    const a = new FakeBackend("a").failWith(() => errors.http500("a"));
    const b = new FakeBackend("b");
    m.register(a, settings({ type: "local" }));
    m.register(b, settings({ type: "local" }));
    const stateOf = () => m.status().find((s) => s.name === "a");

    await m.execute(forA(1), signal());
    expect(stateOf()).toMatchObject({ health: "degraded", circuit: "closed" });
    await m.execute(forA(2), signal());
    await m.execute(forA(3), signal());
    expect(stateOf()).toMatchObject({ health: "unhealthy", circuit: "open", consecutiveFailures: 3 });
    expect(onUnhealthy).toHaveBeenCalledTimes(1);

    // Open: no work reaches it.
    expect((await m.execute(forA(4), signal())).backend).toBe("b");
    expect(a.calls).toHaveLength(3);
    expect(m.select({ jobType: "research", messages }).rejected[0]).toMatchObject({
      name: "a",
      reason: expect.stringMatching(/circuit open/),
    });
    expect(m.totalSlots()).toBe(1);

    // The cooldown (its health interval, 10 s) passes: half-open, one real call probes it.
    clock.advance(10_000);
    expect(stateOf()?.circuit).toBe("half_open");
    a.respond(() => undefined);
    const probe = await m.execute(forA(5), signal());
    expect(probe.backend).toBe("a");
    expect(stateOf()).toMatchObject({ health: "healthy", circuit: "closed", consecutiveFailures: 0 });
    expect(onRecovered).toHaveBeenCalledWith("a");
    expect(m.totalSlots()).toBe(2);
  });

  it("a failed half-open probe opens the circuit again for another cooldown; one probe at a time", async () => {
    const { manager: m, clock } = manager();
    const a = new FakeBackend("a").failWith(() => errors.timeout("a"));
    const b = new FakeBackend("b");
    m.register(a, settings({ type: "local", concurrency: 2 }));
    m.register(b, settings({ type: "local", concurrency: 2 }));
    for (let i = 0; i < 3; i++) await m.execute(forA(i), signal());
    clock.advance(10_000);
    let release!: () => void;
    a.once(() => new Promise((r) => (release = () => r(undefined))));
    const probe = m.execute(forA(10), signal());
    await flush();
    // While the probe runs, other jobs do not go to "a".
    expect((await m.execute(forA(11), signal())).backend).toBe("b");
    release();
    expect((await probe).backend).toBe("a");

    // Now fail a probe: open again, and closed only after the next cooldown.
    for (let i = 0; i < 3; i++) {
      a.once(() => {
        throw errors.timeout("a");
      });
      await m.execute(forA(20 + i), signal());
    }
    clock.advance(10_000);
    a.once(() => {
      throw errors.timeout("a");
    });
    await m.execute(forA(30), signal());
    expect(m.status().find((s) => s.name === "a")?.circuit).toBe("open");
    clock.advance(9_999);
    expect(m.status().find((s) => s.name === "a")?.circuit).toBe("open");
    clock.advance(1);
    expect(m.status().find((s) => s.name === "a")?.circuit).toBe("half_open");
  });
});

describe("health checks", () => {
  let db: HermesDatabase | undefined;
  afterEach(async () => {
    await db?.close();
    db = undefined;
  });

  it("run at each backend's own interval (backend.<name>.health_interval, else the default)", async () => {
    const { manager: m, clock } = manager({
      config: config({ "backend.slow.health_interval": 30, "hermes.talos.health_check_interval": 10 }),
    });
    const fast = new FakeBackend("fast");
    const slow = new FakeBackend("slow");
    m.register(fast, settings({ type: "local" }));
    m.register(slow, settings({ type: "local" }));
    m.startHealthChecks();
    await flush();
    for (let i = 0; i < 6; i++) {
      clock.advance(10_000);
      await flush();
    }
    expect(fast.healthChecks).toBe(7); // t = 0, 10 … 60 s
    expect(slow.healthChecks).toBe(3); // t = 0, 30, 60 s
    m.stop();
    clock.advance(60_000);
    await flush();
    expect(fast.healthChecks).toBe(7);
  });

  it("failed checks degrade then open the circuit; state and a system_health row per check are persisted", async () => {
    db = await memoryDb();
    const repo = new BackendsRepo(db.sqlite);
    repo.register(
      { name: "a", type: "local", enabled: true, primary: true, config: {}, local: true },
      "2026-01-01T00:00:00Z",
    );
    const iso = () => "2026-01-01T00:00:00.000Z";
    const onRecovered = vi.fn();
    const { manager: m, clock } = manager({
      stats: {
        recordHealth: (n, h) => repo.recordHealth(n, h, iso()),
        recordCall: (c) => repo.recordCall(c, iso()),
      },
      onRecovered,
    });
    const a = new FakeBackend("a");
    m.register(a, settings({ type: "local" }));
    a.setHealth(errors.refused("a"));
    m.startHealthChecks();
    await flush();
    const row = () =>
      db?.sqlite
        .prepare(
          "SELECT health_status, consecutive_failures, last_health_check FROM backends WHERE name = 'a'",
        )
        .get();
    expect(row()).toMatchObject({ health_status: "degraded", consecutive_failures: 1 });
    for (let i = 0; i < 2; i++) {
      clock.advance(10_000);
      await flush();
    }
    expect(row()).toMatchObject({ health_status: "unhealthy", consecutive_failures: 3 });
    expect(m.status()[0]?.circuit).toBe("open");

    a.setHealth("healthy");
    clock.advance(10_000);
    await flush();
    expect(row()).toMatchObject({ health_status: "healthy", consecutive_failures: 0 });
    expect(onRecovered).toHaveBeenCalledWith("a");
    const rows = db.sqlite
      .prepare("SELECT health_status FROM system_health WHERE component = 'backend:a' ORDER BY id")
      .pluck()
      .all();
    expect(rows).toEqual(["degraded", "degraded", "unhealthy", "healthy"]);
    m.stop();
  });

  it("every backend down: a retryable error (the queue waits); the first to recover is used and announced", async () => {
    const onRecovered = vi.fn();
    const { manager: m, clock } = manager({ onRecovered });
    const a = new FakeBackend("a", { kind: "ollama" }).failWith(() => errors.refused("a"));
    const t = new FakeBackend("t", { kind: "talos" }).failWith(() => errors.refused("t"));
    a.setHealth(errors.refused("a"));
    t.setHealth(errors.refused("t"));
    m.register(a, settings({ type: "local" }));
    m.register(t, settings({ type: "local" }));
    for (let i = 0; i < 3; i++) {
      const err = await m.execute(job(i), signal()).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(HermesError);
      expect(err).toMatchObject({ retryable: true, code: "BACKEND_UNAVAILABLE" });
    }
    expect(m.status().map((s) => s.circuit)).toEqual(["open", "open"]);
    // All circuits open: the retry probes health at once instead of waiting for the timer.
    const again = await m.execute(job(9), signal()).catch((e: unknown) => e as HermesError);
    expect(again).toMatchObject({ retryable: true });
    expect((again as HermesError).userAction).toMatch(/ollama serve.*Talos/s);
    expect(m.totalSlots()).toBe(1);

    t.setHealth("healthy");
    t.respond(() => undefined);
    await m.checkHealth();
    expect(onRecovered).toHaveBeenCalledWith("t");
    expect((await m.execute(job(10), signal())).backend).toBe("t");
    clock.advance(1);
  });
});
