import { type Clock, systemClock } from "../clock.ts";
import type { Env } from "../config/env.ts";
import { SystemConfig } from "../config/system-config.ts";
import { createLogger, type Logger } from "../log.ts";
import { Notifier } from "../notify/notifier.ts";
import { createLogFileDestination, type LogFileDestination } from "../ops/log-files.ts";
import { type HermesDatabase, openDatabase } from "../store/database.ts";
import { StorageFault } from "../store/storage-fault.ts";
import { AlertLogRepo } from "../store/system/alert-log-repo.ts";
import { ConfigAuditRepo } from "../store/system/config-audit-repo.ts";
import { ConfigRepo } from "../store/system/config-repo.ts";
import type { HermesOptions } from "./options.ts";

/** What every other part is built on: the clock, the database, the settings, the log and alerts. */
export interface Foundation {
  env: Env;
  clock: Clock;
  startedAt: number;
  database: HermesDatabase;
  config: SystemConfig;
  log: Logger;
  logFiles: LogFileDestination | undefined;
  notifier: Notifier;
  /** Writers that found the database full (→ /health degraded, the database_size alert). */
  storage: StorageFault;
  /** ISO time of the clock, as the store records it. */
  iso: () => string;
}

export async function openFoundation(options: HermesOptions): Promise<Foundation> {
  const { env } = options;
  const clock = options.clock ?? systemClock;
  const startedAt = clock.now();
  const database = await openDatabase({
    path: env.HERMES_DB_PATH,
    synchronous: env.HERMES_DB_SYNCHRONOUS,
    integrityCheck: "after-unclean-stop",
  });
  const config = await SystemConfig.load(
    new ConfigRepo(database.db),
    new ConfigAuditRepo(database.sqlite),
    () => clock.now(),
  );
  for (const [key, value] of Object.entries(options.config ?? {}))
    await config.set(key, value, "overrides", { force: true });
  const { log, logFiles } = createAppLogger(options, config);
  log.info({ path: env.HERMES_DB_PATH, synchronous: env.HERMES_DB_SYNCHRONOUS }, "database ready");
  const notifier = new Notifier({
    log: new AlertLogRepo(database.sqlite),
    clock,
    enabledTypes: () => config.strings("hermes.notifications.alert_types"),
    cooldownMinutes: () => config.number("hermes.notifications.cooldown_minutes"),
    logger: log,
  });
  const iso = () => new Date(clock.now()).toISOString();
  const storage = new StorageFault(() => clock.now());
  storage.onChange((full) => {
    if (full)
      void notifier.alert(
        "database_size",
        "full",
        "The database refuses writes: its disk is full (SQLITE_FULL). New ideas are refused; queued work waits and nothing accepted is lost. Free disk space (old backups and logs first); Hermes resumes by itself.",
      );
    else log.info({}, "the database takes writes again");
  });
  return { env, clock, startedAt, database, config, log, logFiles, notifier, storage, iso };
}

/** The logger: stdout, plus daily log files when HERMES_LOG_DIR is set (kept as long as the config says). */
function createAppLogger(
  options: HermesOptions,
  config: SystemConfig,
): { log: Logger; logFiles: LogFileDestination | undefined } {
  const { env } = options;
  if (options.logger) return { log: options.logger, logFiles: undefined };
  const logFiles = env.HERMES_LOG_DIR
    ? createLogFileDestination({
        dir: env.HERMES_LOG_DIR,
        retentionDays: () => config.number("hermes.logs.cloud_retention_days"),
      })
    : undefined;
  const log = createLogger({
    destination: logFiles,
    level: env.HERMES_LOG_LEVEL,
    secrets: () => [
      env.TELEGRAM_BOT_TOKEN,
      env.HERMES_ADMIN_TOKEN,
      env.TALOS_TOKEN,
      env.OPENROUTER_API_KEY,
      env.OPENAI_API_KEY,
      env.HERMES_TRANSCRIBE_API_KEY,
      ...config.secretValues(),
    ],
  });
  // A key set through /config or the API is a secret from the moment it is stored.
  config.onChange(() => log.secretsChanged());
  return { log, logFiles };
}
