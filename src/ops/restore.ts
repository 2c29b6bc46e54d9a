import { copyFileSync, existsSync, renameSync, rmSync, statSync } from "node:fs";
import type { SqliteHandle } from "../store/database.ts";
import { foldWal, inspectFile, openExistingFile } from "../store/files.ts";

/**
 * Restoring a backup over the database: only a file that passes `PRAGMA integrity_check` and has
 * Hermes' tables is accepted; the current database is kept as `<db>.bak` (with its WAL as
 * `<db>.bak-wal`), the backup is copied beside it and renamed into place, then checked again.
 */
const REQUIRED_TABLES = ["idea_threads", "jobs", "system_config", "kysely_migration"];

export interface VerifyResult {
  ok: boolean;
  problems: string[];
  threads: number;
  jobs: number;
  migrations: string[];
}

export function verifyHermesDatabase(file: string): VerifyResult {
  const out: VerifyResult = { ok: false, problems: [], threads: 0, jobs: 0, migrations: [] };
  if (!existsSync(file)) {
    out.problems.push(`${file} does not exist`);
    return out;
  }
  // A read-only look at a WAL-mode file creates empty -wal/-shm beside it; remove what we created.
  const sideFiles = [`${file}-wal`, `${file}-shm`].filter((f) => !existsSync(f));
  let db: SqliteHandle | undefined;
  try {
    db = openExistingFile(file, { readonly: true });
    const { integrity, tables, counts } = inspectFile(db, REQUIRED_TABLES);
    if (integrity.length !== 1 || integrity[0] !== "ok")
      out.problems.push(`integrity check failed: ${integrity.slice(0, 3).join("; ")}`);
    const missing = REQUIRED_TABLES.filter((t) => !tables.has(t));
    if (missing.length > 0)
      out.problems.push(`not a Hermes database (missing tables: ${missing.join(", ")})`);
    else if (counts) {
      out.threads = counts.threads;
      out.jobs = counts.jobs;
      out.migrations = counts.migrations;
    }
  } catch (error) {
    out.problems.push(`cannot read it as SQLite: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    db?.close();
    for (const f of sideFiles) if (existsSync(f) && (f.endsWith("-shm") || statSync(f).size === 0)) rmSync(f);
  }
  out.ok = out.problems.length === 0;
  return out;
}

export interface RestoreResult {
  restored: string;
  previous: string | undefined;
  verify: VerifyResult;
}

export class RestoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RestoreError";
  }
}

export function restoreDatabase(from: string, to: string): RestoreResult {
  const check = verifyHermesDatabase(from);
  if (!check.ok) throw new RestoreError(`Refusing to restore ${from}: ${check.problems.join("; ")}`);
  let previous: string | undefined;
  if (existsSync(to)) {
    // Fold the WAL into the file first so the kept copy is complete on its own.
    try {
      const db = openExistingFile(to);
      foldWal(db);
      db.close();
    } catch {
      // a damaged current database is kept as it is
    }
    previous = `${to}.bak`;
    for (const suffix of ["", "-wal", "-shm"]) rmSync(`${previous}${suffix}`, { force: true });
    renameSync(to, previous);
    if (existsSync(`${to}-wal`)) renameSync(`${to}-wal`, `${previous}-wal`);
    rmSync(`${to}-shm`, { force: true });
  }
  const staging = `${to}.restoring`;
  copyFileSync(from, staging);
  renameSync(staging, to);
  const after = verifyHermesDatabase(to);
  if (!after.ok)
    throw new RestoreError(`The restored database does not verify: ${after.problems.join("; ")}`);
  return { restored: to, previous, verify: after };
}
