import { afterEach, describe, expect, it } from "vitest";
import { ManualClock } from "../../src/clock.ts";
import { HealthRecorder } from "../../src/ops/metrics.ts";
import { collectSystemHealth, type SystemHealthSources } from "../../src/ops/system-health.ts";
import type { HermesDatabase } from "../../src/store/database.ts";
import { StorageFault } from "../../src/store/storage-fault.ts";
import { SystemHealthRepo } from "../../src/store/system/health-repo.ts";
import { fillHealthPage } from "../helpers/full-disk.ts";
import { memoryDb } from "../helpers/memory-db.ts";

let database: HermesDatabase | undefined;
afterEach(async () => {
  await database?.close();
  database = undefined;
});

const GB = 1024 ** 3;
const sources = (over: Partial<SystemHealthSources> = {}): SystemHealthSources => ({
  databaseUsable: () => true,
  bot: () => "running",
  backends: () => [{ name: "ollama", kind: "ollama", health: "healthy", location: "http://x" }],
  queue: () => ({ queued: 2, running: 1, completed: 10 }),
  queueLimit: () => 100,
  activeJobs: () => [
    { id: 4, thread_id: 2, job_subtype: "draft", status: "running", backend_used: null, started_date: "t" },
  ],
  databaseBytes: () => 5 * 1024 * 1024,
  databaseMaxMb: () => 1000,
  dataDir: "/data",
  startedAt: 0,
  now: () => 90_000,
  memory: () => ({ rss: 60e6, heapUsed: 20e6, heapTotal: 30e6, external: 1e6, arrayBuffers: 0 }),
  statfs: () => ({ bsize: 4096, blocks: (100 * GB) / 4096, bavail: (40 * GB) / 4096 }),
  totalMemory: () => 8 * GB,
  ...over,
});

describe("collectSystemHealth", () => {
  it("reports every component", () => {
    const r = collectSystemHealth(sources());
    expect(r.status).toBe("healthy");
    expect(r.uptime_s).toBe(90);
    expect(r.components.queue).toMatchObject({ depth: 3, limit: 100, status: "ok" });
    expect(r.components.disk).toMatchObject({ used_percent: 60, free_bytes: 40 * GB, status: "ok" });
    expect(r.components.memory).toMatchObject({ rss_bytes: 60e6, heap_used_bytes: 20e6 });
    expect(r.components.bot.status).toBe("running");
    expect(r.active_jobs).toEqual([
      { job_id: 4, thread_id: 2, kind: "draft", status: "running", backend: null, started_at: "t" },
    ]);
  });

  it("degrades on an oversized database, a full disk or no healthy backend", () => {
    const r = collectSystemHealth(
      sources({
        databaseMaxMb: () => 1,
        statfs: () => ({ bsize: 1, blocks: 100, bavail: 2 }),
        backends: () => [
          { name: "ollama", kind: "ollama", health: "unhealthy", location: "x", lastError: "refused" },
        ],
      }),
    );
    expect(r.status).toBe("degraded");
    expect(r.components.database).toMatchObject({ status: "over_size", over_limit: true });
    expect(r.components.disk.status).toBe("low_space");
    expect(r.components.backends[0]?.last_error).toBe("refused");
    expect(r.issues).toEqual([
      "database larger than hermes.db.max_size_mb (1 MB)",
      "no backend is healthy",
      "disk 98% full",
    ]);
  });

  it("is unhealthy, without touching the database, when it is unusable", () => {
    const r = collectSystemHealth(
      sources({
        databaseUsable: () => false,
        queue: () => {
          throw new Error("closed");
        },
      }),
    );
    expect(r.status).toBe("unhealthy");
    expect(r.components.queue).toMatchObject({ depth: null, status: "unknown" });
  });
});

describe("HealthRecorder", () => {
  it("writes a system_health row for 'hermes' every interval and prunes rows past retention", async () => {
    database = await memoryDb();
    const repo = new SystemHealthRepo(database.sqlite);
    const clock = new ManualClock(Date.UTC(2026, 1, 1));
    database.sqlite
      .prepare(
        "INSERT INTO system_health (component, health_status, measured_date) VALUES ('backend:x', 'healthy', ?)",
      )
      .run("2025-12-01T00:00:00.000Z");
    let status: "healthy" | "degraded" = "healthy";
    const recorder = new HealthRecorder({
      repo,
      clock,
      intervalMs: 60_000,
      retentionDays: () => 30,
      collect: () => {
        const r = collectSystemHealth(sources());
        return status === "healthy" ? r : { ...r, status, issues: ["no backend is healthy"] };
      },
    });
    recorder.start();
    clock.advance(60_000);
    status = "degraded";
    clock.advance(60_000);
    recorder.stop();
    clock.advance(600_000);
    const rows = database.sqlite.prepare("SELECT * FROM system_health ORDER BY id").all() as Record<
      string,
      unknown
    >[];
    expect(rows.map((r) => [r.component, r.health_status])).toEqual([
      ["hermes", "healthy"],
      ["hermes", "degraded"],
    ]);
    expect(rows[0]).toMatchObject({ disk_usage_percent: 60, last_healthy_date: "2026-02-01T00:01:00.000Z" });
    expect(rows[1]).toMatchObject({
      active_issues: JSON.stringify(["no backend is healthy"]),
      last_healthy_date: "2026-02-01T00:01:00.000Z",
      last_issue_date: "2026-02-01T00:02:00.000Z",
    });
    expect(repo.last("hermes")?.health_status).toBe("degraded");
  });

  it("on a full disk it reports the fault and keeps its timer; the next row that fits ends the fault", async () => {
    database = await memoryDb();
    const clock = new ManualClock(Date.UTC(2026, 1, 1));
    const storage = new StorageFault(() => clock.now());
    const recorder = new HealthRecorder({
      repo: new SystemHealthRepo(database.sqlite),
      clock,
      intervalMs: 60_000,
      retentionDays: () => 30,
      collect: () => collectSystemHealth(sources()),
      storage,
    });
    const disk = fillHealthPage(database.sqlite);
    recorder.start();
    clock.advance(60_000);
    expect(storage.failing().map((f) => f.writer)).toEqual(["health record"]);
    disk.free();
    clock.advance(60_000);
    recorder.stop();
    expect(storage.isFull()).toBe(false);
    expect(
      database.sqlite.prepare("SELECT count(*) FROM system_health WHERE component = 'hermes'").pluck().get(),
    ).toBe(1);
  });
});
