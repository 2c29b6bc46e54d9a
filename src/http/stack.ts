import { dirname, resolve } from "node:path";
import type { Hono } from "hono";
import { CALLBACK_ALLOWED_HOSTS_KEY } from "../../migrations/009_callback_guards.ts";
import type { Clock } from "../clock.ts";
import type { SystemConfig } from "../config/system-config.ts";
import type { ConversationPort } from "../engine/conversation/types.ts";
import type { EngineEvent } from "../engine/engine.ts";
import { ThreadQueries, type ThreadQueuePort } from "../engine/threads/queries.ts";
import { BackupScheduler, type SizeCheck } from "../ops/backup.ts";
import { HealthRecorder, renderMetrics } from "../ops/metrics.ts";
import { removePidFile, writePidFile } from "../ops/pid-file.ts";
import { type ActiveJobLike, type BackendHealthLike, collectSystemHealth } from "../ops/system-health.ts";
import { CallbackTargetPolicy } from "../outbox/callback-target.ts";
import { CallbackDispatcher } from "../outbox/external-callbacks.ts";
import { databaseIsUsable, type HermesDatabase } from "../store/database.ts";
import { CallbackReplayRepo } from "../store/system/callback-replay-repo.ts";
import { ConfigAuditRepo } from "../store/system/config-audit-repo.ts";
import { ExternalCallbacksRepo } from "../store/system/external-callbacks-repo.ts";
import { SystemHealthRepo } from "../store/system/health-repo.ts";
import { MetricsRepo } from "../store/system/metrics-repo.ts";
import type { ThreadsRepo } from "../store/threads/repo.ts";
import { createHttpApp } from "./app.ts";
import type { ApiDeps, ApiLog, BackendAdminPort, IdeasPort, LearningPort } from "./deps.ts";
import type { ApiEnv } from "./envelope.ts";
import { callbackSecret } from "./signature.ts";

/**
 * The HTTP API with what runs beside it — result callbacks, scheduled backups, the periodic
 * system_health row, the pid file — assembled from Hermes' parts, so main.ts wires it in a few
 * lines: `createHttpStack({...})`, `stack.start()` after the scheduler starts, `await
 * stack.stop()` before the database closes.
 */
export interface HttpStackInput {
  /** HERMES_ADMIN_TOKEN, and every secret value to scrub from error texts. */
  adminToken: string | undefined;
  secrets?: (string | undefined)[];
  database: HermesDatabase;
  config: SystemConfig;
  clock: Clock;
  log: ApiLog;
  /** The Engine: submitIdea, and onEvent for callbacks. */
  engine: IdeasPort & { onEvent(listener: (e: EngineEvent) => void | Promise<void>): () => void };
  threads: ThreadsRepo;
  queue: ThreadQueuePort;
  jobs: { countByStatus(): Record<string, number>; running(): ActiveJobLike[] };
  backends: { status(): BackendHealthLike[]; totalSlots(): number } & Partial<BackendAdminPort>;
  bot: () => "running" | "off" | "stopped";
  startedAt: number;
  /** The ConversationFlow: answers, questions and feedback through the API go through it. */
  conversation: ConversationPort;
  learning?: LearningPort | undefined;
  /** For alerts when the database passes hermes.db.max_size_mb (it is logged either way). */
  onDatabaseOversize?: (size: SizeCheck) => void;
  /** Interval of the system_health row (default 60 s). */
  healthIntervalMs?: number;
  fetch?: typeof fetch;
}

export interface HttpStack {
  app: Hono<ApiEnv>;
  api: ApiDeps;
  callbacks: CallbackDispatcher;
  backups: BackupScheduler;
  healthRecorder: HealthRecorder;
  start(): void;
  stop(): Promise<void>;
}

