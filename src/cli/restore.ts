import { resolve } from "node:path";
import { EnvError, parseEnv } from "../config/env.ts";
import { runningHermes } from "../ops/pid-file.ts";
import { RestoreError, restoreDatabase, verifyHermesDatabase } from "../ops/restore.ts";
import type { CliIo } from "./backup.ts";

/**
 * `npm run restore <file> [--force]`: replaces HERMES_DB_PATH with a backup. The file must pass
 * SQLite's integrity_check and be a Hermes database; the current database is kept as `<db>.bak`.
 * Refuses while Hermes runs on that database (its `hermes.pid` names a live process) unless
 * --force. Exit 0 restored, 1 error or bad file, 2 refused because Hermes is running.
 */
export function runRestore(argv: string[], source: Record<string, string | undefined>, io: CliIo): number {
  const force = argv.includes("--force");
  const file = argv.find((a) => !a.startsWith("--"));
  if (!file) {
    io.err("Usage: npm run restore <backup file> [--force]");
    return 1;
  }
  let dbPath: string;
  try {
    dbPath = parseEnv({ HERMES_DB_PATH: source.HERMES_DB_PATH }).HERMES_DB_PATH;
  } catch (error) {
    io.err(error instanceof EnvError ? error.message : String(error));
    return 1;
  }
  if (resolve(file) === resolve(dbPath)) {
    io.err("The backup file is the database itself; name a file from the backups folder.");
    return 1;
  }
  const check = verifyHermesDatabase(file);
  if (!check.ok) {
    io.err(`Refusing to restore ${file}: ${check.problems.join("; ")}`);
    return 1;
  }
  const running = runningHermes(dbPath);
  if (running && !force) {
    io.err(
      `Hermes is running on ${resolve(dbPath)} (pid ${running.pid} on ${running.host}, since ${running.started_at}). ` +
        "Stop it first (pm2 stop hermes), then restore; or pass --force if that process is not Hermes.",
    );
    return 2;
  }
  try {
    const result = restoreDatabase(file, dbPath);
    io.out(
      `Restored ${file} → ${result.restored} (${result.verify.threads} threads, ${result.verify.jobs} jobs).`,
    );
    if (result.previous) io.out(`The previous database is kept as ${result.previous}.`);
    io.out("Start Hermes again (npm start / pm2 start hermes).");
    return 0;
  } catch (error) {
    io.err(error instanceof RestoreError ? error.message : `Restore failed: ${String(error)}`);
    return 1;
  }
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  const code = runRestore(process.argv.slice(2), process.env, {
    out: (l) => process.stdout.write(`${l}\n`),
    err: (l) => process.stderr.write(`${l}\n`),
  });
  process.exit(code);
}
