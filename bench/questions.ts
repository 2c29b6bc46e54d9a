import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { ManualClock } from "../src/clock.ts";
import { SystemConfig } from "../src/config/system-config.ts";
import { ConversationFlow } from "../src/engine/conversation-flow.ts";
import type { AnswerInput, QuestionView } from "../src/engine/conversation-types.ts";
import { PromptLibrary } from "../src/engine/prompts.ts";
import { type QuestionPolicy, VALUE_FLOOR } from "../src/learning/question-selector.ts";
import { type IdeaType, quickAnalyze, SLOTS, type Slot } from "../src/learning/quick-analysis.ts";
import { gamma, mulberry32, normal, pickWeighted, type Random, seedOf } from "../src/learning/random.ts";
import { QueueEvents } from "../src/queue/events.ts";
import { JobQueue } from "../src/queue/job-queue.ts";
import { Scheduler } from "../src/queue/scheduler.ts";
import { ConfigRepo } from "../src/store/config-repo.ts";
import { openDatabase } from "../src/store/database.ts";
import { JobsRepo } from "../src/store/jobs-repo.ts";
import { type QuestionTemplate, TemplatesRepo } from "../src/store/templates-repo.ts";
import { ThreadsRepo } from "../src/store/threads-repo.ts";
import { median, table } from "./stats.ts";

/**
 * Question-policy benchmark: simulated users with a hidden intent talk to the production
 * ConversationFlow (start / answer / feedback) on an in-memory database, through a real JobQueue
 * whose scheduler runs a deterministic fake backend that echoes the prompt.
 *
 * A simulated user has, for each conversation, a hidden value per slot (drawn from per-idea-type
 * distributions, or from the user's own habits), a weight per slot for how much they care, their
 * own seconds per answer per slot (shorter when they can tap a suggestion, longer when they type),
 * and a "don't know" rate per slot. Some ideas state a slot in their text. They answer truthfully,
 * rate draft 1 and draft 2 by how much of what they care about each reflects (1 + 4 × coverage,
 * rounded, with noise), and now and then ask for a shorter / more detailed version.
 *
 * Score per conversation: coverage = care-weighted share of hidden slot values found in the final
 * draft's prompt variables (draft 2's, or draft 1's when there is none); questions asked; user
 * seconds spent answering. Utility = coverage − seconds / 100 (the exchange rate the learner's value
 * floor uses: a question is worth one point of coverage per second of the user's time).
 *
 * Every policy sees the same users, ideas, hidden values and random draws (fixed seeds).
 */

const CONVERSATIONS = 1_000;
const USERS = 20;
const BLOCK = 50;
const WORLD_SEED = 20_260_101;
const FLOW_SEED = 7;
const TEXT_MENTION_RATE = 0.12;
/** The exchange rate of the production value floor: seconds of the user's time worth full coverage. */
const SECONDS_PER_POINT = 1 / VALUE_FLOOR;

const TYPES: readonly IdeaType[] = ["research", "creation", "analysis", "decision", "mixed"];
const TYPE_SHARE = [0.25, 0.3, 0.15, 0.2, 0.1];

/** What people with each kind of idea care about (hidden from Hermes; its prior is the clarity weights). */
const CARE: Record<IdeaType, Record<Slot, number>> = {
  research: { intent: 0.3, constraints: 0.05, success: 0.2, context: 0.1, scope: 0.35 },
  creation: { intent: 0.25, constraints: 0.25, success: 0.05, context: 0.35, scope: 0.1 },
  analysis: { intent: 0.3, constraints: 0.1, success: 0.35, context: 0.2, scope: 0.05 },
  decision: { intent: 0.15, constraints: 0.4, success: 0.3, context: 0.1, scope: 0.05 },
  mixed: { intent: 0.25, constraints: 0.2, success: 0.2, context: 0.15, scope: 0.2 },
};

