import { createHermes } from "../src/app/hermes.ts";
import type { Backend } from "../src/backends/backend.ts";
import { ManualClock } from "../src/clock.ts";
import { parseEnv } from "../src/config/env.ts";
import type { ConversationFlowDeps } from "../src/engine/conversation/flow.ts";
import type { QuestionView } from "../src/engine/conversation/types.ts";
import { PromptLibrary } from "../src/engine/prompts.ts";
import type { Understanding } from "../src/engine/understanding/schema.ts";
import { type QuestionPolicy, VALUE_FLOOR } from "../src/learning/question-selector.ts";
import { quickAnalyze, SLOTS } from "../src/learning/quick-analysis.ts";
import { mulberry32 } from "../src/learning/random.ts";
import { createLogger } from "../src/log.ts";
import type { Dispatcher } from "../src/queue/scheduler/scheduler.ts";
import { openDatabase } from "../src/store/database.ts";
import { type QuestionTemplate, TemplatesRepo } from "../src/store/learning/templates-repo.ts";
import { coverageOf, type Episode, rating, respond, type World } from "./questions-world.ts";
import { median } from "./stats.ts";

/**
 * One question policy over a list of simulated conversations: Hermes as createHermes builds it
 * (the production ConversationFlow and JobQueue) on an in-memory database, whose jobs run on a fake
 * backend that echoes the prompt. Also the per-conversation score and its summary.
 */

export const FLOW_SEED = 7;
/** The exchange rate of the production value floor: seconds of the user's time worth full coverage. */
export const SECONDS_PER_POINT = 1 / VALUE_FLOOR;

export interface Result {
  coverage: number;
  coverage1: number;
  questions: number;
  seconds: number;
  /** Questions answered by tapping an offered answer (instead of typing it). */
  taps: number;
}

export async function loadTemplates(): Promise<QuestionTemplate[]> {
  const db = await openDatabase({ path: ":memory:" });
  const templates = await new TemplatesRepo(db.db).active();
  await db.close();
  return templates;
}

export interface Setup {
  policy?: QuestionPolicy;
  learningEnabled?: boolean;
  perUser?: boolean;
  /** Only for the optional frontier sweep (QUESTIONS_FLOORS); production uses VALUE_FLOOR. */
  valueFloor?: number;
  /**
   * A simulated model answering the idea analysis (issue 15): for each slot it offers three likely
   * answers that hold the user's true answer with this probability (else three other answers).
   */
  modelHit?: number;
}

/** The simulated model of Setup.modelHit, for the episode being run. */
function simulatedUnderstanding(e: Episode, world: World, hit: number): Understanding {
  const random = mulberry32(90_000 + e.index);
  const slots = {} as Understanding["slots"];
  for (const slot of SLOTS) {
    const others = world.vocab[slot].filter((v) => v.toLowerCase() !== e.hidden[slot].toLowerCase());
    const picks: string[] = [];
    while (picks.length < 3 && others.length > 0)
      picks.push(...others.splice(Math.floor(random() * others.length), 1));
    if (random() < hit) picks[Math.floor(random() * picks.length)] = e.hidden[slot];
    // says/missing left empty: the simulation isolates what the worded answers change.
    slots[slot] = { says: "", missing: "", question: `What about the ${slot}?`, answers: picks };
  }
  return { idea_type: e.type, complexity: 3, title: e.text.slice(0, 40), topic: "this idea", slots };
}

/** The fake backend: echoes the rendered prompt (no model, no network). */
function echoDispatcher(prompts: PromptLibrary): Dispatcher {
  return async (ctx) => {
    const vars = (ctx.job.prompt_variables ?? {}) as Record<string, string>;
    const text = prompts.render(ctx.job.prompt_template_used ?? "draft", vars);
    return { text, summary: text.slice(0, 80), backend: "echo", model: "echo", costCents: 0, executionMs: 1 };
  };
}

/** Ollama's place in the registry, always healthy; jobs go to the echo dispatcher instead. */
const idleOllama = (name: string): Backend => ({
  name,
  kind: "ollama",
  local: true,
  run: async () => ({ text: "", model: "echo", usage: { inputTokens: 0, outputTokens: 0 }, latencyMs: 0 }),
  health: async () => ({ status: "healthy", latencyMs: 0 }),
  models: async () => [],
});

export async function benchHermes(
  setup: Setup,
  env: Record<string, string> = {},
  understand?: ConversationFlowDeps["understand"],
) {
  return createHermes({
    env: parseEnv({ HERMES_DB_PATH: ":memory:", ...env }),
    clock: new ManualClock(Date.UTC(2026, 0, 1)),
    logger: createLogger({ level: "silent", secrets: [] }),
    http: false,
    telegram: false,
    jitter: () => 0.5,
    stopGraceMs: 0,
    config: {
      "backend.ollama.concurrency": "8",
      "hermes.web.max_queued_jobs": "1000000",
      // The learners' randomness from configuration, as production would repeat a run.
      "hermes.learning.random_seed": String(FLOW_SEED),
      ...(setup.learningEnabled === false ? { "hermes.learning.enabled": "false" } : {}),
    },
    questions: {
      ...(setup.policy ? { policy: setup.policy } : {}),
      ...(setup.perUser === false ? { perUser: false } : {}),
      ...(setup.valueFloor !== undefined ? { valueFloor: setup.valueFloor } : {}),
      understand,
    },
    backendFactories: { ollama: (def) => idleOllama(def.name) },
    dispatch: echoDispatcher(new PromptLibrary()),
  });
}

