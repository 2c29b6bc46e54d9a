import { type ServerType, serve } from "@hono/node-server";
import type { HermesBot } from "../bot/bot.ts";
import { BackendManager } from "./backends/manager/manager.ts";
import { buildBackends, createBackend, secretFor } from "./backends/registry/registry.ts";
import { type Clock, systemClock } from "./clock.ts";
import { type Env, EnvError, parseEnv } from "./config/env.ts";
import { SystemConfig } from "./config/system-config.ts";
import { ConversationFlow } from "./engine/conversation/flow.ts";
import { Engine } from "./engine/engine.ts";
import { PromptLibrary } from "./engine/prompts.ts";
import { RateLimiter } from "./engine/rate-limiter.ts";
import { ThreadService } from "./engine/threads/service.ts";
import { createHttpStack } from "./http/stack.ts";
import { mulberry32 } from "./learning/random.ts";
import { createLogger, type Logger } from "./log.ts";
import { Notifier } from "./notify/notifier.ts";
import { createLogFileDestination } from "./ops/log-files.ts";
import { QueueEvents } from "./queue/events.ts";
import { JobQueue } from "./queue/job-queue.ts";
import { ownerId, Scheduler } from "./queue/scheduler/scheduler.ts";
import { BudgetRepo } from "./store/backends/budget-repo.ts";
import { BackendsRepo } from "./store/backends/repo.ts";
import { SelectionHistoryRepo } from "./store/backends/selection-history-repo.ts";
import { type HermesDatabase, openDatabase, startIdleCheckpoints } from "./store/database.ts";
import { JobsRepo } from "./store/jobs/repo.ts";
import { AlertLogRepo } from "./store/system/alert-log-repo.ts";
import { ConfigAuditRepo } from "./store/system/config-audit-repo.ts";
import { ConfigRepo } from "./store/system/config-repo.ts";
import { KvRepo } from "./store/system/kv-repo.ts";
import { ThreadsRepo } from "./store/threads/repo.ts";
import { TelegramMessagesRepo } from "./store/threads/telegram-messages-repo.ts";
import { UserDataRepo } from "./store/threads/user-data-repo.ts";
import { WriteBatch } from "./store/write-batch.ts";

/**
 * The composition root: the only place that wires adapters together. `startHermes` is what
 * `npm start` runs and what end-to-end tests start in-process with fakes around it.
 */
export interface StartOptions {
  env: Env;
  clock?: Clock;
  logger?: Logger;
  /** Grace period for running jobs on stop before they are put back in the queue. */
  stopGraceMs?: number;
  /** Which transports to run (the terminal chat runs neither). Default: both. */
  http?: boolean;
  telegram?: boolean;
  /** Randomness of question exploration; a seeded generator makes tests repeatable. */
  random?: () => number;
}

export interface HermesHandle {
  engine: Engine;
  threadService: ThreadService;
  database: HermesDatabase;
  config: SystemConfig;
  backends: BackendManager;
  queue: JobQueue;
  bot: HermesBot | undefined;
  httpPort: number;
  log: Logger;
  notifier: Notifier;
  stop(): Promise<void>;
}

