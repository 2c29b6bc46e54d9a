import { closeSync, mkdirSync, openSync, readdirSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";

/**
 * A pino destination that writes every line to stdout (as before, for pm2) and to a daily file
 * `<dir>/hermes-YYYY-MM-DD.log` (UTC day). At each new day, and when created, files older than
 * `hermes.logs.cloud_retention_days` are deleted. Writes are synchronous, like pino's default
 * destination, so nothing is lost on a crash.
 */
export const LOG_FILE = /^hermes-(\d{4}-\d{2}-\d{2})\.log$/;

export interface LogFilesOptions {
  dir: string;
  /** Days of files to keep (today counts as one). Read at every rotation. */
  retentionDays: () => number;
  now?: () => number;
  /** Where the stdout copy goes; null for files only. */
  stdout?: ((line: string) => void) | null;
}

export interface LogFileDestination {
  write(line: string): void;
  /** The file being written now. */
  currentFile(): string | undefined;
  /** Deletes files past retention; returns their names. */
  prune(): string[];
  close(): void;
}

const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

export function createLogFileDestination(options: LogFilesOptions): LogFileDestination {
  const now = options.now ?? Date.now;
  const stdout = options.stdout === undefined ? (line: string) => process.stdout.write(line) : options.stdout;
  mkdirSync(options.dir, { recursive: true });
  let fd: number | undefined;
  let day: string | undefined;
  let file: string | undefined;

  const prune = (): string[] => {
    const keep = Math.max(1, Math.floor(options.retentionDays()));
    const oldest = dayOf(now() - (keep - 1) * 86_400_000);
    const deleted: string[] = [];
    for (const name of readdirSync(options.dir)) {
      const m = LOG_FILE.exec(name);
      if (m?.[1] && m[1] < oldest) {
        rmSync(join(options.dir, name), { force: true });
        deleted.push(name);
      }
    }
    return deleted;
  };

  const rotate = (today: string) => {
    if (fd !== undefined) closeSync(fd);
    file = join(options.dir, `hermes-${today}.log`);
    fd = openSync(file, "a");
    day = today;
    try {
      prune();
    } catch {
      // pruning must never stop logging
    }
  };

  return {
    write(line: string) {
      stdout?.(line);
      const today = dayOf(now());
      try {
        if (today !== day || fd === undefined) rotate(today);
        if (fd !== undefined) writeSync(fd, line);
      } catch {
        // a full disk must not take Hermes down: stdout still has the line
      }
    },
    currentFile: () => file,
    prune,
    close() {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
      day = undefined;
    },
  };
}