/** How often people cannot say (before the user's and the question's own factors). */
const DONT_KNOW: Record<IdeaType, Record<Slot, number>> = {
  research: { intent: 0.1, constraints: 0.25, success: 0.3, context: 0.05, scope: 0.1 },
  creation: { intent: 0.1, constraints: 0.15, success: 0.35, context: 0.05, scope: 0.15 },
  analysis: { intent: 0.15, constraints: 0.2, success: 0.15, context: 0.05, scope: 0.2 },
  decision: { intent: 0.1, constraints: 0.1, success: 0.2, context: 0.1, scope: 0.3 },
  mixed: { intent: 0.15, constraints: 0.2, success: 0.25, context: 0.1, scope: 0.2 },
};

/** Seconds a typical person takes to answer, per slot. */
const BASE_SECONDS: Record<Slot, number> = { intent: 10, constraints: 8, success: 9, context: 6, scope: 6 };
/** How often a person's answer is their usual one (a habit), per slot. */
const HABIT: Record<Slot, number> = {
  intent: 0.15,
  constraints: 0.45,
  success: 0.3,
  context: 0.85,
  scope: 0.55,
};

const FREE_TEXT: Record<Slot, readonly string[]> = {
  intent: ["get my manager to sign off", "finally stop procrastinating on it", "impress the hiring panel"],
  constraints: [
    "under 300 dollars",
    "only open-source tools",
    "must work offline",
    "by the end of the month",
  ],
  success: ["three paying customers", "a grade of at least B", "the family agrees on it"],
  context: ["for my book club", "for a small nonprofit", "for my landlord"],
  scope: ["only the Berlin part", "just the first chapter", "the next two weeks"],
};
const NOT_VALUES = /^(neither|nothing|not sure yet|both|as long as it takes)$/i;

const TOPICS: Record<IdeaType, readonly string[]> = {
  research: ["battery recycling", "the history of jazz", "heat pumps for old houses", "sleep and memory"],
  creation: [
    "a newsletter for the neighbourhood",
    "a birthday speech",
    "a landing page for a bakery",
    "a podcast intro",
  ],
  analysis: [
    "our churn numbers",
    "my monthly spending",
    "last quarter's support tickets",
    "the survey results",
  ],
  decision: [
    "a new laptop or a repair",
    "renting or buying a flat",
    "which CRM to pick",
    "a job offer in Lyon",
  ],
  mixed: ["electric bikes", "a home office setup", "a garden plan", "language learning apps"],
};
const VERBS: Record<IdeaType, readonly string[]> = {
  research: ["Research", "Find out about", "Look into"],
  creation: ["Write", "Draft", "Create"],
  analysis: ["Analyze", "Review", "Evaluate"],
  decision: ["Decide on", "Pick between options for", "Choose"],
  mixed: ["Research and write about", "Compare options and write a plan for"],
};
const MENTION: Record<Slot, (v: string) => string> = {
  intent: (v) => ` Goal: ${v}.`,
  constraints: (v) => ` Must: ${v}.`,
  success: (v) => ` Success: ${v}.`,
  context: (v) => ` Background: ${v}.`,
  scope: (v) => ` Focus on ${v}.`,
};

interface SimUser {
  id: string;
  speed: number;
  seconds: Record<Slot, number>;
  dontKnow: number;
  /** Per-slot factor on the "don't know" rate (1 = typical). */
  slotDontKnow: Record<Slot, number>;
  care: Record<Slot, number>;
  habitRate: Record<Slot, number>;
  /** Habit values: per slot (context) or per slot × type. */
  habit: Map<string, string>;
  length: "concise" | "detailed" | undefined;
}

interface Episode {
  index: number;
  user: SimUser;
  type: IdeaType;
  text: string;
  hidden: Record<Slot, string>;
  care: Record<Slot, number>;
  /** One uniform per slot (coupled across policies). */
  u: Record<Slot, number>;
  noise: [number, number];
  adjust: number;
}

interface World {
  /** Template id → name (the simulator keys its hidden per-template factors by name). */
  names: Map<number, string>;
  vocab: Record<Slot, string[]>;
  dist: Record<IdeaType, Record<Slot, number[]>>;
  templateDk: Map<string, number>;
  templateTime: Map<string, number>;
}

interface Result {
  coverage: number;
  coverage1: number;
  questions: number;
  seconds: number;
  /** Questions answered by tapping an offered answer (instead of typing it). */
  taps: number;
}

