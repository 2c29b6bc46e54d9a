import { resolve } from "node:path";
import { EnvError, parseEnv } from "../config/env.ts";
import { type ConfigKey, defaultText } from "../config/keys.ts";
import {
  backupDatabase,
  backupDirFor,
  checkDatabaseSize,
  databaseFileBytes,
  pruneBackups,
} from "../ops/backup.ts";
import type { SqliteHandle } from "../store/database.ts";
import { openExistingFile } from "../store/files.ts";
import { readConfigValue } from "../store/system/config-repo.ts";

/**
 * `npm run backup [-- --dir <dir>] [--keep <n>]`: an online backup of HERMES_DB_PATH (safe while
 * Hermes runs) into `<db dir>/backups/` (or --dir), keeping the newest
 * `hermes.db.backup_retention_count` (or --keep). Exit 0 on success, 1 on error.
 */
export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

function option(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

/** A system_config value, or undefined when the key (or the table) is not there. */
function configValue(db: SqliteHandle, key: ConfigKey): string | undefined {
  try {
    return readConfigValue(db, key);
  } catch {
    return undefined;
  }
}

export async function runBackup(
  argv: string[],
  source: Record<string, string | undefined>,
  io: CliIo,
  now: () => number = Date.now,
): Promise<number> {
  let dbPath: string;
  try {
    dbPath = parseEnv({ HERMES_DB_PATH: source.HERMES_DB_PATH }).HERMES_DB_PATH;
  } catch (error) {
    io.err(error instanceof EnvError ? error.message : String(error));
    return 1;
  }
  let db: SqliteHandle;
  try {
    db = openExistingFile(dbPath, { busyTimeoutMs: 5000 });
  } catch (error) {
    io.err(`Cannot open ${resolve(dbPath)}: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
  try {
    const dir = option(argv, "--dir") ?? backupDirFor(dbPath);
    const keepRaw =
      option(argv, "--keep") ??
      configValue(db, "hermes.db.backup_retention_count") ??
      defaultText("hermes.db.backup_retention_count");
    const keep = Number(keepRaw);
    if (!Number.isInteger(keep) || keep < 1) {
      io.err(`--keep must be a whole number of at least 1 (got ${keepRaw}).`);
      return 1;
    }
    const result = await backupDatabase(db, dir, now());
    const pruned = pruneBackups(dir, keep);
    io.out(`Backed up ${resolve(dbPath)} → ${result.path} (${result.bytes} bytes).`);
    if (pruned.length > 0) io.out(`Deleted ${pruned.length} old backup(s); keeping the newest ${keep}.`);
    const maxMb = Number(configValue(db, "hermes.db.max_size_mb") ?? defaultText("hermes.db.max_size_mb"));
    const size = checkDatabaseSize(databaseFileBytes(dbPath), Number.isFinite(maxMb) ? maxMb : 0);
    if (size.over)
      io.err(
        `Warning: the database (${size.bytes} bytes) is larger than hermes.db.max_size_mb (${maxMb} MB).`,
      );
    return 0;
  } catch (error) {
    io.err(`Backup failed: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  } finally {
    db.close();
  }
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  const code = await runBackup(process.argv.slice(2), process.env, {
    out: (l) => process.stdout.write(`${l}\n`),
    err: (l) => process.stderr.write(`${l}\n`),
  });
  process.exit(code);
}