/** A thread and its draft 1, queued, as Engine.submitIdea makes them (the bench drives the flow itself). */
export async function startBenchThread(
  hermes: Awaited<ReturnType<typeof benchHermes>>,
  uuid: string,
  text: string,
  userId: string,
) {
  const analysis = quickAnalyze(text);
  const thread = await hermes.threads.create({
    uuid,
    title: analysis.title,
    originalRequest: text,
    ideaType: analysis.ideaType,
    complexity: analysis.complexity,
    priority: 5,
    initialClarity: analysis.clarity,
    userId,
    chatId: null,
    source: "cli",
    now: new Date(hermes.clock.now()).toISOString(),
  });
  const draft1 = hermes.queue.enqueue({
    threadId: thread.id,
    jobSequence: 1,
    jobType: analysis.ideaType,
    jobSubtype: "draft",
    priority: 5,
    promptTemplate: "draft",
    promptVariables: { idea: text, idea_type: analysis.ideaType },
    userId,
  });
  return { thread, draft1 };
}

export async function runPolicy(episodes: readonly Episode[], world: World, setup: Setup): Promise<Result[]> {
  let current: Episode | undefined;
  const hit = setup.modelHit;
  const understand =
    hit === undefined
      ? async () => undefined
      : async () => (current ? simulatedUnderstanding(current, world, hit) : undefined);
  const hermes = await benchHermes(setup, {}, understand);
  await hermes.start();
  const { database, flow, jobs: repo } = hermes;
  const clock = hermes.clock as ManualClock;
  const results: Result[] = [];
  for (const e of episodes) {
    current = e;
    clock.advance(60_000);
    const { thread, draft1 } = await startBenchThread(hermes, `bench-${e.index}`, e.text, e.user.id);
    let question: QuestionView | undefined = await flow.start(thread.id, e.user.id);
    let refinedJobId: number | undefined;
    let questions = 0;
    let seconds = 0;
    let taps = 0;
    while (question) {
      questions++;
      const { input, spent } = respond(e, question, world);
      seconds += spent;
      if (input.kind === "suggestion") taps++;
      clock.advance(Math.round(spent * 1000));
      const out = await flow.answer(thread.id, question.id, input, e.user.id);
      question = out.next;
      refinedJobId = out.refinedJobId ?? refinedJobId;
    }
    // A refined draft may also come from pre-filled slots alone (no question asked).
    refinedJobId ??= (
      database.sqlite
        .prepare("SELECT id FROM jobs WHERE thread_id = ? AND job_subtype = 'refine'")
        .get(thread.id) as { id: number } | undefined
    )?.id;
    const final = refinedJobId !== undefined ? repo.get(refinedJobId) : undefined;
    const coverage1 = coverageOf(e, draft1.prompt_variables);
    const coverage = final ? coverageOf(e, final.prompt_variables) : coverage1;
    await flow.feedback(thread.id, draft1.id, { rating: rating(coverage1, e.noise[0]) }, e.user.id);
    if (final) {
      await flow.feedback(thread.id, final.id, { rating: rating(coverage, e.noise[1]) }, e.user.id);
      if (e.user.length && e.adjust < 0.1)
        await flow.feedback(
          thread.id,
          final.id,
          { adjust: e.user.length === "concise" ? "shorter" : "more_detail" },
          e.user.id,
        );
    }
    results.push({ coverage, coverage1, questions, seconds, taps });
  }
  await hermes.stop();
  return results;
}

export interface Summary {
  coverage: number;
  gain: number;
  questions: number;
  medianQuestions: number;
  seconds: number;
  taps: number;
  utility: number;
}

export function summarise(rs: readonly Result[], baseline?: readonly Result[]): Summary {
  const mean = (f: (r: Result) => number) => rs.reduce((s, r) => s + f(r), 0) / Math.max(1, rs.length);
  const coverage = mean((r) => r.coverage);
  const base = baseline
    ? baseline.reduce((s, r) => s + r.coverage, 0) / Math.max(1, baseline.length)
    : coverage;
  const seconds = mean((r) => r.seconds);
  return {
    coverage,
    gain: coverage - base,
    questions: mean((r) => r.questions),
    medianQuestions: median(rs.map((r) => r.questions)),
    seconds,
    taps: mean((r) => r.taps),
    utility: coverage - seconds / SECONDS_PER_POINT,
  };
}

export const pct = (x: number) => `${(x * 100).toFixed(1)}`;
