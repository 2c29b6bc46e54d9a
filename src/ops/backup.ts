import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
} from "node:fs";
import { dirname, join, resolve } from "node:path";
import { Cron } from "croner";
import { type SqliteHandle, tighten } from "../store/database.ts";
import { makeSelfContained } from "../store/files.ts";
import type { StorageFault } from "../store/storage-fault.ts";

/**
 * Online backups of the SQLite database with better-sqlite3's backup API (consistent while Hermes
 * keeps writing), on the `hermes.db.backup_schedule` cron, into `<db dir>/backups/`, keeping the
 * newest `hermes.db.backup_retention_count`. Each run also checks the database against
 * `hermes.db.max_size_mb` and warns (log + flag + hook for alerts) when it is larger.
 */
export const BACKUP_FILE = /^hermes-(\d{8})-(\d{6})(?:-(\d+))?\.db$/;

export interface BackupResult {
  path: string;
  bytes: number;
}

export interface SizeCheck {
  bytes: number;
  limitBytes: number;
  over: boolean;
}

export interface BackupOutcome {
  backup: BackupResult;
  pruned: string[];
  size: SizeCheck;
}

export function backupDirFor(dbPath: string): string {
  return join(dirname(resolve(dbPath)), "backups");
}

function stamp(nowMs: number): string {
  const iso = new Date(nowMs).toISOString(); // 2026-01-01T02:00:00.000Z
  return `${iso.slice(0, 10).replace(/-/g, "")}-${iso.slice(11, 19).replace(/:/g, "")}`;
}

/**
 * Copies the live database to `<dir>/hermes-YYYYMMDD-HHMMSS.db` (UTC), as a single file in
 * rollback-journal mode (Hermes switches it back to WAL when it opens it); never leaves a partial file.
 */
export async function backupDatabase(
  sqlite: SqliteHandle,
  dir: string,
  nowMs: number,
): Promise<BackupResult> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const base = `hermes-${stamp(nowMs)}`;
  let path = join(dir, `${base}.db`);
  for (let n = 1; existsSync(path); n++) path = join(dir, `${base}-${n}.db`);
  const partial = `${path}.partial`;
  try {
    // A copy of the database is as private as the database: created 0600 before SQLite writes it.
    closeSync(openSync(partial, "w", 0o600));
    await sqlite.backup(partial);
    // A backup is one self-contained file: rollback journal, not WAL (no -wal/-shm beside it).
    makeSelfContained(partial);
    tighten(partial);
    renameSync(partial, path);
  } catch (error) {
    for (const suffix of ["", "-journal", "-wal", "-shm"]) rmSync(`${partial}${suffix}`, { force: true });
    throw error;
  }
  return { path, bytes: statSync(path).size };
}

/** Backups in `dir`, newest first. */
export function listBackups(dir: string): { name: string; path: string; bytes: number }[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => BACKUP_FILE.test(name))
    .map((name) => ({ name, path: join(dir, name), key: sortKey(name) }))
    .sort((a, b) => (a.key < b.key ? 1 : a.key > b.key ? -1 : 0))
    .map(({ name, path }) => ({ name, path, bytes: statSync(path).size }));
}

function sortKey(name: string): string {
  const m = BACKUP_FILE.exec(name);
  return m ? `${m[1]}${m[2]}${(m[3] ?? "0").padStart(6, "0")}` : name;
}

/** Deletes all but the newest `keep` backups; returns the deleted paths. */
export function pruneBackups(dir: string, keep: number): string[] {
  const old = listBackups(dir).slice(Math.max(1, Math.floor(keep)));
  for (const b of old) rmSync(b.path, { force: true });
  return old.map((b) => b.path);
}

/** The database file plus its WAL, in bytes (0 for a file that does not exist). */
export function databaseFileBytes(dbPath: string): number {
  let total = 0;
  for (const p of [dbPath, `${dbPath}-wal`]) {
    try {
      total += statSync(p).size;
    } catch {
      // missing: counts as 0
    }
  }
  return total;
}

