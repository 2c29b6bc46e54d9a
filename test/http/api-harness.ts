import { BackendManager } from "../../src/backends/manager/manager.ts";
import { ManualClock } from "../../src/clock.ts";
import { SystemConfig } from "../../src/config/system-config.ts";
import { ConversationFlow } from "../../src/engine/conversation/flow.ts";
import type { ConversationPort } from "../../src/engine/conversation/types.ts";
import { Engine } from "../../src/engine/engine.ts";
import { PromptLibrary } from "../../src/engine/prompts.ts";
import { RateLimiter } from "../../src/engine/rate-limiter.ts";
import { type IdeasPort, ThreadService } from "../../src/engine/threads/service.ts";
import { createHttpApp } from "../../src/http/app.ts";
import type { ApiDeps, LearningPort } from "../../src/http/deps.ts";
import type { questionFromPort } from "../../src/http/routes/views.ts";
import { callbackSecret } from "../../src/http/signature.ts";
import { mulberry32 } from "../../src/learning/random.ts";
import { renderMetrics } from "../../src/ops/metrics.ts";
import { collectSystemHealth } from "../../src/ops/system-health.ts";
import { CallbackDispatcher } from "../../src/outbox/external-callbacks.ts";
import { QueueEvents } from "../../src/queue/events.ts";
import { JobQueue } from "../../src/queue/job-queue.ts";
import {
  type DispatchContext,
  type DispatchOutcome,
  Scheduler,
} from "../../src/queue/scheduler/scheduler.ts";
import { databaseIsUsable, type HermesDatabase } from "../../src/store/database.ts";
import { JobsRepo } from "../../src/store/jobs/repo.ts";
import { ConfigAuditRepo } from "../../src/store/system/config-audit-repo.ts";
import { ConfigRepo } from "../../src/store/system/config-repo.ts";
import { ExternalCallbacksRepo } from "../../src/store/system/external-callbacks-repo.ts";
import { MetricsRepo } from "../../src/store/system/metrics-repo.ts";
import { ThreadsRepo } from "../../src/store/threads/repo.ts";
import { memoryDb } from "../helpers/memory-db.ts";

export const TOKEN = "test-admin-token-0123456789";

type ApiQuestion = ReturnType<typeof questionFromPort>;

export interface LogLine {
  level: "info" | "warn" | "error";
  obj: object;
  msg: string;
}

export interface HarnessOptions {
  adminToken?: string | null;
  /** Replaces the real ConversationFlow (for tests about the port itself). */
  conversation?: ConversationPort;
  learning?: LearningPort;
  /** Replaces the Engine's submit path behind the thread service. */
  ideas?: IdeasPort;
  rateLimiting?: boolean;
  fetch?: typeof fetch;
  overrides?: Partial<ApiDeps>;
  /** A database to use instead of a fresh in-memory one (the history bench's big file). */
  database?: HermesDatabase;
}

/**
 * The HTTP API over real parts: an in-memory migrated database, the real Engine, ConversationFlow,
 * JobQueue and Scheduler (with a scripted dispatcher and a manual clock), SystemConfig,
 * ThreadService, the callback dispatcher and the metrics/health collectors — the same wiring
 * main.ts does.
 */
