import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  rmSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runBackup } from "../../src/cli/backup.ts";
import { runRestore } from "../../src/cli/restore.ts";
import { BackupScheduler, backupDirFor, listBackups, pruneBackups } from "../../src/ops/backup.ts";
import { pidFilePath, removePidFile, runningHermes, writePidFile } from "../../src/ops/pid-file.ts";
import { verifyHermesDatabase } from "../../src/ops/restore.ts";
import { type HermesDatabase, openDatabase } from "../../src/store/database.ts";
import { JobsRepo } from "../../src/store/jobs/repo.ts";
import { ConfigAuditRepo } from "../../src/store/system/config-audit-repo.ts";
import { ExternalCallbacksRepo } from "../../src/store/system/external-callbacks-repo.ts";

let dir: string;
let dbPath: string;
let open: HermesDatabase[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "hermes-backup-"));
  dbPath = join(dir, "data", "hermes.db");
});
afterEach(async () => {
  for (const h of open) await h.close();
  open = [];
  removePidFile(dbPath);
  rmSync(dir, { recursive: true, force: true });
});

async function db(): Promise<HermesDatabase> {
  const h = await openDatabase({ path: dbPath });
  open.push(h);
  return h;
}

async function closeAll(): Promise<void> {
  for (const h of open) await h.close();
  open = [];
}

const quietLog = () => {
  const lines: { level: string; msg: string; obj: object }[] = [];
  return {
    lines,
    info: (obj: object, msg: string) => lines.push({ level: "info", msg, obj }),
    warn: (obj: object, msg: string) => lines.push({ level: "warn", msg, obj }),
    error: (obj: object, msg: string) => lines.push({ level: "error", msg, obj }),
  };
};

const io = () => {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) } };
};

/** Every row of every table, in rowid order: what "every row intact" is checked against. */
function dump(sqlite: BetterSqlite3.Database): Record<string, unknown[]> {
  const tables = sqlite
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
    .pluck()
    .all() as string[];
  return Object.fromEntries(
    tables.map((t) => [t, sqlite.prepare(`SELECT * FROM "${t}" ORDER BY rowid`).all()]),
  );
}

/** A database with rows in the main tables, including unicode and a long text. */
async function populate(h: HermesDatabase, n = 5): Promise<void> {
  const jobs = new JobsRepo(h.sqlite);
  const t0 = Date.UTC(2026, 0, 10);
  for (let i = 1; i <= n; i++) {
    const threadId = Number(
      h.sqlite
        .prepare(
          "INSERT INTO idea_threads (uuid, title, original_request, user_id, source) VALUES (?, ?, ?, 'u1', 'api') RETURNING id",
        )
        .pluck()
        .get(
          `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
          `Idée ${i} — ☕`,
          `request ${i} ${"x".repeat(i * 500)}`,
        ),
    );
    const job = jobs.enqueue({ threadId, jobType: "creation", jobSubtype: "draft", priority: 5 }, t0 + i);
    const claimed = jobs.claimNext(t0 + i, "test", 60_000);
    if (claimed && i % 2 === 1)
      jobs.complete(
        claimed.id,
        claimed.attempt,
        {
          fullResult: `# Draft ${i}\n\n${"Lorem ipsum ".repeat(200)}`,
          resultSummary: `Draft ${i}`,
          backendUsed: "ollama",
          modelUsed: "llama3.1:8b",
          costCents: i,
          executionSeconds: 2,
          processingSeconds: 2,
          queueSeconds: 0,
        },
        t0 + i + 1,
      );
    expect(job.id).toBeGreaterThan(0);
    h.sqlite
      .prepare(
        "INSERT INTO conversations (thread_id, question_asked, question_type, user_response) VALUES (?, ?, 'scope', ?)",
      )
      .run(threadId, `Question ${i}?`, i % 2 ? `Answer ${i}` : null);
  }
  new ConfigAuditRepo(h.sqlite).record({
    key: "hermes.web.max_queued_jobs",
    oldValue: "100",
    newValue: "200",
    changedBy: "api:test",
    changedAt: "2026-01-10T00:00:00.000Z",
    requiresRestart: false,
  });
  new ExternalCallbacksRepo(h.sqlite).add({
    threadId: 1,
    jobId: 1,
    event: "job.completed",
    url: "https://example.com/cb",
    body: "{}",
    nowIso: "2026-01-10T00:00:00.000Z",
  });
  h.sqlite
    .prepare("UPDATE system_config SET config_value = '250' WHERE config_key = 'hermes.web.max_queued_jobs'")
    .run();
}