export function checkDatabaseSize(bytes: number, maxMb: number): SizeCheck {
  const limitBytes = Math.max(0, maxMb) * 1024 * 1024;
  return { bytes, limitBytes, over: limitBytes > 0 && bytes > limitBytes };
}

export interface BackupSchedulerOptions {
  sqlite: SqliteHandle;
  dbPath: string;
  /** hermes.db.backup_schedule */
  schedule: () => string;
  /** hermes.db.backup_retention_count */
  keep: () => number;
  /** hermes.db.max_size_mb */
  maxSizeMb: () => number;
  now: () => number;
  log: {
    info(obj: object, msg: string): void;
    warn(obj: object, msg: string): void;
    error(obj: object, msg: string): void;
  };
  /** Called when the database is larger than hermes.db.max_size_mb (for alerts). */
  onOversize?: (size: SizeCheck) => void;
  /** Where a backup that found its disk full is reported (the next scheduled one tries again). */
  storage?: StorageFault | undefined;
  /** Where backups go; default `<db dir>/backups`. */
  dir?: string;
}

export class BackupScheduler {
  private readonly o: BackupSchedulerOptions;
  private cron: Cron | undefined;
  private pattern: string | undefined;
  private running: Promise<BackupOutcome> | undefined;
  private stopped = false;
  lastOutcome: BackupOutcome | undefined;

  constructor(options: BackupSchedulerOptions) {
    this.o = options;
  }

  get dir(): string {
    return this.o.dir ?? backupDirFor(this.o.dbPath);
  }

  /** Schedules backups; a database in memory has nothing to back up. */
  start(): void {
    if (this.o.dbPath === ":memory:" || this.stopped) return;
    const pattern = this.o.schedule().trim();
    try {
      this.cron = new Cron(pattern, { protect: true, unref: true }, () => {
        void this.runOnce().catch(() => {});
      });
      this.pattern = pattern;
      this.o.log.info(
        { schedule: pattern, next: this.nextRunAt()?.toISOString(), dir: this.dir },
        "backups scheduled",
      );
    } catch (error) {
      this.o.log.error(
        { schedule: pattern, err: error instanceof Error ? error.message : String(error) },
        "backup schedule is not a valid cron expression; backups are OFF until hermes.db.backup_schedule is fixed",
      );
    }
  }

  /** Picks up a changed hermes.db.backup_schedule. */
  reschedule(): void {
    if (this.stopped || this.o.schedule().trim() === this.pattern) return;
    this.cron?.stop();
    this.cron = undefined;
    this.pattern = undefined;
    this.start();
  }

  nextRunAt(): Date | null {
    return this.cron?.nextRun() ?? null;
  }

  /** One backup now (what the schedule and `npm run backup` do); concurrent calls share one run. */
  runOnce(): Promise<BackupOutcome> {
    this.running ??= this.run().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async run(): Promise<BackupOutcome> {
    const started = this.o.now();
    try {
      const backup = await backupDatabase(this.o.sqlite, this.dir, started);
      const pruned = pruneBackups(this.dir, this.o.keep());
      const size = checkDatabaseSize(databaseFileBytes(this.o.dbPath), this.o.maxSizeMb());
      this.o.log.info(
        { path: backup.path, bytes: backup.bytes, pruned: pruned.length, ms: this.o.now() - started },
        "database backed up",
      );
      if (size.over) {
        this.o.log.warn(
          { bytes: size.bytes, limitBytes: size.limitBytes },
          "database is larger than hermes.db.max_size_mb: archive old threads or raise the limit",
        );
        this.o.onOversize?.(size);
      }
      this.lastOutcome = { backup, pruned, size };
      this.o.storage?.stored("backup");
      return this.lastOutcome;
    } catch (error) {
      this.o.storage?.report(error, "backup");
      this.o.log.error(
        { err: error instanceof Error ? error.message : String(error) },
        "database backup failed",
      );
      throw error;
    }
  }

  /** Stops the schedule and waits for a running backup (call before closing the database). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.cron?.stop();
    this.cron = undefined;
    await this.running?.catch(() => {});
  }
}
