import { type ServerType, serve } from "@hono/node-server";
import type { Hono } from "hono";
import type { HermesBot } from "../../bot/bot.ts";
import type { Engine } from "../engine/engine.ts";
import type { ApiEnv } from "../http/envelope.ts";
import { startIdleMemoryRelease } from "../ops/idle-memory.ts";
import type { Operations } from "../ops/operations.ts";
import type { Dispatcher } from "../queue/scheduler/scheduler.ts";
import { startIdleCheckpoints } from "../store/database.ts";
import { backRef } from "./back-ref.ts";
import { type BackendsPart, createBackends } from "./backends.ts";
import { createConversation } from "./conversation.ts";
import { createDelivery, type DeliveryPart } from "./delivery.ts";
import { type Foundation, openFoundation } from "./foundation.ts";
import { createHttp } from "./http.ts";
import { createJobs, type JobsPart } from "./jobs.ts";
import { createOps } from "./ops.ts";
import type { Hermes, HermesOptions } from "./options.ts";
import { logReachability } from "./startup-report.ts";
import { createTelegram, startTelegram } from "./telegram.ts";

export type { Hermes, HermesOptions } from "./options.ts";

/**
 * The composition root: the only place that wires Hermes together, for `npm start`, `npm run chat`,
 * the tests and the benchmarks alike. Parts are built in dependency order; the two back-references
 * (the scheduler runs jobs through the Engine, a recovered backend wakes the queue) go through
 * explicit ports. Nothing runs until start().
 */
export async function createHermes(options: HermesOptions): Promise<Hermes> {
  const f = await openFoundation(options);
  const runJob = backRef<Dispatcher>("the job dispatcher");
  const wakeQueue = backRef<() => void>("the queue");
  const backendsPart = createBackends(f, options, () => wakeQueue.get()());
  const { backends } = backendsPart;
  const jobs = createJobs(f, options, backends, (ctx) => runJob.get()(ctx));
  jobs.jobs.rideAlong(backendsPart.writes);
  wakeQueue.connect(() => jobs.queue.backendRecovered());
  const conversation = createConversation(f, options, jobs, backends, backendsPart.writes);
  runJob.connect(options.dispatch ?? ((ctx) => conversation.engine.dispatch(ctx)));
  const bot = options.telegram === false ? undefined : await createTelegram(f, conversation);
  const delivery = createDelivery(f, options, conversation.engine);
  const botState = (): "running" | "off" | "stopped" =>
    !bot ? "off" : bot.isRunning() ? "running" : "stopped";
  const { system, ops, metrics } = createOps(f, options, {
    jobs: jobs.jobs,
    backends,
    bot: botState,
    writes: backendsPart.writes,
  });
  const http = createHttp(
    f,
    {
      conversation,
      jobs,
      backends,
      delivery,
      metrics,
      system,
      bot: botState,
    },
    options.api,
  );
  const engine = conversation.engine;
  const lifecycle = createLifecycle({
    f,
    options,
    backendsPart,
    jobs,
    engine,
    delivery,
    ops,
    app: http.app,
    bot,
  });
  const { env, clock, log, database, config, notifier } = f;
  return {
    ...{ env, clock, log, database, config, notifier, backends, ops, bot },
    ...jobs,
    ...conversation,
    ...http,
    callbacks: delivery.callbacks,
    get httpPort() {
      return lifecycle.httpPort();
    },
    start: lifecycle.start,
    stop: lifecycle.stop,
  };
}

/** The longest stop() waits for Telegram to take messages already on their way. */
const DELIVERY_GRACE_MS = 3000;

interface Parts {
  f: Foundation;
  options: HermesOptions;
  backendsPart: BackendsPart;
  jobs: JobsPart;
  engine: Engine;
  delivery: DeliveryPart;
  ops: Operations;
  app: Hono<ApiEnv>;
  bot: HermesBot | undefined;
}

/**
 * start(): HTTP and operations (unless http is false), the job runner, then Telegram.
 * stop(), once: intake (bot polling, HTTP), then work (running jobs, health checks), then delivery
 * (Telegram, callbacks) and operations, then the database.
 */
function createLifecycle(p: Parts) {
  const { f, options, jobs, backendsPart, delivery, ops, bot } = p;
  const serving = options.http !== false;
  let server: ServerType | undefined;
  let checkpoints: { stop(): void } | undefined;
  let memory: { stop(): void } | undefined;
  let stopping: Promise<void> | undefined;
  const start = async () => {
    if (serving) {
      server = await listen(p.app.fetch, f.env.HERMES_HTTP_HOST, f.env.HERMES_HTTP_PORT);
      f.log.info(
        { url: `http://${f.env.HERMES_HTTP_HOST}:${portOf(server)}`, health: "/health" },
        "HTTP server listening",
      );
      startOperations(p);
    }
    const isIdle = () => jobs.scheduler.runningCount() === 0;
    checkpoints = startIdleCheckpoints(f.database, { clock: f.clock, isIdle });
    // The server's memory after a burst of ideas; the terminal chat's process is short-lived.
    if (serving) memory = startIdleMemoryRelease({ clock: f.clock, isIdle });
    jobs.scheduler.start();
    reportBackends(f, backendsPart);
    f.log.info({}, "job runner started");
    await startTelegram(f, bot);
  };
  const stopInOrder = async () => {
    f.log.info({}, "stopping: no new work is taken");
    // Intake: no new updates (those being handled finish) and no new requests.
    await bot?.stopIntake().catch(() => {});
    const s = server;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
    // Work: running jobs get the grace period; their drafts are recorded (and owed) and relayed.
    backendsPart.backends.stop();
    await jobs.scheduler.stop(options.stopGraceMs ?? 10_000);
    await p.engine.settled();
    // Delivery: what is being sent gets a short wait (work's grace plus this stays under pm2's
    // kill_timeout of 15 s); what is not sent by then stays owed and goes at the next start.
    await bot?.stop(Math.min(options.stopGraceMs ?? 10_000, DELIVERY_GRACE_MS)).catch(() => {});
    delivery.unsubscribe();
    await delivery.callbacks.stop();
    await ops.stop();
    backendsPart.writes.flush();
    checkpoints?.stop();
    memory?.stop();
    backendsPart.close();
    await f.database.close();
    f.log.info({}, "stopped cleanly");
    f.logFiles?.close();
  };
  return {
    start,
    stop: () => {
      stopping ??= stopInOrder();
      return stopping;
    },
    httpPort: () => (server ? portOf(server) : 0),
  };
}

/** Result callbacks, backups, health rows and the pid file belong to the server, not to the terminal chat. */
function startOperations({ f, delivery, ops }: Parts): void {
  ops.start();
  delivery.callbacks.start();
  if (!f.env.HERMES_ADMIN_TOKEN)
    f.log.warn(
      {},
      "The HTTP API is OFF: HERMES_ADMIN_TOKEN is not set (only /health answers). Set it (16+ characters) and restart to use /api/* and /metrics.",
    );
}

/** Health checks start; what the first round found is said when it is in (with the fix). */
function reportBackends(f: Foundation, { backends }: BackendsPart): void {
  void backends.startHealthChecks().then(() => logReachability(f.log, backends.status()));
}

function portOf(server: ServerType): number {
  const address = server.address();
  return typeof address === "object" && address ? address.port : 0;
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