export async function apiHarness(opts: HarnessOptions = {}) {
  const database = opts.database ?? (await memoryDb());
  const clock = new ManualClock(Date.UTC(2026, 0, 15, 12, 0, 0));
  const startedAt = clock.now();
  const config = await SystemConfig.load(new ConfigRepo(database.db), () => clock.now());
  await config.set("hermes.debug.api_rate_limiting", opts.rateLimiting ? "true" : "false", "test", {
    force: true,
  });
  const logs: LogLine[] = [];
  const log = {
    info: (obj: object, msg: string) => logs.push({ level: "info", obj, msg }),
    warn: (obj: object, msg: string) => logs.push({ level: "warn", obj, msg }),
    error: (obj: object, msg: string) => logs.push({ level: "error", obj, msg }),
  };
  const events = new QueueEvents((e) => {
    throw e;
  });
  const jobsRepo = new JobsRepo(database.sqlite);
  let behaviour = async (ctx: DispatchContext): Promise<DispatchOutcome> => ({
    text: `# Draft for job ${ctx.job.id}\n\nHere is a useful first draft.\n\nWith a second paragraph.`,
    summary: `Here is a useful first draft (job ${ctx.job.id}).`,
    backend: "fake",
    model: "fake-model",
    costCents: 3,
    executionMs: 1200,
  });
  const scheduler = new Scheduler({
    repo: jobsRepo,
    events,
    clock,
    owner: "test",
    capacity: () => 1,
    retrySettings: () => ({ baseDelayMs: 1000, maxDelayMs: 60_000, maxRetryDurationMs: 3_600_000 }),
    dispatch: (ctx) => behaviour(ctx),
    random: () => 0.5,
  });
  const queue = new JobQueue({
    repo: jobsRepo,
    scheduler,
    events,
    clock,
    maxQueuedJobs: () => config.number("hermes.web.max_queued_jobs"),
  });
  const backends = new BackendManager({ clock, healthIntervalMs: () => 60_000, localFirst: () => true });
  const threads = new ThreadsRepo(database.db);
  const prompts = new PromptLibrary();
  // As in main.ts; a fixed seed keeps the questions asked the same from run to run.
  const flow = new ConversationFlow({
    db: database.db,
    queue,
    config,
    clock,
    random: mulberry32(1),
    prompts,
  });
  const conversation = opts.conversation ?? flow;
  const engine = new Engine({
    threads,
    queue,
    queueEvents: events,
    backends,
    config,
    prompts,
    clock,
    rateLimiter: new RateLimiter(
      () => 1000,
      60_000,
      () => clock.now(),
    ),
    log,
    conversation,
    insights: flow,
  });
  const threadService = new ThreadService({
    db: database.db,
    threads,
    queue,
    config,
    clock,
    ideas: opts.ideas ?? engine,
    conversation,
  });
  const adminToken = opts.adminToken === null ? undefined : (opts.adminToken ?? TOKEN);
  const secret = () => callbackSecret(config.string("hermes.api.callback_secret"), adminToken);
  const callbacksRepo = new ExternalCallbacksRepo(database.sqlite);
  const dispatcher = new CallbackDispatcher({
    repo: callbacksRepo,
    clock,
    secret,
    maxAttempts: () => config.number("hermes.api.callback_max_attempts"),
    log,
    baseDelayMs: 1000,
    maxDelayMs: 60_000,
    timeoutMs: 2000,
    fetch: opts.fetch,
  });
  engine.onEvent(dispatcher.onThreadEvent);
  const metricsRepo = new MetricsRepo(database.sqlite);
  let dbUsable = true;
  const backendStatus = () =>
    [
      {
        name: "fake",
        kind: "ollama",
        health: "healthy",
        location: "http://127.0.0.1:11434",
        latencyMs: 12,
        running: 0,
        concurrency: 1,
      },
    ] as const;
  const system = () =>
    collectSystemHealth({
      databaseUsable: () => dbUsable && databaseIsUsable(database),
      bot: () => "off",
      backends: () => [...backendStatus()],
      queue: () => jobsRepo.countByStatus(),
      queueLimit: () => config.number("hermes.web.max_queued_jobs"),
      activeJobs: () => jobsRepo.running(),
      databaseBytes: () => metricsRepo.databaseBytes(),
      databaseMaxMb: () => config.number("hermes.db.max_size_mb"),
      dataDir: process.cwd(),
      startedAt,
      now: () => clock.now(),
    });
  const configChanged: string[][] = [];
  const api: ApiDeps = {
    adminToken,
    config,
    now: () => clock.now(),
    log,
    threads: threadService,
    learning: opts.learning,
    slots: () => 1,
    callbackSecret: secret,
    system,
    metrics: () =>
      renderMetrics({
        snapshot: () => metricsRepo.snapshot(clock.now()),
        backends: () => [...backendStatus()],
        health: system,
        dailyBudgetCents: () => config.number("hermes.budget.daily_budget_cents"),
      }),
    configAudit: new ConfigAuditRepo(database.sqlite),
    onConfigChanged: (keys) => configChanged.push(keys),
    secrets: [adminToken],
    ...opts.overrides,
  };
  const app = createHttpApp({
    databaseUsable: () => dbUsable && databaseIsUsable(database),
    bot: () => "off",
    backends: () => [...backendStatus()],
    queue: () => jobsRepo.countByStatus(),
    startedAt,
    now: () => clock.now(),
    api,
  });

  const settle = async (rounds = 30) => {
    for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
  };

  async function call(
    method: string,
    path: string,
    init: {
      json?: unknown;
      raw?: string;
      token?: string | null;
      headers?: Record<string, string>;
      remote?: string;
    } = {},
  ) {
    const headers: Record<string, string> = { ...init.headers };
    const token = init.token === undefined ? TOKEN : init.token;
    if (token !== null) headers.Authorization = `Bearer ${token}`;
    let body: string | undefined;
    if (init.json !== undefined) body = JSON.stringify(init.json);
    if (init.raw !== undefined) body = init.raw;
    if (body !== undefined) headers["Content-Type"] ??= "application/json";
    const res = await app.request(
      path,
      { method, headers, body },
      init.remote ? { incoming: { socket: { remoteAddress: init.remote } } } : undefined,
    );
    const text = await res.text();
    // biome-ignore lint/suspicious/noExplicitAny: tests read response bodies freely
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, text, json };
  }

  /** Submits an idea through the API and returns its thread uuid. */
  async function submit(idea = "Write a short blog post about keeping bees in a city garden") {
    const res = await call("POST", "/api/submit", { json: { idea } });
    if (res.status !== 202) throw new Error(`submit failed: ${res.status} ${res.text}`);
    // questions: the flow's first question (at most one), in the API's shape.
    return res.json.data as { thread_id: string; short_id: string; job_id: number; questions: ApiQuestion[] };
  }

  /** Runs queued jobs to completion (the scheduler runs on the manual clock). */
  async function runJobs() {
    scheduler.start();
    scheduler.wake();
    await settle();
  }

  return {
    app,
    api,
    database,
    clock,
    config,
    engine,
    queue,
    scheduler,
    jobsRepo,
    threads,
    threadService,
    /** The thread by uuid or prefix, as the API's admin sees it. */
    threadByRef: (ref: string) => threadService.find({ userId: "api:test", role: "admin" }, ref),
    dispatcher,
    callbacksRepo,
    logs,
    configChanged,
    call,
    submit,
    runJobs,
    settle,
    setBehaviour(b: typeof behaviour) {
      behaviour = b;
    },
    setDatabaseUsable(v: boolean) {
      dbUsable = v;
    },
    async close() {
      await dispatcher.stop();
      await scheduler.stop(0);
      await database.close();
    },
  };
}

export type ApiHarness = Awaited<ReturnType<typeof apiHarness>>;