describe("backup → delete database → restore", () => {
  it("brings back every row of every table", async () => {
    const h = await db();
    await populate(h);
    const before = dump(h.sqlite);
    const log = quietLog();
    const scheduler = new BackupScheduler({
      sqlite: h.sqlite,
      dbPath,
      schedule: () => "0 2 * * *",
      keep: () => 7,
      maxSizeMb: () => 1000,
      now: () => Date.UTC(2026, 0, 10, 2, 0, 0),
      log,
    });
    const outcome = await scheduler.runOnce();
    expect(outcome.backup.path).toBe(join(dir, "data", "backups", "hermes-20260110-020000.db"));
    expect(outcome.size.over).toBe(false);
    // Writes after the backup are not in it.
    h.sqlite.prepare("DELETE FROM conversations").run();
    await closeAll();

    for (const suffix of ["", "-wal", "-shm"]) rmSync(`${dbPath}${suffix}`, { force: true });
    expect(existsSync(dbPath)).toBe(false);

    const r = io();
    expect(runRestore([outcome.backup.path], { HERMES_DB_PATH: dbPath }, r.io)).toBe(0);
    expect(r.out.join("\n")).toContain("5 threads");

    const restored = await db();
    expect(dump(restored.sqlite)).toEqual(before);
    expect(verifyHermesDatabase(dbPath).ok).toBe(true);
  });

  it("keeps the replaced database as <db>.bak", async () => {
    const h = await db();
    await populate(h, 2);
    const scheduler = new BackupScheduler({
      sqlite: h.sqlite,
      dbPath,
      schedule: () => "0 2 * * *",
      keep: () => 7,
      maxSizeMb: () => 1000,
      now: () => Date.UTC(2026, 0, 10),
      log: quietLog(),
    });
    const { backup } = await scheduler.runOnce();
    h.sqlite
      .prepare("INSERT INTO idea_threads (uuid, title, original_request) VALUES ('late', 'late', 'late')")
      .run();
    await closeAll();
    const r = io();
    expect(runRestore([backup.path], { HERMES_DB_PATH: dbPath }, r.io)).toBe(0);
    expect(r.out.join("\n")).toContain(`${dbPath}.bak`);
    const bak = new BetterSqlite3(`${dbPath}.bak`, { readonly: true });
    expect(bak.prepare("SELECT count(*) FROM idea_threads WHERE uuid = 'late'").pluck().get()).toBe(1);
    bak.close();
    const now = new BetterSqlite3(dbPath, { readonly: true });
    expect(now.prepare("SELECT count(*) FROM idea_threads WHERE uuid = 'late'").pluck().get()).toBe(0);
    now.close();
  });
});

describe("npm run backup (src/cli/backup.ts)", () => {
  it("backs up a database that a running Hermes holds open, and keeps the newest N", async () => {
    const h = await db();
    await populate(h, 3);
    const backups = backupDirFor(dbPath);
    mkdirSync(backups, { recursive: true });
    for (let d = 1; d <= 9; d++)
      writeFileSync(join(backups, `hermes-202601${String(d).padStart(2, "0")}-020000.db`), "old");
    writeFileSync(join(backups, "notes.txt"), "not a backup");
    const r = io();
    const code = await runBackup(["--keep", "3"], { HERMES_DB_PATH: dbPath }, r.io, () =>
      Date.UTC(2026, 0, 20, 8, 30, 0),
    );
    expect(code).toBe(0);
    expect(r.out[0]).toContain("hermes-20260120-083000.db");
    expect(readdirSync(backups).sort()).toEqual([
      "hermes-20260108-020000.db",
      "hermes-20260109-020000.db",
      "hermes-20260120-083000.db",
      "notes.txt",
    ]);
    const check = verifyHermesDatabase(join(backups, "hermes-20260120-083000.db"));
    expect(check).toMatchObject({ ok: true, threads: 3, jobs: 3 });
  });

  it("uses hermes.db.backup_retention_count by default and fails clearly without a database", async () => {
    const r = io();
    expect(await runBackup([], { HERMES_DB_PATH: join(dir, "missing.db") }, r.io)).toBe(1);
    expect(r.err[0]).toContain("Cannot open");
    const h = await db();
    h.sqlite
      .prepare(
        "UPDATE system_config SET config_value = '2' WHERE config_key = 'hermes.db.backup_retention_count'",
      )
      .run();
    for (let i = 0; i < 4; i++) {
      const ok = io();
      expect(
        await runBackup([], { HERMES_DB_PATH: dbPath }, ok.io, () => Date.UTC(2026, 1, 1, 0, 0, i)),
      ).toBe(0);
    }
    expect(listBackups(backupDirFor(dbPath)).map((b) => b.name)).toEqual([
      "hermes-20260201-000003.db",
      "hermes-20260201-000002.db",
    ]);
  });
});

