import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { dirname, join, resolve } from "node:path";

/**
 * `<db dir>/hermes.pid`: written while Hermes runs on that database, so `npm run restore` can
 * refuse to replace a database under a running process. A file left by a crash is recognised as
 * stale (its process is gone).
 */
export interface PidInfo {
  pid: number;
  host: string;
  started_at: string;
}

export function pidFilePath(dbPath: string): string {
  return join(dirname(resolve(dbPath)), "hermes.pid");
}

export function writePidFile(dbPath: string, nowMs: number = Date.now()): string | undefined {
  if (dbPath === ":memory:") return undefined;
  const path = pidFilePath(dbPath);
  const info: PidInfo = { pid: process.pid, host: hostname(), started_at: new Date(nowMs).toISOString() };
  writeFileSync(path, `${JSON.stringify(info)}\n`);
  return path;
}

/** Removes the pid file if it is this process'. */
export function removePidFile(dbPath: string): void {
  if (dbPath === ":memory:") return;
  const info = readPidFile(dbPath);
  if (info && info.pid === process.pid && info.host === hostname())
    rmSync(pidFilePath(dbPath), { force: true });
}

export function readPidFile(dbPath: string): PidInfo | undefined {
  try {
    const parsed = JSON.parse(readFileSync(pidFilePath(dbPath), "utf8")) as Partial<PidInfo>;
    if (typeof parsed.pid !== "number" || typeof parsed.host !== "string") return undefined;
    return { pid: parsed.pid, host: parsed.host, started_at: String(parsed.started_at ?? "") };
  } catch {
    return undefined;
  }
}

/** The Hermes process using this database, if one seems alive (another host's is assumed alive). */
export function runningHermes(dbPath: string): PidInfo | undefined {
  const info = readPidFile(dbPath);
  if (!info) return undefined;
  if (info.host !== hostname()) return info;
  try {
    process.kill(info.pid, 0);
    return info;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM" ? info : undefined;
  }
}
