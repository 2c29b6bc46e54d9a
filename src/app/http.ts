import type { Hono } from "hono";
import type { BackendManager } from "../backends/manager/manager.ts";
import { createHttpApp } from "../http/app.ts";
import type { ApiDeps } from "../http/deps.ts";
import type { ApiEnv } from "../http/envelope.ts";
import { renderMetrics } from "../ops/metrics.ts";
import type { SystemHealthReport } from "../ops/system-health.ts";
import { databaseIsUsable } from "../store/database.ts";
import type { MetricsRepo } from "../store/system/metrics-repo.ts";
import type { ConversationPart } from "./conversation.ts";
import type { DeliveryPart } from "./delivery.ts";
import type { Foundation } from "./foundation.ts";
import type { JobsPart } from "./jobs.ts";

export interface HttpPart {
  api: ApiDeps;
  app: Hono<ApiEnv>;
}

export interface HttpInput {
  conversation: ConversationPart;
  jobs: JobsPart;
  backends: BackendManager;
  delivery: DeliveryPart;
  metrics: MetricsRepo;
  system: () => SystemHealthReport;
  bot: () => "running" | "off" | "stopped";
}

/** The HTTP app (health, admin and external API, metrics) over Hermes' parts. */
export function createHttp(f: Foundation, input: HttpInput, decorate?: (deps: ApiDeps) => ApiDeps): HttpPart {
  const { database, config, clock, log, env } = f;
  const { conversation, backends } = input;
  const now = () => clock.now();
  const production: ApiDeps = {
    adminToken: env.HERMES_ADMIN_TOKEN,
    config,
    now,
    log,
    threads: conversation.threadService,
    learning: conversation.flow,
    slots: () => backends.totalSlots(),
    backendAdmin: backends,
    callbackSecret: input.delivery.secret,
    callbackReplay: input.delivery.replay,
    callbackTargets: input.delivery.targets,
    system: input.system,
    metrics: () =>
      renderMetrics({
        snapshot: () => input.metrics.snapshot(clock.now()),
        backends: () => backends.status(),
        health: input.system,
        dailyBudgetCents: () => config.get("hermes.budget.daily_budget_cents"),
        ideaAnalyses: () => conversation.understanding.snapshot(),
        typedJudges: () => conversation.typedJudge.snapshot(),
        draftAssumptions: () => conversation.draftAssumptions.snapshot(),
      }),
    secrets: [
      env.HERMES_ADMIN_TOKEN,
      env.TELEGRAM_BOT_TOKEN,
      env.TALOS_TOKEN,
      env.OPENROUTER_API_KEY,
      env.OPENAI_API_KEY,
      env.HERMES_TRANSCRIBE_API_KEY,
    ],
  };
  const api = decorate ? decorate(production) : production;
  const app = createHttpApp({
    databaseUsable: () => databaseIsUsable(database),
    bot: input.bot,
    backends: () => backends.status(),
    queue: () => input.jobs.jobs.countByStatus(),
    storageFull: () => f.storage.isFull(),
    startedAt: f.startedAt,
    now,
    api,
  });
  return { api, app };
}