describe("npm run restore refuses", () => {
  it("a file that is not a Hermes database, or a corrupted one", async () => {
    const h = await db();
    await populate(h, 3);
    const text = join(dir, "notes.db");
    writeFileSync(text, "hello, I am not SQLite at all".repeat(100));
    const other = join(dir, "other.db");
    const o = new BetterSqlite3(other);
    o.exec("CREATE TABLE t (x)");
    o.close();
    const { backup } = await new BackupScheduler({
      sqlite: h.sqlite,
      dbPath,
      schedule: () => "0 2 * * *",
      keep: () => 7,
      maxSizeMb: () => 1000,
      now: () => Date.UTC(2026, 0, 10),
      log: quietLog(),
    }).runOnce();
    const corrupt = join(dir, "corrupt.db");
    copyFileSync(backup.path, corrupt);
    const fd = openSync(corrupt, "r+");
    writeSync(fd, Buffer.alloc(4096, 0xab), 0, 4096, 4096 * 3);
    closeSync(fd);

    for (const [file, expected] of [
      [text, /not a database|cannot read/i],
      [other, /not a Hermes database/],
      [corrupt, /integrity|malformed|cannot read/i],
      [join(dir, "nope.db"), /does not exist/],
    ] as const) {
      const r = io();
      expect(runRestore([file], { HERMES_DB_PATH: dbPath }, r.io), file).toBe(1);
      expect(r.err.join("\n")).toMatch(expected);
    }
    const usage = io();
    expect(runRestore([], { HERMES_DB_PATH: dbPath }, usage.io)).toBe(1);
    expect(usage.err[0]).toContain("Usage");
  });

  it("while Hermes runs on the database (live pid file), unless --force", async () => {
    const h = await db();
    await populate(h, 1);
    const { backup } = await new BackupScheduler({
      sqlite: h.sqlite,
      dbPath,
      schedule: () => "0 2 * * *",
      keep: () => 7,
      maxSizeMb: () => 1000,
      now: () => Date.UTC(2026, 0, 10),
      log: quietLog(),
    }).runOnce();
    writePidFile(dbPath);
    expect(runningHermes(dbPath)?.pid).toBe(process.pid);
    const r = io();
    expect(runRestore([backup.path], { HERMES_DB_PATH: dbPath }, r.io)).toBe(2);
    expect(r.err[0]).toContain("Hermes is running");
    await closeAll();
    const forced = io();
    expect(runRestore([backup.path, "--force"], { HERMES_DB_PATH: dbPath }, forced.io)).toBe(0);
    removePidFile(dbPath);
    expect(existsSync(pidFilePath(dbPath))).toBe(false);
  });

  it("ignores a stale pid file left by a crashed process", () => {
    mkdirSync(join(dir, "data"), { recursive: true });
    writeFileSync(
      pidFilePath(dbPath),
      JSON.stringify({ pid: 2 ** 22 + 12345, host: hostname(), started_at: "x" }),
    );
    expect(runningHermes(dbPath)).toBeUndefined();
  });
});

describe("BackupScheduler", () => {
  it("follows hermes.db.backup_schedule and picks up a change", async () => {
    const h = await db();
    let schedule = "0 2 * * *";
    const log = quietLog();
    const s = new BackupScheduler({
      sqlite: h.sqlite,
      dbPath,
      schedule: () => schedule,
      keep: () => 7,
      maxSizeMb: () => 1000,
      now: () => Date.now(),
      log,
    });
    s.start();
    let next = s.nextRunAt();
    expect(next && [next.getHours(), next.getMinutes()]).toEqual([2, 0]);
    schedule = "30 3 * * *";
    s.reschedule();
    next = s.nextRunAt();
    expect(next && [next.getHours(), next.getMinutes()]).toEqual([3, 30]);
    schedule = "not a cron";
    s.reschedule();
    expect(s.nextRunAt()).toBeNull();
    expect(log.lines.some((l) => l.level === "error" && l.msg.includes("backups are OFF"))).toBe(true);
    await s.stop();
  });

  it("warns (log, flag, hook) when the database passes hermes.db.max_size_mb", async () => {
    const h = await db();
    h.sqlite
      .prepare("INSERT INTO idea_threads (uuid, title, original_request) VALUES ('big', 'big', ?)")
      .run("b".repeat(1_300_000));
    const log = quietLog();
    const hooks: number[] = [];
    const s = new BackupScheduler({
      sqlite: h.sqlite,
      dbPath,
      schedule: () => "0 2 * * *",
      keep: () => 7,
      maxSizeMb: () => 1,
      now: () => Date.UTC(2026, 0, 10),
      log,
      onOversize: (size) => hooks.push(size.bytes),
    });
    const outcome = await s.runOnce();
    expect(outcome.size.over).toBe(true);
    expect(hooks).toHaveLength(1);
    expect(log.lines.some((l) => l.level === "warn" && l.msg.includes("max_size_mb"))).toBe(true);
  });

  it("does nothing for an in-memory database; concurrent runs share one backup", async () => {
    const mem = await openDatabase({ path: ":memory:" });
    open.push(mem);
    const s = new BackupScheduler({
      sqlite: mem.sqlite,
      dbPath: ":memory:",
      schedule: () => "0 2 * * *",
      keep: () => 7,
      maxSizeMb: () => 1,
      now: () => 0,
      log: quietLog(),
      dir: join(dir, "mem-backups"),
    });
    s.start();
    expect(s.nextRunAt()).toBeNull();
    const [a, b] = await Promise.all([s.runOnce(), s.runOnce()]);
    expect(a).toBe(b);
    expect(pruneBackups(join(dir, "mem-backups"), 7)).toEqual([]);
  });
});
