import { closeSync, openSync, readSync } from "node:fs";
import { endianness } from "node:os";
import Database from "better-sqlite3";

/**
 * What one Hermes idea writes, counted in a separate short pass of bench/per-idea.ts (the measured
 * rounds run without any of this): SQL statements run, commits, and WAL frames appended.
 *
 * Statements and commits: better-sqlite3 runs every statement through Statement.prototype's
 * run/get/all/iterate, transaction control included (db.transaction() prepares BEGIN/COMMIT as
 * statements), so a wrapper there sees them all; it is installed for the pass and removed after.
 * A commit is a statement that ends a transaction (COMMIT), or a write run outside one (autocommit).
 *
 * WAL frames: mxFrame, the number of valid frames in the WAL, read from the wal-index header (the
 * -shm file, offset 16). A WAL restart after a checkpoint would reset it, so a second connection
 * holds a read snapshot for the whole pass: checkpoints (Hermes' idle ones) still run but cannot
 * reset the WAL, and mxFrame only grows, by exactly the frames written.
 */
export interface WriteCounts {
  statements: number;
  commits: number;
  walFrames: number;
  /** Commit frames among them (a non-zero "database size" in the frame header): commits that wrote. */
  walCommits: number;
}

const CONTROL = /^\s*(BEGIN|COMMIT|END|ROLLBACK|SAVEPOINT|RELEASE|PRAGMA)\b/i;
const COMMIT = /^\s*(COMMIT|END)\b/i;
const METHODS = ["run", "get", "all", "iterate"] as const;

interface Stmt {
  source: string;
  readonly: boolean;
  database: { inTransaction: boolean };
}
type Method = (this: Stmt, ...args: unknown[]) => unknown;

function statementPrototype(): Record<(typeof METHODS)[number], Method> {
  const probe = new Database(":memory:");
  try {
    return Object.getPrototypeOf(probe.prepare("SELECT 1"));
  } finally {
    probe.close();
  }
}

function walFrames(dbPath: string): number {
  const fd = openSync(`${dbPath}-shm`, "r");
  try {
    const b = Buffer.alloc(4);
    readSync(fd, b, 0, 4, 16);
    return endianness() === "LE" ? b.readUInt32LE(0) : b.readUInt32BE(0);
  } finally {
    closeSync(fd);
  }
}

/** Frames [from, to) of the WAL that end a transaction (frame header bytes 4-7, big-endian, non-zero). */
function commitFrames(dbPath: string, from: number, to: number): number {
  const fd = openSync(`${dbPath}-wal`, "r");
  try {
    const b = Buffer.alloc(8);
    readSync(fd, b, 0, 4, 8);
    const frameSize = b.readUInt32BE(0) + 24;
    let commits = 0;
    for (let i = from; i < to; i++) {
      readSync(fd, b, 0, 8, 32 + i * frameSize);
      if (b.readUInt32BE(4) !== 0) commits++;
    }
    return commits;
  } finally {
    closeSync(fd);
  }
}

/** Starts counting the writes to the database at dbPath (open, WAL mode); stop() returns the totals. */
export function countWrites(dbPath: string): { stop(): WriteCounts } {
  const reader = new Database(dbPath, { readonly: true });
  reader.exec("BEGIN");
  reader.prepare("SELECT count(*) FROM sqlite_master").get();
  const frames0 = walFrames(dbPath);
  const proto = statementPrototype();
  const originals = METHODS.map((m) => [m, proto[m]] as const);
  let statements = 0;
  let commits = 0;
  for (const [name, original] of originals) {
    proto[name] = function (this: Stmt, ...args: unknown[]) {
      const inTransaction = this.database.inTransaction;
      const result = original.apply(this, args);
      if (!CONTROL.test(this.source)) statements++;
      if (inTransaction ? COMMIT.test(this.source) : !this.readonly && !CONTROL.test(this.source)) commits++;
      return result;
    };
  }
  return {
    stop() {
      for (const [name, original] of originals) proto[name] = original;
      const frames1 = walFrames(dbPath);
      const walCommits = commitFrames(dbPath, frames0, frames1);
      reader.exec("COMMIT");
      reader.close();
      return { statements, commits, walFrames: frames1 - frames0, walCommits };
    },
  };
}
