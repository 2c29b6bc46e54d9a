import type { Hono } from "hono";
import type { HermesBot } from "../../bot/bot.ts";
import type { BackendManager } from "../backends/manager/manager.ts";
import type { BackendFactories } from "../backends/registry/registry.ts";
import type { Clock } from "../clock.ts";
import type { Env } from "../config/env.ts";
import type { SystemConfig } from "../config/system-config.ts";
import type { ConversationFlow, ConversationFlowDeps } from "../engine/conversation/flow.ts";
import type { Engine } from "../engine/engine.ts";
import type { ThreadServiceDeps } from "../engine/threads/records.ts";
import type { ThreadService } from "../engine/threads/service.ts";
import type { UnderstandingCounters } from "../engine/understanding/understand.ts";
import type { ApiDeps } from "../http/deps.ts";
import type { ApiEnv } from "../http/envelope.ts";
import type { Logger } from "../log.ts";
import type { Notifier } from "../notify/notifier.ts";
import type { Operations } from "../ops/operations.ts";
import type { LookupAll } from "../outbox/callback-target.ts";
import type { CallbackDispatcher } from "../outbox/external-callbacks.ts";
import type { QueueEvents } from "../queue/events.ts";
import type { JobQueue } from "../queue/job-queue.ts";
import type { Dispatcher, Scheduler } from "../queue/scheduler/scheduler.ts";
import type { HermesDatabase } from "../store/database.ts";
import type { JobsRepo } from "../store/jobs/repo.ts";
import type { ThreadsRepo } from "../store/threads/repo.ts";

/**
 * What createHermes takes. Everything from outside the process is validated before it gets here:
 * the environment by parseEnv (config/env.ts), settings by SystemConfig.set. The rest are the
 * seams tests and benchmarks use — the same wiring as production, with a fake at the edge.
 */
export interface HermesOptions {
  /** Parsed and validated environment (parseEnv): database path, port, tokens, Telegram API root. */
  env: Env;
  clock?: Clock;
  /** Replaces the logger built from HERMES_LOG_LEVEL / HERMES_LOG_DIR. */
  logger?: Logger;
  /** Randomness of question exploration; a seeded generator makes tests repeatable. */
  random?: () => number;
  /** Question-policy experiments (benchmarks, tests); production leaves them unset. */
  questions?: Pick<ConversationFlowDeps, "policy" | "perUser" | "valueFloor" | "understand">;
  /**
   * Commit a burst of job claims and completions together, once per event-loop turn (default
   * true); false commits each on its own. The scheduler's tests run both.
   */
  groupCommit?: boolean;
  /** Randomness of retry jitter (default Math.random). */
  jitter?: () => number;
  /** Settings applied (forced, as by an operator) right after the config loads, before anything reads them. */
  config?: Record<string, string>;
  /** Grace period for running jobs on stop before they are put back in the queue. */
  stopGraceMs?: number;
  /** Serve HTTP on HERMES_HTTP_PORT and run operations (backups, health rows, pid file, callbacks). Default true. */
  http?: boolean;
  /** Run the Telegram bot when TELEGRAM_BOT_TOKEN is set. Default true. */
  telegram?: boolean;
  /** Fake backends built through the real registry (by provider). */
  backendFactories?: BackendFactories;
  /** A scripted executor instead of the Engine's (tests of the queue and API, the benchmarks). */
  dispatch?: Dispatcher;
  /** Replaces the thread service's ports (fault injection in tests: a failing submit path, a spy flow). */
  threadPorts?: Partial<Pick<ThreadServiceDeps, "ideas" | "conversation">>;
  /** Decorates the HTTP API's ports (fault injection in tests: a failing port, a spy). */
  api?: (deps: ApiDeps) => ApiDeps;
  /** fetch of the external result callbacks. */
  fetch?: typeof fetch;
  /** DNS of the callback URL checks (tests: a fixed table; default: the system resolver). */
  callbackLookup?: LookupAll;
  /** Interval of the system_health row (default 60 s). */
  healthIntervalMs?: number;
}

/** A wired Hermes: nothing runs until start(); stop() undoes start() in order and closes the database. */
export interface Hermes {
  env: Env;
  clock: Clock;
  log: Logger;
  database: HermesDatabase;
  config: SystemConfig;
  notifier: Notifier;
  backends: BackendManager;
  events: QueueEvents;
  jobs: JobsRepo;
  scheduler: Scheduler;
  queue: JobQueue;
  threads: ThreadsRepo;
  flow: ConversationFlow;
  engine: Engine;
  threadService: ThreadService;
  /** Outcomes of the model-assisted analyses of ideas and of typed-text judgements (/metrics). */
  understanding: UnderstandingCounters;
  typedJudge: UnderstandingCounters;
  draftAssumptions: UnderstandingCounters;
  callbacks: CallbackDispatcher;
  ops: Operations;
  api: ApiDeps;
  app: Hono<ApiEnv>;
  bot: HermesBot | undefined;
  /** The port HTTP listens on once started (0 when it does not listen). */
  readonly httpPort: number;
  start(): Promise<void>;
  stop(): Promise<void>;
}