export async function startHermes(options: StartOptions): Promise<HermesHandle> {
  const { env } = options;
  const clock = options.clock ?? systemClock;
  const startedAt = clock.now();
  // Daily log files beside stdout when HERMES_LOG_DIR is set; retention follows the config once loaded.
  let logRetentionDays = () => 30;
  const logFiles =
    !options.logger && env.HERMES_LOG_DIR
      ? createLogFileDestination({ dir: env.HERMES_LOG_DIR, retentionDays: () => logRetentionDays() })
      : undefined;
  const log =
    options.logger ??
    createLogger({
      destination: logFiles,
      level: env.HERMES_LOG_LEVEL,
      secrets: [
        env.TELEGRAM_BOT_TOKEN,
        env.HERMES_ADMIN_TOKEN,
        env.TALOS_TOKEN,
        env.OPENROUTER_API_KEY,
        env.OPENAI_API_KEY,
      ],
    });
  const iso = () => new Date(clock.now()).toISOString();
  let closing = false;

  const database = await openDatabase({ path: env.HERMES_DB_PATH, synchronous: env.HERMES_DB_SYNCHRONOUS });
  log.info({ path: env.HERMES_DB_PATH, synchronous: env.HERMES_DB_SYNCHRONOUS }, "database ready");
  const config = await SystemConfig.load(
    new ConfigRepo(database.db),
    new ConfigAuditRepo(database.sqlite),
    () => clock.now(),
  );
  logRetentionDays = () => config.number("hermes.logs.cloud_retention_days");

  const notifier = new Notifier({
    log: new AlertLogRepo(database.sqlite),
    clock,
    enabledTypes: () => config.strings("hermes.notifications.alert_types"),
    cooldownMinutes: () => config.number("hermes.notifications.cooldown_minutes"),
    logger: log,
  });

  // Backend statistics and selection history are written once per event-loop turn (one commit);
  // budget reservations never are — they are checked and written in one transaction each.
  const writes = new WriteBatch(database.sqlite, (err) =>
    log.error({ err: String(err) }, "backend stats write failed"),
  );
  const backendsRepo = new BackendsRepo(database.sqlite, writes);
  const selectionHistory = new SelectionHistoryRepo(database.sqlite, iso, writes);
  const events = new QueueEvents((err, event) =>
    log.error(
      { err: err instanceof Error ? err.message : String(err), jobId: event.job.id },
      "queue listener failed",
    ),
  );
  let queue: JobQueue | undefined;
  const backends = new BackendManager({
    clock,
    config,
    // Reports that land after stop() began (a health check in flight) are dropped, not written to a closed database.
    stats: {
      recordHealth: (name, h) => {
        if (!closing) backendsRepo.recordHealth(name, h, iso());
      },
      recordCall: (c) => {
        if (!closing) backendsRepo.recordCall(c, iso());
      },
    },
    onRecovered: (name) => {
      log.info({ backend: name }, "backend recovered; waiting jobs go now");
      queue?.backendRecovered();
    },
    scores: { scores: () => backendsRepo.scores() },
    history: {
      record: (e) => {
        if (!closing) selectionHistory.record(e);
      },
    },
    budget: new BudgetRepo(database.sqlite, iso),
    registry: {
      saveDefinition: (d) => backendsRepo.saveDefinition({ ...d }, iso()),
      saveEnabled: (name, enabled) => backendsRepo.setEnabled(name, enabled, iso()),
    },
    factory: (def) => createBackend(def, secretFor(def, env)),
    onBudgetAlert: (level, spent, limit) => {
      if (config.bool("hermes.budget.budget_alerts")) {
        void notifier.alert(
          "budget",
          String(level),
          `Spent ${spent}¢ of today's ${limit}¢ budget (${level}%).`,
        );
      }
    },
    onUnhealthy: (name, error) => {
      const kind = backends.status().find((b) => b.name === name)?.kind;
      void notifier.alert(
        kind === "talos" ? "talos_down" : "backend_down",
        name,
        `${name} stopped answering: ${error}\nJobs wait in the queue and run when it is back.`,
      );
    },
  });
  // Backends from config + environment (Ollama, Talos, OpenRouter, OpenAI, self-hosted), plus
  // those added at runtime and kept in the backends table.
  const { backends: built, skipped } = buildBackends({ config, env, rows: backendsRepo.rows() });
  for (const { definition, backend } of built) {
    backends.registerDefinition(definition, backend);
    backendsRepo.saveDefinition({ ...definition }, iso());
  }
  for (const s of skipped) log.info(s, "backend not configured");

  // The durable queue and its scheduler; the engine is the dispatcher.
  const jobsRepo = new JobsRepo(database.sqlite);
  let engine: Engine | undefined;
  const threads = new ThreadsRepo(database.db);
  const scheduler = new Scheduler({
    repo: jobsRepo,
    events,
    clock,
    owner: ownerId(),
    capacity: () => backends.totalSlots(),
    groupCommit: true,
    retrySettings: () => ({
      baseDelayMs: 1000,
      maxDelayMs: config.number("talos.execution.retry_interval") * 1000,
      maxRetryDurationMs: config.number("hermes.talos.max_retry_duration") * 1000,
    }),
    dispatch: (ctx) => {
      if (!engine) throw new Error("engine not ready");
      return engine.dispatch(ctx);
    },
    log,
  });
  const checkpoints = startIdleCheckpoints(database, { isIdle: () => scheduler.runningCount() === 0 });
  queue = new JobQueue({
    repo: jobsRepo,
    scheduler,
    events,
    clock,
    maxQueuedJobs: () => config.number("hermes.web.max_queued_jobs"),
    onQueueFull: (active, limit) =>
      void notifier.alert(
        "queue_full",
        "queue",
        `The queue is full (${active} of ${limit}); new ideas are refused until it drains.`,
      ),
  });
  const messageLinks = new TelegramMessagesRepo(database.sqlite);
  const prompts = new PromptLibrary();
  // Questions, answers, draft 2, feedback and everything learned from them.
  const flow = new ConversationFlow({
    db: database.db,
    queue,
    config,
    clock,
    random: options.random ?? mulberry32(clock.now() >>> 0),
    prompts,
  });
  engine = new Engine({
    threads,
    queue,
    queueEvents: events,
    backends,
    config,
    prompts,
    conversation: flow,
    insights: flow,
    clock,
    rateLimiter: new RateLimiter(
      () => config.number("hermes.web.ideas_per_minute"),
      60_000,
      () => clock.now(),
    ),
    log,
  });
  const threadService = new ThreadService({
    db: database.db,
    threads,
    queue,
    config,
    clock,
    ideas: engine,
    conversation: flow,
    messageLinks,
    userData: new UserDataRepo(database.sqlite),
  });
  events.subscribe((e) => {
    const base = { jobId: e.job.id, threadId: e.job.thread_id };
    if (e.type === "completed")
      log.info({ ...base, backend: e.job.backend_used, model: e.job.model_used }, "job completed");
    else if (e.type === "failed") {
      log.warn({ ...base, error: e.error }, "job failed");
      if (e.error.code !== "CANCELLED") {
        void notifier.alert(
          "job_failure",
          `thread-${e.job.thread_id}`,
          `Job ${e.job.id} failed: ${e.error.message}`,
        );
      }
    } else if (e.type === "retrying")
      log.info({ ...base, retry: e.retryCount, error: e.error.code }, "job retrying");
  });

  // Telegram, when configured.
  let bot: HermesBot | undefined;
  if (options.telegram === false) {
    // The caller drives the engine itself (terminal chat).
  } else if (env.TELEGRAM_BOT_TOKEN) {
    // Loaded only when there is a bot to run: grammY is the largest dependency at idle.
    const { createBot } = await import("../bot/bot.ts");
    bot = createBot({
      token: env.TELEGRAM_BOT_TOKEN,
      apiRoot: env.TELEGRAM_API_ROOT,
      ownerIds: env.HERMES_OWNER_IDS,
      engine,
      threads: threadService,
      config,
      log,
      conversationStore: new KvRepo(database.sqlite),
    });
    const b = bot;
    notifier.connect((text) => b.notifyOwners(text));
    if (env.HERMES_OWNER_IDS.length === 0) {
      log.warn({}, "HERMES_OWNER_IDS is empty: the bot will refuse everyone. Add your Telegram user id.");
    }
  } else {
    log.warn(
      {},
      "Telegram bot is OFF: TELEGRAM_BOT_TOKEN is not set. HTTP and the job runner run anyway. " +
        "To turn the bot on, create a bot with @BotFather, then set TELEGRAM_BOT_TOKEN and HERMES_OWNER_IDS and restart.",
    );
  }

  // HTTP: health, admin and external API, metrics; plus callbacks, backups and health rows.
  const httpStack = createHttpStack({
    adminToken: env.HERMES_ADMIN_TOKEN,
    secrets: [env.TELEGRAM_BOT_TOKEN, env.TALOS_TOKEN, env.OPENROUTER_API_KEY, env.OPENAI_API_KEY],
    database,
    config,
    clock,
    log,
    engine,
    threads,
    queue,
    jobs: jobsRepo,
    backends: {
      status: () => backends.status(),
      totalSlots: () => backends.totalSlots(),
      upsert: (change) => backends.upsert(change),
      setEnabled: (name, enabled) => backends.setEnabled(name, enabled),
    },
    bot: () => (!bot ? "off" : bot.isRunning() ? "running" : "stopped"),
    startedAt,
    conversation: flow,
    learning: flow,
    onDatabaseOversize: (size) =>
      void notifier.alert(
        "database_size",
        "database",
        `The database is ${Math.round(size.bytes / 1e6)} MB, past hermes.db.max_size_mb (${Math.round(size.limitBytes / 1e6)} MB). Export and /forget old data, or raise the limit.`,
      ),
  });
  const server =
    options.http === false
      ? undefined
      : await listen(httpStack.app.fetch, env.HERMES_HTTP_HOST, env.HERMES_HTTP_PORT);
  const address = server?.address();
  const httpPort = typeof address === "object" && address ? address.port : 0;
  if (server)
    log.info(
      { url: `http://${env.HERMES_HTTP_HOST}:${httpPort}`, health: "/health" },
      "HTTP server listening",
    );

  // Backups and the health-row writer belong to the server, not to the terminal chat's database.
  if (options.http !== false) httpStack.start();
  scheduler.start();
  backends.startHealthChecks();
  log.info({ backends: backends.names() }, "job runner started");

  if (bot) {
    try {
      await bot.start();
      log.info({ owners: env.HERMES_OWNER_IDS.length }, "Telegram bot polling");
    } catch (error) {
      log.error(
        { err: error instanceof Error ? error.message : String(error) },
        "Telegram bot could not start (check TELEGRAM_BOT_TOKEN / TELEGRAM_API_ROOT); HTTP and the job runner keep running",
      );
    }
  }

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      log.info({}, "stopping: no new work is taken");
      await bot?.stop().catch(() => {});
      if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
      backends.stop();
      await scheduler.stop(options.stopGraceMs ?? 10_000);
      await httpStack.stop();
      writes.flush();
      checkpoints.stop();
      closing = true;
      await database.close();
      log.info({}, "stopped cleanly");
      logFiles?.close();
    })();
    return stopping;
  };

  return { engine, threadService, database, config, backends, queue, bot, httpPort, log, notifier, stop };
}

function listen(
  fetch: Parameters<typeof serve>[0]["fetch"],
  hostname: string,
  port: number,
): Promise<ServerType> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch, hostname, port }, () => resolve(server));
    server.once("error", reject);
  });
}

async function main(): Promise<void> {
  let env: Env;
  try {
    env = parseEnv();
  } catch (error) {
    if (error instanceof EnvError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  let handle: HermesHandle;
  try {
    handle = await startHermes({ env });
  } catch (error) {
    process.stderr.write(
      `Hermes could not start: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exit(1);
  }
  const shutdown = (signal: string) => {
    handle.log.info({ signal }, "signal received");
    handle.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        handle.log.error({ err: error instanceof Error ? error.message : String(error) }, "unclean stop");
        process.exit(1);
      },
    );
  };
  process.once("SIGTERM", () => shutdown("SIGTERM"));
  process.once("SIGINT", () => shutdown("SIGINT"));
}

if (process.argv[1] && import.meta.filename === process.argv[1]) await main();
