import { parentPort, workerData } from "node:worker_threads";
import BetterSqlite3 from "better-sqlite3";

/**
 * Checkpoints the WAL from a worker thread with its own connection. A PASSIVE checkpoint never
 * blocks writers, and its fsync no longer stalls the event loop (and the job that happened to
 * commit when SQLite's automatic checkpoint fired).
 */
const { path, intervalMs } = workerData as { path: string; intervalMs: number };
const db = new BetterSqlite3(path);
db.pragma("busy_timeout = 1000");
const timer = setInterval(() => {
  try {
    db.pragma("wal_checkpoint(PASSIVE)");
  } catch (error) {
    parentPort?.postMessage({ error: (error as Error).message });
  }
}, intervalMs);
parentPort?.on("message", (msg: unknown) => {
  if (msg === "stop") {
    clearInterval(timer);
    try {
      db.pragma("wal_checkpoint(PASSIVE)");
    } finally {
      db.close();
      parentPort?.close();
    }
  }
});
