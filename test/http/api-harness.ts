import type { Hermes } from "../../src/app/hermes.ts";
import { ManualClock } from "../../src/clock.ts";
import type { ConversationPort } from "../../src/engine/conversation/types.ts";
import type { IdeasPort } from "../../src/engine/threads/records.ts";
import type { ApiDeps, LearningPort } from "../../src/http/deps.ts";
import type { questionFromPort } from "../../src/http/routes/views.ts";
import type { LookupAll } from "../../src/outbox/callback-target.ts";
import type { DispatchContext, DispatchOutcome } from "../../src/queue/scheduler/scheduler.ts";
import { ExternalCallbacksRepo } from "../../src/store/system/external-callbacks-repo.ts";
import { type LogLine, recordingLogger, testHermes } from "../helpers/test-hermes.ts";

export type { LogLine } from "../helpers/test-hermes.ts";

export const TOKEN = "test-admin-token-0123456789";
/** hermes.api.callback_secret in the harness (a credential of its own, not the admin token). */
export const CALLBACK_SECRET = "test-callback-secret-0123456789";

/** DNS of the harness: public documentation hosts resolve publicly, anything else is unknown. */
const PUBLIC_HOSTS: Record<string, string> = {
  "example.com": "93.184.215.14",
  "hooks.example.org": "2606:2800:21f:cb07:6820:80da:af6b:8b2c",
};
const fakeLookup: LookupAll = async (host) => {
  const address = PUBLIC_HOSTS[host];
  if (!address) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: "ENOTFOUND" });
  return [{ address, family: address.includes(":") ? 6 : 4 }];
};

type ApiQuestion = ReturnType<typeof questionFromPort>;

export interface HarnessOptions {
  adminToken?: string | null;
  /** Replaces the real ConversationFlow behind the API (for tests about the port itself). */
  conversation?: ConversationPort;
  learning?: LearningPort;
  /** Replaces the Engine's submit path behind the thread service. */
  ideas?: IdeasPort;
  rateLimiting?: boolean;
  fetch?: typeof fetch;
  /** hermes.api.callback_secret; null leaves it unset (callbacks off). */
  callbackSecret?: string | null;
  /** DNS for callback URL checks (default: a fixed table, see fakeLookup). */
  lookup?: LookupAll;
  overrides?: Partial<ApiDeps>;
  /** A database file to open instead of a fresh in-memory one (the history bench's big file). */
  dbPath?: string;
}

/**
 * The HTTP API of a Hermes built by createHermes, as production builds it: an in-memory database,
 * a manual clock, a fake (healthy) Ollama, and jobs run by a scripted dispatcher; requests go
 * straight to the Hono app (no listener). The options decorate the API's ports for fault injection.
 */
export async function apiHarness(opts: HarnessOptions = {}) {
  const logs: LogLine[] = [];
  let behaviour = async (ctx: DispatchContext): Promise<DispatchOutcome> => ({
    text: `# Draft for job ${ctx.job.id}\n\nHere is a useful first draft.\n\nWith a second paragraph.`,
    summary: `Here is a useful first draft (job ${ctx.job.id}).`,
    backend: "fake",
    model: "fake-model",
    costCents: 3,
    executionMs: 1200,
  });
  const configChanged: string[] = [];
  const adminToken = opts.adminToken === null ? undefined : (opts.adminToken ?? TOKEN);
  const { hermes } = await testHermes({
    clock: new ManualClock(Date.UTC(2026, 0, 15, 12, 0, 0)),
    env: {
      ...(adminToken ? { HERMES_ADMIN_TOKEN: adminToken } : {}),
      ...(opts.dbPath ? { HERMES_DB_PATH: opts.dbPath } : {}),
    },
    logger: recordingLogger(logs),
    config: {
      "hermes.debug.api_rate_limiting": opts.rateLimiting ? "true" : "false",
      "hermes.web.ideas_per_minute": "1000",
      // The learners' randomness from a fixed seed: a test's run repeats exactly.
      "hermes.learning.random_seed": "1",
      ...(opts.callbackSecret === null
        ? {}
        : { "hermes.api.callback_secret": opts.callbackSecret ?? CALLBACK_SECRET }),
    },
    callbackLookup: opts.lookup ?? fakeLookup,
    dispatch: (ctx) => behaviour(ctx),
    fetch: opts.fetch,
    threadPorts: {
      ...(opts.ideas ? { ideas: opts.ideas } : {}),
      ...(opts.conversation ? { conversation: opts.conversation } : {}),
    },
    api: (deps) => ({
      ...deps,
      ...(opts.learning ? { learning: opts.learning } : {}),
      ...opts.overrides,
    }),
  });
  // The fake Ollama answers its health check: the backend is "healthy", as a running Hermes sees it.
  await hermes.backends.checkHealth();
  const { app, database, clock } = hermes;
  hermes.config.onChange((change) => configChanged.push(change.key));
  const unusable = unusableDatabase(hermes);

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
    return res.json.data as {
      thread_id: string;
      short_id: string;
      job_id: number;
      questions: ApiQuestion[];
      /** What was assumed from earlier conversations (each correctable by its slot). */
      assumptions: { slot: string; label: string; value: string; text: string }[];
    };
  }

  /** Runs queued jobs to completion (the scheduler runs on the manual clock). */
  async function runJobs() {
    hermes.scheduler.start();
    hermes.scheduler.wake();
    await settle();
  }

  return {
    hermes,
    app,
    api: hermes.api,
    database,
    clock: clock as ManualClock,
    config: hermes.config,
    engine: hermes.engine,
    queue: hermes.queue,
    scheduler: hermes.scheduler,
    jobsRepo: hermes.jobs,
    threads: hermes.threads,
    threadService: hermes.threadService,
    /** The thread by uuid or prefix, as the API's admin sees it. */
    threadByRef: (ref: string) => hermes.threadService.find({ userId: "api:test", role: "admin" }, ref),
    dispatcher: hermes.callbacks,
    callbacksRepo: new ExternalCallbacksRepo(database.sqlite),
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
      unusable.set(!v);
    },
    async close() {
      unusable.set(false);
      await hermes.stop();
    },
  };
}

/** Makes the database fail its liveness probe (SELECT 1), as a corrupt or locked file would. */
function unusableDatabase(hermes: Hermes) {
  const { sqlite } = hermes.database;
  const prepare = sqlite.prepare.bind(sqlite);
  return {
    set(broken: boolean) {
      sqlite.prepare = broken
        ? ((() => {
            throw new Error("SQLITE_CORRUPT: database disk image is malformed");
          }) as typeof sqlite.prepare)
        : prepare;
    },
  };
}

export type ApiHarness = Awaited<ReturnType<typeof apiHarness>>;
