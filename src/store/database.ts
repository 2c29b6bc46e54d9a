import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { dirname } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { Kysely, SqliteDialect } from "kysely";
import { type Clock, systemClock } from "../clock.ts";
import { migrateToLatest } from "./migrator.ts";
import type { Database } from "./schema.ts";
import { StablePlans } from "./stable-plans.ts";

export type SqliteHandle = BetterSqlite3.Database;

export interface OpenDatabaseOptions {
  /** File path, or ":memory:" for tests. */
  path: string;
  /**
   * NORMAL (default): in WAL mode a commit is durable once the WAL is checkpointed; on power loss
   * the last few commits may be lost, never corrupted. FULL fsyncs every commit: slower, loses nothing.
   */
  synchronous?: "NORMAL" | "FULL";
  busyTimeoutMs?: number;
  /**
   * "always" (default) runs quick_check at every open. "after-unclean-stop" runs it only when the
   * last process left a WAL behind (killed, crashed, power lost): quick_check reads every page, so
   * it made start-up grow with the database (×2.7 at 5,000 ideas), while a clean stop checkpoints
   * and removes the WAL.
   */
  integrityCheck?: "always" | "after-unclean-stop";
}

export interface CheckpointOptions {
  /** True while no job is running. */
  isIdle: () => boolean;
  clock?: Clock;
  /** How often the policy looks (default 1 s): "quiet" is a whole interval without a write. */
  intervalMs?: number;
  /** The WAL is checkpointed, busy or not, once it holds more than this since its last reset. */
  maxWalBytes?: number;
}

/**
 * Checkpoints the WAL instead of SQLite's automatic checkpoint, whose fsync otherwise lands inside
 * whichever commit crosses 1000 pages — a multi-millisecond stall in some job's hot path. (A
 * worker thread would avoid the stall too but costs ~13 MB of RSS for a second V8 isolate.)
 *
 * When: once the database has been quiet for a whole interval (nothing written, no job running),
 * or, in a steady stream that is never quiet, when the WAL passes maxWalBytes. Each checkpoint has
 * a fixed part (two fsyncs, and the hot pages every idea rewrites — status_counts, index roots,
 * rightmost leaves — copied again) beside the WAL's own bytes, which are synced once whatever the
 * policy. Checkpointing at every idle instant (at concurrency 1 there is one between any two
 * ideas) paid the fixed part every second, in the gap before the next idea; a stream that writes
 * less than maxWalBytes a second now pays it once per maxWalBytes (16 MB: ~100 ideas), and once
 * when it stops. Nothing written since the last checkpoint: nothing to do.
 *
 * Bound: journal_size_limit cuts the WAL file back to maxWalBytes when it restarts after a
 * checkpoint, so the file is larger than that only while it holds more than that since the last
 * checkpoint — which is what the size check reads (without the limit the file keeps its largest
 * size, and past the cap once, it read as "full" forever). The WAL so stays under maxWalBytes plus
 * one interval of writes, and its file under maxWalBytes between bursts.
 */