async function loadTemplates(): Promise<QuestionTemplate[]> {
  const db = await openDatabase({ path: ":memory:" });
  const templates = await new TemplatesRepo(db.db).active();
  await db.close();
  return templates;
}

function buildWorld(templates: QuestionTemplate[], random: Random): World {
  const vocab = {} as Record<Slot, string[]>;
  for (const slot of SLOTS) {
    const suggested = templates
      .filter((t) => t.category === slot)
      .flatMap((t) => t.suggestions)
      .filter((s) => !NOT_VALUES.test(s));
    vocab[slot] = [...new Set([...suggested, ...FREE_TEXT[slot]])];
  }
  const dist = {} as Record<IdeaType, Record<Slot, number[]>>;
  for (const type of TYPES) {
    dist[type] = {} as Record<Slot, number[]>;
    for (const slot of SLOTS) dist[type][slot] = vocab[slot].map(() => gamma(random, 0.6));
  }
  const templateDk = new Map<string, number>();
  const templateTime = new Map<string, number>();
  for (const t of templates) {
    const r = mulberry32(seedOf(`template:${t.name}`));
    templateDk.set(t.name, Math.exp(normal(r, 0, 0.5)));
    templateTime.set(t.name, Math.exp(normal(r, 0, 0.15)));
  }
  return { names: new Map(templates.map((t) => [t.id, t.name])), vocab, dist, templateDk, templateTime };
}

function makeUser(id: string, random: Random, world: World, overrides: Partial<SimUser> = {}): SimUser {
  const speed = Math.exp(normal(random, 0, 0.35));
  const seconds = {} as Record<Slot, number>;
  const care = {} as Record<Slot, number>;
  const habitRate = {} as Record<Slot, number>;
  const habit = new Map<string, string>();
  for (const slot of SLOTS) {
    seconds[slot] = BASE_SECONDS[slot] * speed * Math.exp(normal(random, 0, 0.2));
    care[slot] = Math.exp(normal(random, 0, 0.35));
    habitRate[slot] = Math.min(0.95, HABIT[slot] * Math.exp(normal(random, 0, 0.2)));
    const words = world.vocab[slot];
    habit.set(slot, words[Math.floor(random() * words.length)] ?? "");
    for (const type of TYPES) {
      const w = world.dist[type][slot];
      habit.set(`${slot}|${type}`, words[pickWeighted(random, w)] ?? "");
    }
  }
  const lengthDraw = random();
  return {
    id,
    speed,
    seconds,
    dontKnow: Math.exp(normal(random, 0, 0.4)),
    slotDontKnow: { intent: 1, constraints: 1, success: 1, context: 1, scope: 1 },
    care,
    habitRate,
    habit,
    length: lengthDraw < 0.3 ? "concise" : lengthDraw < 0.45 ? "detailed" : undefined,
    ...overrides,
  };
}

function makeEpisode(index: number, user: SimUser, world: World, random: Random, type?: IdeaType): Episode {
  const t = type ?? (TYPES[pickWeighted(random, TYPE_SHARE)] as IdeaType);
  const hidden = {} as Record<Slot, string>;
  const care = {} as Record<Slot, number>;
  const u = {} as Record<Slot, number>;
  const topics = TOPICS[t];
  const verbs = VERBS[t];
  let text = `${verbs[Math.floor(random() * verbs.length)]} ${topics[Math.floor(random() * topics.length)]}.`;
  for (const slot of SLOTS) {
    const habitual = random() < user.habitRate[slot];
    const habitKey = slot === "context" ? slot : `${slot}|${t}`;
    hidden[slot] = habitual
      ? (user.habit.get(habitKey) ?? "")
      : (world.vocab[slot][pickWeighted(random, world.dist[t][slot])] ?? "");
    care[slot] = CARE[t][slot] * user.care[slot];
    u[slot] = random();
    if (random() < TEXT_MENTION_RATE) text += MENTION[slot](hidden[slot]);
  }
  return {
    index,
    user,
    type: t,
    text,
    hidden,
    care,
    u,
    noise: [normal(random, 0, 0.3), normal(random, 0, 0.3)],
    adjust: random(),
  };
}

