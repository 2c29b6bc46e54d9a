import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ServerType, serve } from "@hono/node-server";
import { afterEach, describe, expect, it } from "vitest";
import { BackendManager } from "../../src/backends/manager/manager.ts";
import { ManualClock } from "../../src/clock.ts";
import { SystemConfig } from "../../src/config/system-config.ts";
import { ConversationFlow } from "../../src/engine/conversation/flow.ts";
import { Engine } from "../../src/engine/engine.ts";
import { PromptLibrary } from "../../src/engine/prompts.ts";
import { RateLimiter } from "../../src/engine/rate-limiter.ts";
import { createHttpStack, type HttpStack } from "../../src/http/stack.ts";
import { mulberry32 } from "../../src/learning/random.ts";
import { pidFilePath } from "../../src/ops/pid-file.ts";
import { QueueEvents } from "../../src/queue/events.ts";
import { JobQueue } from "../../src/queue/job-queue.ts";
import { Scheduler } from "../../src/queue/scheduler/scheduler.ts";
import { type HermesDatabase, openDatabase } from "../../src/store/database.ts";
import { JobsRepo } from "../../src/store/jobs/repo.ts";
import { ConfigAuditRepo } from "../../src/store/system/config-audit-repo.ts";
import { ConfigRepo } from "../../src/store/system/config-repo.ts";
import { ThreadsRepo } from "../../src/store/threads/repo.ts";

const TOKEN = "stack-admin-token-0123456789";
let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

/** The wiring main.ts does, on a file database, served on a real loopback port. */
async function startStack() {
  const dir = mkdtempSync(join(tmpdir(), "hermes-stack-"));
  const database: HermesDatabase = await openDatabase({ path: join(dir, "hermes.db") });
  const clock = new ManualClock(Date.UTC(2026, 2, 1, 10, 0, 0));
  const config = await SystemConfig.load(
    new ConfigRepo(database.db),
    new ConfigAuditRepo(database.sqlite),
    () => clock.now(),
  );
  const log = { info: () => {}, warn: () => {}, error: () => {} };
  const events = new QueueEvents();
  const jobs = new JobsRepo(database.sqlite);
  const scheduler = new Scheduler({
    repo: jobs,
    events,
    clock,
    owner: "test",
    capacity: () => 1,
    retrySettings: () => ({ baseDelayMs: 1000, maxDelayMs: 60_000, maxRetryDurationMs: 3_600_000 }),
    dispatch: async () => ({
      text: "done",
      summary: "done",
      backend: "fake",
      model: "m",
      costCents: 0,
      executionMs: 5,
    }),
  });
  const queue = new JobQueue({ repo: jobs, scheduler, events, clock, maxQueuedJobs: () => 100 });
  const backends = new BackendManager({ clock, healthIntervalMs: () => 60_000, localFirst: () => true });
  const threads = new ThreadsRepo(database.db);
  const prompts = new PromptLibrary();
  const flow = new ConversationFlow({
    db: database.db,
    queue,
    config,
    clock,
    random: mulberry32(1),
    prompts,
  });
  const engine = new Engine({
    threads,
    queue,
    queueEvents: events,
    backends,
    config,
    prompts,
    conversation: flow,
    insights: flow,
    clock,
    rateLimiter: new RateLimiter(
      () => 100,
      60_000,
      () => clock.now(),
    ),
    log,
  });
  const stack: HttpStack = createHttpStack({
    adminToken: TOKEN,
    database,
    config,
    clock,
    log,
    engine,
    threads,
    queue,
    jobs,
    backends,
    bot: () => "off",
    startedAt: clock.now(),
    conversation: flow,
    learning: flow,
    healthIntervalMs: 1000,
  });
  stack.start();
  scheduler.start();
  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: stack.app.fetch, hostname: "127.0.0.1", port: 0 }, () => resolve(s));
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  cleanup = async () => {
    await new Promise<void>((r) => server.close(() => r()));
    await stack.stop();
    await scheduler.stop(0);
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  };
  const call = async (method: string, path: string, json?: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { Authorization: `Bearer ${TOKEN}`, "Content-Type": "application/json" },
      body: json === undefined ? undefined : JSON.stringify(json),
    });
    return { status: res.status, headers: res.headers, text: await res.text() };
  };
  return { stack, database, config, clock, call, dir };
}

