import { dirname, resolve } from "node:path";
import type { Clock } from "../clock.ts";
import type { SystemConfig } from "../config/system-config.ts";
import { databaseIsUsable, type HermesDatabase } from "../store/database.ts";
import type { StorageFault } from "../store/storage-fault.ts";
import { SystemHealthRepo } from "../store/system/health-repo.ts";
import type { MetricsRepo } from "../store/system/metrics-repo.ts";
import { BackupScheduler, type SizeCheck } from "./backup.ts";
import { HealthRecorder } from "./metrics.ts";
import { removePidFile, writePidFile } from "./pid-file.ts";
import {
  type ActiveJobLike,
  type BackendHealthLike,
  collectSystemHealth,
  type SystemHealthReport,
} from "./system-health.ts";

/**
 * What runs beside a serving Hermes: scheduled backups, the periodic system_health row and the
 * pid file. Started after the scheduler starts; stopped before the database closes.
 */
export interface OpsLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface OperationsInput {
  database: HermesDatabase;
  config: SystemConfig;
  clock: Clock;
  log: OpsLog;
  system: () => SystemHealthReport;
  /** Where the timer-driven writers here report a full database. */
  storage?: StorageFault | undefined;
  /** For alerts when the database passes hermes.db.max_size_mb (it is logged either way). */
  onDatabaseOversize?: ((size: SizeCheck) => void) | undefined;
  /** Interval of the system_health row (default 60 s). */
  healthIntervalMs?: number | undefined;
}

export interface Operations {
  backups: BackupScheduler;
  healthRecorder: HealthRecorder;
  start(): void;
  stop(): Promise<void>;
}

export function createOperations(input: OperationsInput): Operations {
  const { database, config, clock, log } = input;
  const dbPath = database.path;
  const backups = new BackupScheduler({
    sqlite: database.sqlite,
    dbPath,
    schedule: () => config.get("hermes.db.backup_schedule"),
    keep: () => config.get("hermes.db.backup_retention_count"),
    maxSizeMb: () => config.get("hermes.db.max_size_mb"),
    now: () => clock.now(),
    log,
    storage: input.storage,
    onOversize: input.onDatabaseOversize,
  });
  const healthRecorder = new HealthRecorder({
    repo: new SystemHealthRepo(database.sqlite),
    collect: input.system,
    clock,
    intervalMs: input.healthIntervalMs,
    retentionDays: () => config.get("hermes.logs.cloud_retention_days"),
    log,
    storage: input.storage,
  });
  // A new backup schedule applies at once, whichever transport changed it (API, /config, CLI).
  // Only in the process that runs the backups (not in `npm run chat` or a harness without ops).
  let started = false;
  const unsubscribeConfig = config.onChange((change) => {
    if (started && change.key === "hermes.db.backup_schedule") backups.reschedule();
  });
  return {
    backups,
    healthRecorder,
    start() {
      if (started) return;
      started = true;
      writePidFile(dbPath, clock.now());
      backups.start();
      healthRecorder.start();
    },
    async stop() {
      unsubscribeConfig();
      healthRecorder.stop();
      await backups.stop();
      if (started) removePidFile(dbPath);
    },
  };
}

export interface SystemReportInput {
  database: HermesDatabase;
  config: SystemConfig;
  metrics: MetricsRepo;
  bot: () => "running" | "off" | "stopped";
  backends: () => BackendHealthLike[];
  jobs: { countByStatus(): Record<string, number>; running(): ActiveJobLike[] };
  /** Writers that find the database full now. */
  writeFaults?: () => string[];
  startedAt: number;
  now: () => number;
}

/** The system report of /health, /api/system/health, /metrics and the system_health rows. */
export function systemHealthSource(s: SystemReportInput): () => SystemHealthReport {
  const dbPath = s.database.path;
  return () =>
    collectSystemHealth({
      databaseUsable: () => databaseIsUsable(s.database),
      bot: s.bot,
      backends: s.backends,
      queue: () => s.jobs.countByStatus(),
      queueLimit: () => s.config.get("hermes.web.max_queued_jobs"),
      activeJobs: () => s.jobs.running(),
      databaseBytes: () => s.metrics.databaseBytes(),
      databaseMaxMb: () => s.config.get("hermes.db.max_size_mb"),
      ...(s.writeFaults ? { writeFaults: s.writeFaults } : {}),
      dataDir: dbPath === ":memory:" ? process.cwd() : dirname(resolve(dbPath)),
      startedAt: s.startedAt,
      now: s.now,
    });
}
