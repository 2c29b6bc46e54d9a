import { randomUUID } from "node:crypto";
import { ManualClock } from "../../src/clock.ts";
import { SystemConfig } from "../../src/config/system-config.ts";
import { ConversationFlow, type ConversationFlowDeps } from "../../src/engine/conversation/flow.ts";
import { PromptLibrary } from "../../src/engine/prompts.ts";
import { quickAnalyze } from "../../src/learning/quick-analysis.ts";
import { mulberry32 } from "../../src/learning/random.ts";
import { QueueEvents } from "../../src/queue/events.ts";
import { JobQueue } from "../../src/queue/job-queue.ts";
import {
  type DispatchContext,
  type DispatchOutcome,
  Scheduler,
} from "../../src/queue/scheduler/scheduler.ts";
import type { HermesDatabase } from "../../src/store/database.ts";
import { type Job, JobsRepo } from "../../src/store/jobs/repo.ts";
import { ConfigAuditRepo } from "../../src/store/system/config-audit-repo.ts";
import { ConfigRepo } from "../../src/store/system/config-repo.ts";
import { ThreadsRepo } from "../../src/store/threads/repo.ts";
import { memoryDb } from "../helpers/memory-db.ts";

/**
 * A conversation flow over an in-memory database, a manual clock and a real queue whose scheduler
 * is NOT started unless asked (so drafts stay queued: "draft 1 has not finished").
 */
export async function flowHarness(
  opts: { seed?: number; config?: Record<string, string>; flow?: Partial<ConversationFlowDeps> } = {},
) {
  const database: HermesDatabase = await memoryDb();
  const clock = new ManualClock();
  const config = await SystemConfig.load(
    new ConfigRepo(database.db),
    new ConfigAuditRepo(database.sqlite),
    () => clock.now(),
  );
  for (const [k, v] of Object.entries(opts.config ?? {})) await config.set(k, v, "test", { force: true });
  const repo = new JobsRepo(database.sqlite);
  const events = new QueueEvents((e) => {
    throw e;
  });
  let dispatch: (ctx: DispatchContext) => Promise<DispatchOutcome> = async (ctx) => ({
    text: `echo of job ${ctx.job.id}`,
    summary: "echo",
    backend: "fake",
    model: "echo",
    costCents: 0,
    executionMs: 1,
  });
  const scheduler = new Scheduler({
    repo,
    events,
    clock,
    owner: "test",
    capacity: () => 4,
    retrySettings: () => ({ baseDelayMs: 1000, maxDelayMs: 60_000, maxRetryDurationMs: 3_600_000 }),
    dispatch: (ctx) => dispatch(ctx),
    random: () => 0.5,
  });
  const queue = new JobQueue({ repo, scheduler, events, clock, maxQueuedJobs: () => 10_000 });
  const threads = new ThreadsRepo(database.db);
  const prompts = new PromptLibrary();
  const makeFlow = (seed = opts.seed ?? 1) =>
    new ConversationFlow({
      db: database.db,
      queue,
      config,
      clock,
      random: mulberry32(seed),
      prompts,
      ...opts.flow,
    });
  const flow = makeFlow();

  /** What Engine.submitIdea does: a thread and draft 1, queued. */
  async function submit(text: string, userId = "u1"): Promise<{ threadId: number; draft1: Job }> {
    const analysis = quickAnalyze(text);
    const now = new Date(clock.now()).toISOString();
    const thread = await threads.create({
      uuid: randomUUID(),
      title: analysis.title,
      originalRequest: text,
      ideaType: analysis.ideaType,
      complexity: analysis.complexity,
      priority: 5,
      initialClarity: analysis.clarity,
      userId,
      chatId: null,
      source: "cli",
      now,
    });
    const draft1 = queue.enqueue({
      threadId: thread.id,
      jobSequence: 1,
      jobType: analysis.ideaType,
      jobSubtype: "draft",
      priority: 5,
      promptTemplate: "draft",
      promptVariables: { idea: text, idea_type: analysis.ideaType },
      userId,
    });
    return { threadId: thread.id, draft1 };
  }

  return {
    database,
    db: database.db,
    sqlite: database.sqlite,
    clock,
    config,
    queue,
    scheduler,
    events,
    flow,
    makeFlow,
    submit,
    setDispatch(d: (ctx: DispatchContext) => Promise<DispatchOutcome>) {
      dispatch = d;
    },
    job(id: number): Job {
      const j = repo.get(id);
      if (!j) throw new Error(`no job ${id}`);
      return j;
    },
    async settle(rounds = 20) {
      for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
    },
    async close() {
      await scheduler.stop(0);
      await database.close();
    },
  };
}
