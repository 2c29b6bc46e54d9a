import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createHermes } from "../../src/app/hermes.ts";
import { ManualClock } from "../../src/clock.ts";
import { parseEnv } from "../../src/config/env.ts";
import { createLogger } from "../../src/log.ts";
import { pidFilePath } from "../../src/ops/pid-file.ts";

const TOKEN = "stack-admin-token-0123456789";
let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

/** What main.ts runs (createHermes), on a file database, served on a real loopback port. */
async function startStack() {
  const dir = mkdtempSync(join(tmpdir(), "hermes-stack-"));
  const clock = new ManualClock(Date.UTC(2026, 2, 1, 10, 0, 0));
  const hermes = await createHermes({
    env: parseEnv({
      HERMES_DB_PATH: join(dir, "hermes.db"),
      HERMES_HTTP_HOST: "127.0.0.1",
      HERMES_HTTP_PORT: "0",
      HERMES_ADMIN_TOKEN: TOKEN,
    }),
    clock,
    logger: createLogger({ level: "silent", secrets: [] }),
    telegram: false,
    healthIntervalMs: 1000,
    stopGraceMs: 0,
  });
  await hermes.start();
  const base = `http://127.0.0.1:${hermes.httpPort}`;
  cleanup = async () => {
    await hermes.stop();
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
  return { stack: hermes.ops, database: hermes.database, config: hermes.config, clock, call, dir };
}

describe("createHermes serving HTTP (what main.ts runs)", () => {
  it("serves the API over a real socket, writes the pid file, schedules backups and records health", async () => {
    const s = await startStack();
    const pid = JSON.parse(readFileSync(pidFilePath(s.database.path), "utf8")) as { pid: number };
    expect(pid.pid).toBe(process.pid);
    expect(s.stack.backups.nextRunAt()).not.toBeNull();

    // Read over a socket in one go (Content-Length), non-ASCII intact; every answer has its request id.
    const submit = await s.call("POST", "/api/submit", {
      idea: "Plan a small vegetable garden — für Tomaten 🍅",
    });
    expect(submit.status).toBe(202);
    expect(submit.headers.get("x-request-id")).toMatch(/^req-/);
    const id = (JSON.parse(submit.text) as { data: { thread_id: string } }).data.thread_id;
    const stored = s.database.sqlite.prepare("SELECT original_request FROM idea_threads WHERE uuid = ?");
    expect(stored.pluck().get(id)).toBe("Plan a small vegetable garden — für Tomaten 🍅");
    const metrics = await s.call("GET", "/metrics");
    expect(metrics.status).toBe(200);
    expect(metrics.text).toContain("hermes_queue_depth");
    expect(metrics.headers.get("x-request-id")).toMatch(/^req-/);

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