export function startIdleCheckpoints(handle: HermesDatabase, options: CheckpointOptions): Checkpoints {
  const { sqlite, path } = handle;
  if (path === ":memory:") return { stop() {}, settled: async () => {} };
  const clock = options.clock ?? systemClock;
  const intervalMs = options.intervalMs ?? 1000;
  const maxWal = Math.trunc(options.maxWalBytes ?? 16 * 1024 * 1024);
  sqlite.pragma("wal_autocheckpoint = 0");
  sqlite.pragma(`journal_size_limit = ${maxWal}`);
  // Rows changed by this connection (the only writer): a write since the last look moves it.
  const changes = sqlite.prepare("SELECT total_changes()").pluck();
  let seen = -1;
  let checkpointed = -1;
  let underway: Promise<void> | undefined;
  const checkpoint = () => {
    if (!sqlite.open) return;
    const at = changes.get() as number;
    try {
      const [r] = sqlite.pragma("wal_checkpoint(PASSIVE)") as CheckpointResult[];
      // Only a complete one lets the WAL restart; a partial one is finished at the next look.
      if (r && r.busy === 0 && r.log === r.checkpointed) checkpointed = at;
    } catch {
      // Busy or closing: the next look tries again.
    }
  };
  const look = () => {
    if (!sqlite.open || underway) return;
    const now = changes.get() as number;
    const quiet = now === seen && options.isIdle();
    seen = now;
    if (now === checkpointed || (!quiet && fileSize(`${path}-wal`) <= maxWal)) return;
    // Most of a checkpoint's time is its fsync of the WAL, which would block this thread: the WAL's
    // bytes are flushed first on libuv's thread pool, so that fsync finds only what came since.
    underway = syncFile(`${path}-wal`)
      .then(checkpoint)
      .finally(() => {
        underway = undefined;
      });
  };
  let timer = clock.setTimeout(function tick() {
    look();
    if (sqlite.open) timer = clock.setTimeout(tick, intervalMs);
  }, intervalMs);
  return {
    stop() {
      clock.clearTimeout(timer);
      if (sqlite.open) sqlite.pragma("wal_autocheckpoint = 1000");
    },
    settled: async () => {
      await underway;
    },
  };
}

export interface Checkpoints {
  stop(): void;
  /** Resolves once a checkpoint under way (its WAL flush, then the checkpoint) is over. */
  settled(): Promise<void>;
}

function fileSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/**
 * fdatasync on a descriptor of our own, off the main thread. SQLite holds no POSIX lock on the
 * -wal file (its WAL locks are on -shm and the database file), so closing this descriptor cannot
 * drop one of its locks. A WAL not there (or not readable) is left to the checkpoint's own fsync.
 */
async function syncFile(file: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(file, "r");
    await handle.datasync();
  } catch {
    // The checkpoint syncs it itself.
  } finally {
    await handle?.close().catch(() => {});
  }
}

interface CheckpointResult {
  busy: number;
  log: number;
  checkpointed: number;
}

/** The open database: both query idioms over one connection (see README.md, rule 3). */
export interface HermesDatabase {
  /** The raw handle, for prepared statements: synchronous and hot paths (the queue, stats, kv). */
  sqlite: SqliteHandle;
  /** Kysely over the same handle, for type-checked queries off the hot paths. */
  db: Kysely<Database>;
  path: string;
  close(): Promise<void>;
}

export class DatabaseOpenError extends Error {
  constructor(path: string, reason: string) {
    super(
      `Cannot use the database at ${path}: ${reason}. ` +
        "Restore a backup (npm run restore <file>) or move the file away to start fresh.",
    );
    this.name = "DatabaseOpenError";
  }
}

/** Opens (creating if needed), checks and migrates the SQLite database. */
export async function openDatabase(options: OpenDatabaseOptions): Promise<HermesDatabase> {
  const { path } = options;
  if (path !== ":memory:") createPrivately(path);
  const check = options.integrityCheck !== "after-unclean-stop" || leftWalBehind(path);
  let sqlite: SqliteHandle;
  try {
    sqlite = new BetterSqlite3(path);
  } catch (error) {
    throw new DatabaseOpenError(path, (error as Error).message);
  }
  try {
    applyPragmas(sqlite, options);
    if (path !== ":memory:") tightenSidecars(path);
    if (check) checkIntegrity(sqlite, path);
  } catch (error) {
    sqlite.close();
    if (error instanceof DatabaseOpenError) throw error;
    throw new DatabaseOpenError(path, (error as Error).message);
  }
  const db = new Kysely<Database>({
    dialect: new SqliteDialect({ database: reusingStatements(sqlite) }),
    // Without it, ordered or LIMITed SELECTs are prepared by SQLite at every run anyway.
    plugins: [new StablePlans()],
  });
  await migrateToLatest(db);
  let closed = false;
  return {
    sqlite,
    db,
    path,
    async close() {
      if (closed) return;
      closed = true;
      // Kysely's destroy closes the better-sqlite3 handle it was given.
      await db.destroy();
    },
  };
}