function coverageOf(e: Episode, variables: string | null): number {
  let text = "";
  try {
    text = Object.values(JSON.parse(variables ?? "{}") as Record<string, unknown>)
      .map(String)
      .join("\n")
      .toLowerCase();
  } catch {
    text = "";
  }
  let got = 0;
  let all = 0;
  for (const slot of SLOTS) {
    all += e.care[slot];
    if (text.includes(e.hidden[slot].toLowerCase())) got += e.care[slot];
  }
  return all === 0 ? 0 : got / all;
}

const rating = (coverage: number, noise: number) =>
  Math.max(1, Math.min(5, Math.round(1 + 4 * coverage + noise))) as 1 | 2 | 3 | 4 | 5;

interface Setup {
  policy?: QuestionPolicy;
  learningEnabled?: boolean;
  perUser?: boolean;
  /** Only for the optional frontier sweep (QUESTIONS_FLOORS); production uses VALUE_FLOOR. */
  valueFloor?: number;
}

async function runPolicy(episodes: readonly Episode[], world: World, setup: Setup): Promise<Result[]> {
  const database = await openDatabase({ path: ":memory:" });
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const config = await SystemConfig.load(new ConfigRepo(database.db), () => clock.now());
  if (setup.learningEnabled === false)
    await config.set("hermes.learning.enabled", "false", "bench", { force: true });
  const prompts = new PromptLibrary();
  const repo = new JobsRepo(database.sqlite);
  const events = new QueueEvents();
  const scheduler = new Scheduler({
    repo,
    events,
    clock,
    owner: "bench",
    capacity: () => 8,
    retrySettings: () => ({ baseDelayMs: 1000, maxDelayMs: 60_000, maxRetryDurationMs: 3_600_000 }),
    // The fake backend: echoes the rendered prompt.
    dispatch: async (ctx) => {
      const vars = JSON.parse(ctx.job.prompt_variables ?? "{}") as Record<string, string>;
      const text = prompts.render(ctx.job.prompt_template_used ?? "draft", vars);
      return {
        text,
        summary: text.slice(0, 80),
        backend: "echo",
        model: "echo",
        costCents: 0,
        executionMs: 1,
      };
    },
    random: () => 0.5,
  });
  const queue = new JobQueue({ repo, scheduler, events, clock, maxQueuedJobs: () => 1_000_000 });
  scheduler.start();
  const threads = new ThreadsRepo(database.db);
  const flow = new ConversationFlow({
    db: database.db,
    queue,
    config,
    clock,
    random: mulberry32(FLOW_SEED),
    prompts,
    ...(setup.policy ? { policy: setup.policy } : {}),
    ...(setup.perUser === false ? { perUser: false } : {}),
    ...(setup.valueFloor !== undefined ? { valueFloor: setup.valueFloor } : {}),
  });
  const results: Result[] = [];
  for (const e of episodes) {
    clock.advance(60_000);
    const analysis = quickAnalyze(e.text);
    const thread = await threads.create({
      uuid: `bench-${e.index}`,
      title: analysis.title,
      originalRequest: e.text,
      ideaType: analysis.ideaType,
      complexity: analysis.complexity,
      priority: 5,
      initialClarity: analysis.clarity,
      userId: e.user.id,
      chatId: null,
      source: "cli",
      now: new Date(clock.now()).toISOString(),
    });
    const draft1 = queue.enqueue({
      threadId: thread.id,
      jobSequence: 1,
      jobType: analysis.ideaType,
      jobSubtype: "draft",
      priority: 5,
      promptTemplate: "draft",
      promptVariables: { idea: e.text, idea_type: analysis.ideaType },
      userId: e.user.id,
    });
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
  await scheduler.stop(0);
  await database.close();
  return results;
}

/** The simulated user's reply to one question, and the seconds it took. */
function respond(e: Episode, q: QuestionView, world: World): { input: AnswerInput; spent: number } {
  const slot = q.slot;
  const user = e.user;
  const name = q.templateId === null ? "" : (world.names.get(q.templateId) ?? "");
  const dk = Math.min(
    0.9,
    DONT_KNOW[e.type][slot] * user.dontKnow * user.slotDontKnow[slot] * (world.templateDk.get(name) ?? 1),
  );
  const timeFactor = world.templateTime.get(name) ?? 1;
  if (e.u[slot] < dk) {
    const input: AnswerInput = e.u[slot] < dk / 2 ? { kind: "skip" } : { kind: "text", text: "not sure" };
    return { input, spent: 3 * user.speed };
  }
  const value = e.hidden[slot];
  const index = q.suggestions.findIndex((s) => s.toLowerCase() === value.toLowerCase());
  if (index >= 0)
    return { input: { kind: "suggestion", index }, spent: user.seconds[slot] * 0.6 * timeFactor };
  return { input: { kind: "text", text: value }, spent: user.seconds[slot] * 1.6 * timeFactor };
}

interface Summary {
  coverage: number;
  gain: number;
  questions: number;
  medianQuestions: number;
  seconds: number;
  taps: number;
  utility: number;
}

function summarise(rs: readonly Result[], baseline?: readonly Result[]): Summary {
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

const pct = (x: number) => `${(x * 100).toFixed(1)}`;

export async function run(): Promise<void> {
  const t0 = performance.now();
  const templates = await loadTemplates();
  const random = mulberry32(WORLD_SEED);
  const world = buildWorld(templates, random);
  const users = Array.from({ length: USERS }, (_, i) => makeUser(`sim-${i + 1}`, random, world));
  const episodes = Array.from({ length: CONVERSATIONS }, (_, i) =>
    makeEpisode(i, users[Math.floor(random() * users.length)] as SimUser, world, random),
  );

  const policies: { name: string; setup: Setup }[] = [
    { name: "no questions", setup: { policy: "none" } },
    { name: "ask all five, fixed order (learning off)", setup: { learningEnabled: false } },
    { name: "random", setup: { policy: "random" } },
    { name: "static value ranking", setup: { policy: "static" } },
    { name: "Hermes learning (production)", setup: {} },
  ];
  const results = new Map<string, Result[]>();
  for (const p of policies) results.set(p.name, await runPolicy(episodes, world, p.setup));
  const none = results.get("no questions") ?? [];
  const askAll = results.get("ask all five, fixed order (learning off)") ?? [];
  const stat = results.get("static value ranking") ?? [];
  const hermes = results.get("Hermes learning (production)") ?? [];

  const mainRows = policies.map((p) => {
    const s = summarise(results.get(p.name) ?? [], none);
    return [
      p.name,
      pct(s.coverage),
      `${s.gain >= 0 ? "+" : ""}${pct(s.gain)}`,
      s.questions.toFixed(2),
      String(s.medianQuestions),
      s.seconds.toFixed(1),
      pct(s.taps / Math.max(1e-9, s.questions)),
      s.utility.toFixed(3),
    ];
  });
  const mainTable = table(
    [
      "policy",
      "coverage %",
      "Δ vs none (pts)",
      "questions (mean)",
      "questions (median)",
      "user-seconds",
      "answered by a tap %",
      "utility",
    ],
    mainRows,
  );

  // Learning curve, per block of 50 conversations.
  const curveRows: (string | number)[][] = [];
  for (let start = 0; start < CONVERSATIONS; start += BLOCK) {
    const slice = (rs: Result[]) => rs.slice(start, start + BLOCK);
    const s = summarise(slice(stat));
    const h = summarise(slice(hermes));
    const a = summarise(slice(askAll));
    curveRows.push([
      `${start + 1}–${start + BLOCK}`,
      pct(a.coverage),
      a.seconds.toFixed(1),
      pct(s.coverage),
      s.seconds.toFixed(1),
      s.utility.toFixed(3),
      pct(h.coverage),
      h.seconds.toFixed(1),
      h.questions.toFixed(2),
      pct(h.taps / Math.max(1e-9, h.questions)),
      h.utility.toFixed(3),
    ]);
  }
  const curveTable = table(
    [
      "conversations",
      "ask-all cov %",
      "ask-all s",
      "static cov %",
      "static s",
      "static utility",
      "Hermes cov %",
      "Hermes s",
      "Hermes q",
      "Hermes taps %",
      "Hermes utility",
    ],
    curveRows,
  );

  // Per-user adaptation: a population warms the model up, then one newcomer with their own habits.
  const adaptation = await perUserAdaptation(world, users);

  // Targets.
  const sNone = summarise(none);
  const sAll = summarise(askAll, none);
  const sHermes = summarise(hermes, none);
  const afterWarmup = (rs: Result[]) => summarise(rs.slice(BLOCK));
  const blocksAhead = curveRows.slice(1).filter((r) => Number(r[9]) > Number(r[5])).length;
  const targets = [
    [
      "coverage ≥ +25 pts over no questions, median ≤ 3 questions",
      `${pct(sHermes.coverage - sNone.coverage)} pts, median ${sHermes.medianQuestions}`,
      sHermes.coverage - sNone.coverage >= 0.25 && sHermes.medianQuestions <= 3 ? "met" : "NOT met",
    ],
    [
      "≥ 40 % fewer user-seconds than ask-all at equal or better coverage",
      `${pct(1 - sHermes.seconds / sAll.seconds)} % fewer; coverage ${pct(sHermes.coverage)} vs ${pct(sAll.coverage)}`,
      sHermes.seconds <= 0.6 * sAll.seconds && sHermes.coverage >= sAll.coverage ? "met" : "NOT met",
    ],
    [
      "learning ahead of the static ranking after 50 conversations (utility)",
      `${afterWarmup(hermes).utility.toFixed(3)} vs ${afterWarmup(stat).utility.toFixed(3)} over 51–${CONVERSATIONS}; ahead in ${blocksAhead} of ${curveRows.length - 1} later blocks`,
      afterWarmup(hermes).utility > afterWarmup(stat).utility && blocksAhead === curveRows.length - 1
        ? "met"
        : "NOT met",
    ],
    [
      "per-user adaptation visible after ~20 conversations with one user",
      adaptation.verdictText,
      adaptation.verdict,
    ],
  ];
  const targetTable = table(["target", "measured", "verdict"], targets);
  const seconds = (performance.now() - t0) / 1000;

  const out = [
    `Question policies over ${CONVERSATIONS} simulated conversations (${USERS} users, seeds ${WORLD_SEED}/${FLOW_SEED}).`,
    "Coverage: care-weighted share of the hidden intent found in the final draft's prompt variables.",
    `Utility = coverage − user-seconds / ${SECONDS_PER_POINT}.`,
    "A tap on an offered answer takes 0.6× the user's time for the slot; typing the same answer 1.6×.",
    "",
    mainTable,
    "",
    `Learning curve (mean per block of ${BLOCK} conversations):`,
    "",
    curveTable,
    "",
    "Per-user adaptation: 300 conversations of the population, then 40 of one newcomer (blocks of 10).",
    "per-user on = production; off = population estimates only (no per-user rates, speed, gain or patterns).",
    "",
    adaptation.table,
    "",
    targetTable,
    "",
    `Runtime ${seconds.toFixed(1)} s.`,
  ].join("\n");
  console.log(out);
  let extraOut = "";
  const extra = (process.env.QUESTIONS_EXTRA_SEEDS ?? "")
    .split(",")
    .map((x) => Number(x.trim()))
    .filter((x) => Number.isInteger(x) && x > 0);
  if (extra.length > 0) {
    const rows: (string | number)[][] = [];
    for (const seed of extra) {
      const r = mulberry32(seed);
      const w = buildWorld(templates, r);
      const us = Array.from({ length: USERS }, (_, i) => makeUser(`sim-${i + 1}`, r, w));
      const eps = Array.from({ length: CONVERSATIONS }, (_, i) =>
        makeEpisode(i, us[Math.floor(r() * us.length)] as SimUser, w, r),
      );
      const n = await runPolicy(eps, w, { policy: "none" });
      const a = summarise(await runPolicy(eps, w, { learningEnabled: false }), n);
      const h = summarise(await runPolicy(eps, w, {}), n);
      rows.push([
        String(seed),
        pct(summarise(n).coverage),
        `${pct(a.coverage)} / ${a.seconds.toFixed(1)}`,
        `${pct(h.coverage)} / ${h.seconds.toFixed(1)} / ${h.medianQuestions}`,
        `${pct(h.coverage - a.coverage)}`,
        `${pct(1 - h.seconds / a.seconds)}`,
      ]);
    }
    const sensitivity = table(
      [
        "world seed",
        "none cov %",
        "ask-all cov % / s",
        "Hermes cov % / s / median q",
        "Hermes − ask-all cov (pts)",
        "seconds saved %",
      ],
      rows,
    );
    const text = `\nOther worlds (QUESTIONS_EXTRA_SEEDS):\n\n${sensitivity}\n`;
    console.log(text);
    extraOut += text;
  }
  const floors = (process.env.QUESTIONS_FLOORS ?? "")
    .split(",")
    .map((x) => Number(x.trim()))
    .filter((x) => Number.isFinite(x) && x > 0);
  if (floors.length > 0) {
    const rows: (string | number)[][] = [];
    for (const floor of floors) {
      const s = summarise(await runPolicy(episodes, world, { valueFloor: floor }), none);
      rows.push([
        String(floor),
        pct(s.coverage),
        `${pct(s.coverage - sAll.coverage)}`,
        String(s.medianQuestions),
        s.seconds.toFixed(1),
        `${pct(1 - s.seconds / sAll.seconds)}`,
      ]);
    }
    const frontier = table(
      [
        "value floor",
        "Hermes cov %",
        "vs ask-all (pts)",
        "median q",
        "user-seconds",
        "seconds saved vs ask-all %",
      ],
      rows,
    );
    const text = `\nCoverage / time frontier of the learner (QUESTIONS_FLOORS, same 1,000 conversations):\n\n${frontier}\n`;
    console.log(text);
    extraOut += text;
  }
  const here = dirname(fileURLToPath(import.meta.url));
  mkdirSync(join(here, "results"), { recursive: true });
  writeFileSync(join(here, "results", "questions.md"), `# Question benchmark\n\n${out}\n${extraOut}`);
}

async function perUserAdaptation(
  world: World,
  population: SimUser[],
): Promise<{ table: string; verdict: string; verdictText: string }> {
  const random = mulberry32(WORLD_SEED + 1);
  const warm = Array.from({ length: 300 }, (_, i) =>
    makeEpisode(i, population[Math.floor(random() * population.length)] as SimUser, world, random),
  );
  // The newcomer: cares about context and scope far more than most, rarely knows "success",
  // and has firm habits.
  const newcomer = makeUser("newcomer", random, world, {
    care: { intent: 0.6, constraints: 1, success: 0.2, context: 2.5, scope: 2.5 },
    dontKnow: 1,
    slotDontKnow: { intent: 1, constraints: 1, success: 4, context: 1, scope: 1 },
    habitRate: { intent: 0.2, constraints: 0.8, success: 0.3, context: 0.95, scope: 0.9 },
  });
  const mine = Array.from({ length: 40 }, (_, i) =>
    makeEpisode(300 + i, newcomer, world, random, (["creation", "research"] as const)[i % 2]),
  );
  const all = [...warm, ...mine];
  const on = (await runPolicy(all, world, {})).slice(300);
  const off = (await runPolicy(all, world, { perUser: false })).slice(300);
  const rows: (string | number)[][] = [];
  for (let i = 0; i < 40; i += 10) {
    const a = summarise(on.slice(i, i + 10));
    const b = summarise(off.slice(i, i + 10));
    rows.push([
      `${i + 1}–${i + 10}`,
      pct(a.coverage),
      a.questions.toFixed(1),
      a.seconds.toFixed(1),
      a.utility.toFixed(3),
      pct(b.coverage),
      b.questions.toFixed(1),
      b.seconds.toFixed(1),
      b.utility.toFixed(3),
    ]);
  }
  const late = (rs: Result[]) => summarise(rs.slice(20));
  const early = (rs: Result[]) => summarise(rs.slice(0, 10));
  const lateGap = late(on).utility - late(off).utility;
  const earlyGap = early(on).utility - early(off).utility;
  return {
    table: table(
      [
        "newcomer's conv.",
        "on cov %",
        "on q",
        "on s",
        "on utility",
        "off cov %",
        "off q",
        "off s",
        "off utility",
      ],
      rows,
    ),
    verdict: lateGap > 0.02 && lateGap > earlyGap ? "met" : "NOT met",
    verdictText: `utility gap (on − off): ${earlyGap.toFixed(3)} in conv. 1–10, ${lateGap.toFixed(3)} in 21–40`,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
