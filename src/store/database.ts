import { existsSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import BetterSqlite3 from "better-sqlite3";
import { Kysely, SqliteDialect } from "kysely";
import { migrateToLatest } from "./migrator.ts";
import type { Database } from "./schema.ts";

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
  /** Checkpoint the WAL from a worker thread (default for files); false keeps SQLite's automatic checkpoints. */
  checkpointInWorker?: boolean;
}

const CHECKPOINT_INTERVAL_MS = 1000;

/**
 * Moves WAL checkpoints off the event loop. If the worker cannot start or dies, SQLite's own
 * automatic checkpoint is switched back on, so the WAL never grows without bound.
 */
function startCheckpointer(sqlite: SqliteHandle, path: string): { stop(): Promise<void> } | undefined {
  const here = dirname(fileURLToPath(import.meta.url));
  const file = [join(here, "checkpoint-worker.js"), join(here, "checkpoint-worker.ts")].find((f) =>
    existsSync(f),
  );
  if (!file) return undefined;
  let worker: Worker;
  try {
    worker = new Worker(file, { workerData: { path, intervalMs: CHECKPOINT_INTERVAL_MS } });
  } catch {
    return undefined;
  }
  worker.unref();
  sqlite.pragma("wal_autocheckpoint = 0");
  let stopped = false;
  const restoreAuto = () => {
    if (!stopped && sqlite.open) sqlite.pragma("wal_autocheckpoint = 1000");
  };
  worker.on("error", restoreAuto);
  worker.on("exit", restoreAuto);
  return {
    async stop() {
      stopped = true;
      // Keep the process alive until the worker's last checkpoint is done (it was unref'd while idle).
      worker.ref();
      const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
      worker.postMessage("stop");
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 2000)))]);
      clearTimeout(timer);
      await worker.terminate();
      if (sqlite.open) sqlite.pragma("wal_autocheckpoint = 1000");
    },
  };
}

export interface HermesDatabase {
  /** The raw handle, for the synchronous hot paths of the queue repository. */
  sqlite: SqliteHandle;
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
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  let sqlite: SqliteHandle;
  try {
    sqlite = new BetterSqlite3(path);
  } catch (error) {
    throw new DatabaseOpenError(path, (error as Error).message);
  }
  try {
    applyPragmas(sqlite, options);
    checkIntegrity(sqlite, path);
  } catch (error) {
    sqlite.close();
    if (error instanceof DatabaseOpenError) throw error;
    throw new DatabaseOpenError(path, (error as Error).message);
  }
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  await migrateToLatest(db);
  const checkpointer =
    path === ":memory:" || options.checkpointInWorker === false ? undefined : startCheckpointer(sqlite, path);
  let closed = false;
  return {
    sqlite,
    db,
    path,
    async close() {
      if (closed) return;
      closed = true;
      await checkpointer?.stop();
      // Kysely's destroy closes the better-sqlite3 handle it was given.
      await db.destroy();
    },
  };
}

function applyPragmas(sqlite: SqliteHandle, options: OpenDatabaseOptions): void {
  sqlite.pragma(`busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 5000)}`);
  if (options.path !== ":memory:") sqlite.pragma("journal_mode = WAL");
  sqlite.pragma(`synchronous = ${options.synchronous ?? "NORMAL"}`);
  sqlite.pragma("foreign_keys = ON");
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