/**
 * The handle as Kysely sees it, keeping prepared statements by SQL text. Kysely prepares every
 * query it runs, and SQLite's prepare was about a sixth of the CPU per idea; its values are bound
 * parameters, so each query shape has one text. The least recently used beyond `size` are dropped
 * (raw SQL with inlined values would otherwise grow it). Kysely runs each statement to completion
 * synchronously (it does not stream here), so one statement is never in use twice at once.
 */
function reusingStatements(sqlite: SqliteHandle, size = 256) {
  const cache = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(source: string): BetterSqlite3.Statement {
      let statement = cache.get(source);
      if (statement) cache.delete(source);
      else statement = sqlite.prepare(source);
      cache.set(source, statement);
      if (cache.size > size) cache.delete(cache.keys().next().value as string);
      return statement;
    },
  };
}

/**
 * The database holds conversations, settings and secrets: owner-only (0600, its directory 0700 when
 * Hermes creates it). The file is created before SQLite opens it because SQLite would create it
 * 0644 (less the umask), and gives -wal/-shm/-journal the permissions of the database file.
 */
function createPrivately(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  closeSync(openSync(path, "a", 0o600));
  tighten(path);
}

/** Sidecar files made before this version (or by another tool) are tightened too. */
function tightenSidecars(path: string): void {
  for (const suffix of ["-wal", "-shm", "-journal"]) if (existsSync(path + suffix)) tighten(path + suffix);
}

/** Best effort: a file owned by someone else cannot be changed, and that alone must not stop Hermes. */
export function tighten(path: string): void {
  try {
    chmodSync(path, 0o600);
  } catch {
    // Left as it is; the open itself reports real problems.
  }
}

function applyPragmas(sqlite: SqliteHandle, options: OpenDatabaseOptions): void {
  sqlite.pragma(`busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 5000)}`);
  if (options.path !== ":memory:") sqlite.pragma("journal_mode = WAL");
  sqlite.pragma(`synchronous = ${options.synchronous ?? "NORMAL"}`);
  sqlite.pragma("foreign_keys = ON");
  // SQLite's own default page cache (2 MB). better-sqlite3 builds SQLite with 16 MB, which a
  // database of some thousand ideas fills and malloc then keeps: ~14 MB of RSS after 3,000 ideas
  // (bench/memory.ts). The file's pages stay in the OS cache, so a miss costs a read, not a seek.
  sqlite.pragma("cache_size = -2000");
  // Savepoint journals in memory. Each write of a group commit (group-commit.ts) is a savepoint,
  // whose journal keeps the pages it changes: by default one over 64 KB spills to a temporary
  // file, and a batch of 250 completions took ~500 µs a job instead of ~20.
  sqlite.pragma("temp_store = MEMORY");
}

/** A non-empty WAL at open: the last connection did not close cleanly. */
function leftWalBehind(path: string): boolean {
  if (path === ":memory:") return false;
  try {
    return statSync(`${path}-wal`).size > 0;
  } catch {
    return false;
  }
}

/** quick_check is O(pages) without the index cross-checks of integrity_check: fast enough for start-up. */
function checkIntegrity(sqlite: SqliteHandle, path: string): void {
  const rows = sqlite.pragma("quick_check") as { quick_check: string }[];
  const problems = rows.map((r) => r.quick_check).filter((r) => r !== "ok");
  if (problems.length > 0) {
    throw new DatabaseOpenError(path, `integrity check failed (${problems.slice(0, 3).join("; ")})`);
  }
}

/** True when a trivial query succeeds: what /health reports for the database. */
export function databaseIsUsable(handle: HermesDatabase): boolean {
  try {
    handle.sqlite.prepare("SELECT 1").get();
    return true;
  } catch {
    return false;
  }
}
