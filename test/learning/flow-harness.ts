import type { HermesOptions } from "../../src/app/options.ts";
import { ConversationFlow } from "../../src/engine/conversation/flow.ts";
import { PromptLibrary } from "../../src/engine/prompts.ts";
import { quickAnalyze } from "../../src/learning/quick-analysis.ts";
import { mulberry32 } from "../../src/learning/random.ts";
import type { DispatchContext, DispatchOutcome } from "../../src/queue/scheduler/scheduler.ts";
import type { Job } from "../../src/store/jobs/repo.ts";
import { testHermes } from "../helpers/test-hermes.ts";

/**
 * The conversation flow of a Hermes built by createHermes (in-memory database, manual clock, a
 * scripted dispatcher) whose job runner is NOT started unless asked (so drafts stay queued:
 * "draft 1 has not finished").
 */
export async function flowHarness(
  opts: { seed?: number; config?: Record<string, string>; flow?: HermesOptions["questions"] } = {},
) {
  let dispatch: (ctx: DispatchContext) => Promise<DispatchOutcome> = async (ctx) => ({
    text: `echo of job ${ctx.job.id}`,
    summary: "echo",
    backend: "fake",
    model: "echo",
    costCents: 0,
    executionMs: 1,
  });
  const { hermes, clock } = await testHermes({
    config: { "backend.ollama.concurrency": "4", "hermes.web.max_queued_jobs": "10000", ...opts.config },
    random: mulberry32(opts.seed ?? 1),
    ...(opts.flow ? { questions: opts.flow } : {}),
    dispatch: (ctx) => dispatch(ctx),
  });
  const { database, config, queue, scheduler, events, threads, flow } = hermes;
  /** A second flow over the same database and queue, as after a restart (with its own seed). */
  const makeFlow = (seed = opts.seed ?? 1) =>
    new ConversationFlow({
      db: database.db,
      sqlite: database.sqlite,
      queue,
      config,
      clock,
      random: mulberry32(seed),
      prompts: new PromptLibrary(),
      ...opts.flow,
    });

  // Ids from the seed, not random: a thread's question order is drawn from its id (order-arms.ts),
  // so random ids would make a seeded run differ from the last.
  let made = 0;
  const nextUuid = () =>
    `00000000-0000-4000-8000-${String(opts.seed ?? 1).padStart(4, "0")}${String(++made).padStart(8, "0")}`;

  /** What Engine.submitIdea does: a thread and draft 1, queued. */
  async function submit(text: string, userId = "u1"): Promise<{ threadId: number; draft1: Job }> {
    const analysis = quickAnalyze(text);
    const now = new Date(clock.now()).toISOString();
    const thread = await threads.create({
      uuid: nextUuid(),
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
      const j = hermes.jobs.get(id);
      if (!j) throw new Error(`no job ${id}`);
      return j;
    },
    async settle(rounds = 20) {
      for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
    },
    async close() {
      await hermes.stop();
    },
  };
}