export function createHttpStack(input: HttpStackInput): HttpStack {
  const { database, config, clock, log } = input;
  const num = (key: string, fallback: number) => (config.has(key) ? config.number(key) : fallback);
  const dbPath = database.path;
  const now = () => clock.now();

  const threadQueries = new ThreadQueries({
    db: database.db,
    threads: input.threads,
    queue: input.queue,
    clock,
  });
  const secret = () =>
    callbackSecret(
      config.has("hermes.api.callback_secret") ? config.string("hermes.api.callback_secret") : undefined,
    );
  const callbackTargets = new CallbackTargetPolicy({
    allowedHosts: () =>
      config.has(CALLBACK_ALLOWED_HOSTS_KEY) ? config.strings(CALLBACK_ALLOWED_HOSTS_KEY) : [],
  });
  const callbacks = new CallbackDispatcher({
    targets: callbackTargets,
    repo: new ExternalCallbacksRepo(database.sqlite),
    clock,
    secret,
    maxAttempts: () => num("hermes.api.callback_max_attempts", 8),
    log,
    fetch: input.fetch,
  });
  const backups = new BackupScheduler({
    sqlite: database.sqlite,
    dbPath,
    schedule: () => config.string("hermes.db.backup_schedule"),
    keep: () => num("hermes.db.backup_retention_count", 7),
    maxSizeMb: () => num("hermes.db.max_size_mb", 1000),
    now,
    log,
    onOversize: input.onDatabaseOversize,
  });
  const metricsRepo = new MetricsRepo(database.sqlite);
  const usable = () => databaseIsUsable(database);
  const system = () =>
    collectSystemHealth({
      databaseUsable: usable,
      bot: input.bot,
      backends: () => input.backends.status(),
      queue: () => input.jobs.countByStatus(),
      queueLimit: () => num("hermes.web.max_queued_jobs", 100),
      activeJobs: () => input.jobs.running(),
      databaseBytes: () => metricsRepo.databaseBytes(),
      databaseMaxMb: () => num("hermes.db.max_size_mb", 1000),
      dataDir: dbPath === ":memory:" ? process.cwd() : dirname(resolve(dbPath)),
      startedAt: input.startedAt,
      now,
    });
  const healthRecorder = new HealthRecorder({
    repo: new SystemHealthRepo(database.sqlite),
    collect: system,
    clock,
    intervalMs: input.healthIntervalMs,
    retentionDays: () => num("hermes.logs.cloud_retention_days", 30),
    log,
  });

  const api: ApiDeps = {
    adminToken: input.adminToken,
    config,
    now,
    log,
    ideas: input.engine,
    threads: threadQueries,
    conversation: input.conversation,
    learning: input.learning,
    slots: () => input.backends.totalSlots(),
    backendAdmin:
      input.backends.upsert && input.backends.setEnabled
        ? (input.backends as BackendAdminPort & { status(): BackendHealthLike[] })
        : undefined,
    callbackSecret: secret,
    callbackReplay: new CallbackReplayRepo(database.sqlite),
    callbackTargets,
    system,
    metrics: () =>
      renderMetrics({
        snapshot: () => metricsRepo.snapshot(clock.now()),
        backends: () => input.backends.status(),
        health: system,
        dailyBudgetCents: () => num("hermes.budget.daily_budget_cents", 0),
      }),
    configAudit: new ConfigAuditRepo(database.sqlite),
    onConfigChanged: (keys) => {
      if (keys.includes("hermes.db.backup_schedule")) backups.reschedule();
    },
    secrets: [input.adminToken, ...(input.secrets ?? [])],
  };
  const app = createHttpApp({
    databaseUsable: usable,
    bot: input.bot,
    backends: () => input.backends.status(),
    queue: () => input.jobs.countByStatus(),
    startedAt: input.startedAt,
    now,
    api,
  });

  // Subscribed at once, so no completion is missed before start(); deliveries begin at start().
  const unsubscribe = input.engine.onEvent(callbacks.onThreadEvent);
  let started = false;
  return {
    app,
    api,
    callbacks,
    backups,
    healthRecorder,
    start() {
      if (started) return;
      started = true;
      writePidFile(dbPath, clock.now());
      callbacks.start();
      backups.start();
      healthRecorder.start();
      if (!input.adminToken)
        log.warn(
          {},
          "The HTTP API is OFF: HERMES_ADMIN_TOKEN is not set (only /health answers). Set it (16+ characters) and restart to use /api/* and /metrics.",
        );
    },
    async stop() {
      unsubscribe();
      healthRecorder.stop();
      await callbacks.stop();
      await backups.stop();
      if (started) removePidFile(dbPath);
    },
  };
}