describe("createHttpStack (what main.ts wires)", () => {
  it("serves the API over a real socket, writes the pid file, schedules backups and records health", async () => {
    const s = await startStack();
    const pid = JSON.parse(readFileSync(pidFilePath(s.database.path), "utf8")) as { pid: number };
    expect(pid.pid).toBe(process.pid);
    expect(s.stack.backups.nextRunAt()).not.toBeNull();

    const submit = await s.call("POST", "/api/submit", { idea: "Plan a small vegetable garden" });
    expect(submit.status).toBe(202);
    const metrics = await s.call("GET", "/metrics");
    expect(metrics.status).toBe(200);
    expect(metrics.text).toContain("hermes_queue_depth");

    const put = await s.call("PUT", "/api/system/config", {
      key: "hermes.db.backup_schedule",
      value: "15 4 * * *",
    });
    expect(put.status).toBe(200);
    const next = s.stack.backups.nextRunAt();
    expect(next && [next.getHours(), next.getMinutes()]).toEqual([4, 15]);

    s.clock.advance(1000);
    const rows = s.database.sqlite
      .prepare("SELECT component FROM system_health WHERE component = 'hermes'")
      .all();
    expect(rows).toHaveLength(1);

    const backup = await s.stack.backups.runOnce();
    expect(existsSync(backup.backup.path)).toBe(true);
    const pidPath = pidFilePath(s.database.path);
    await cleanup?.();
    cleanup = undefined;
    expect(existsSync(pidPath)).toBe(false);
  });

  it("GET /api/learn/patterns applies category, min_confidence and limit with main.ts's wiring (the learning module wired)", async () => {
    const s = await startStack();
    const insert = s.database.sqlite.prepare(
      "INSERT INTO learned_patterns (pattern_name, pattern_category, trigger_conditions, confidence_level) VALUES (?, ?, '{}', ?)",
    );
    insert.run("tone", "conversation", 0.95);
    insert.run("sources", "conversation", 0.9);
    insert.run("weak", "conversation", 0.3);
    insert.run("retries", "execution", 0.99);
    const res = await s.call("GET", "/api/learn/patterns?category=conversation&min_confidence=0.5&limit=1");
    expect(res.status).toBe(200);
    const data = JSON.parse(res.text).data as { count: number; patterns: { name: string }[] };
    expect(data.patterns.map((p) => p.name)).toEqual(["tone"]);
    expect(data.count).toBe(1);
    const all = JSON.parse((await s.call("GET", "/api/learn/patterns?min_confidence=0.5")).text).data;
    expect(all.patterns.map((p: { name: string }) => p.name)).toEqual(["retries", "tone", "sources"]);
  });

  it("reschedules backups when the schedule changes through any transport, without a restart", async () => {
    const s = await startStack();
    // Not through the API: SystemConfig.set is what /config in Telegram and the CLI call.
    await s.config.set("hermes.db.backup_schedule", "45 5 * * *", "telegram:1001");
    const next = s.stack.backups.nextRunAt();
    expect(next && [next.getHours(), next.getMinutes()]).toEqual([5, 45]);
    await expect(s.config.set("hermes.db.backup_schedule", "99 99 * * *", "telegram:1001")).rejects.toThrow(
      /not a valid cron expression/,
    );
    expect(s.stack.backups.nextRunAt()?.getMinutes()).toBe(45);
  });

  it("rate-limits by the real remote address", async () => {
    const s = await startStack();
    await s.config.set("hermes.api.rate_limit_per_minute", "2", "test");
    expect((await s.call("GET", "/api/system/health")).status).toBe(200);
    expect((await s.call("GET", "/api/system/health")).status).toBe(200);
    const limited = await s.call("GET", "/api/system/health");
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("30");
    expect(limited.headers.get("x-request-id")).toMatch(/^req-/);
  });
});
