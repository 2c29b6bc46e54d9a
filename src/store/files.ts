import BetterSqlite3 from "better-sqlite3";
import type { SqliteHandle } from "./database.ts";

/**
 * SQL on database files other than the open one, for backup, restore and the backup CLI: a copy
 * being made self-contained, a candidate backup being checked, the current file folded before it
 * is set aside. (src/ops decides what to do; the SQL stays here.)
 */

/** Opens an existing database file as it is: no migrations, no pragmas beyond an optional busy timeout. */
export function openExistingFile(
  path: string,
  options: { readonly?: boolean; busyTimeoutMs?: number } = {},
): SqliteHandle {
  const db = new BetterSqlite3(path, { fileMustExist: true, readonly: options.readonly ?? false });
  if (options.busyTimeoutMs !== undefined) db.pragma(`busy_timeout = ${Math.trunc(options.busyTimeoutMs)}`);
  return db;
}

/** What a database file holds, as far as restoring it is concerned. */
export interface FileContents {
  /** `PRAGMA integrity_check` lines: ["ok"] when sound. */
  integrity: string[];
  tables: Set<string>;
  /** Row counts and applied migrations; only read when the Hermes tables are there. */
  counts?: { threads: number; jobs: number; migrations: string[] };
}

/** Checks and counts a (read-only) database file; `required` are the tables that must exist to count. */
export function inspectFile(db: SqliteHandle, required: readonly string[]): FileContents {
  const integrity = (db.pragma("integrity_check") as { integrity_check: string }[]).map(
    (r) => r.integrity_check,
  );
  const tables = new Set(
    (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map(
      (r) => r.name,
    ),
  );
  if (!required.every((t) => tables.has(t))) return { integrity, tables };
  const count = (table: string) =>
    (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
  const migrations = (
    db.prepare("SELECT name FROM kysely_migration ORDER BY name").all() as { name: string }[]
  ).map((r) => r.name);
  return { integrity, tables, counts: { threads: count("idea_threads"), jobs: count("jobs"), migrations } };
}

/** Folds the WAL into the main file, so the file alone is the whole database. */
export function foldWal(db: SqliteHandle): void {
  db.pragma("wal_checkpoint(TRUNCATE)");
}

/** A backup copy becomes one file in rollback-journal mode (no -wal/-shm beside it). */
export function makeSelfContained(path: string): void {
  const copy = new BetterSqlite3(path);
  try {
    copy.pragma("journal_mode = DELETE");
  } finally {
    copy.close();
  }
}
