import type { AnswerInput, QuestionView } from "../src/engine/conversation/types.ts";
import { type IdeaType, SLOTS, type Slot } from "../src/learning/quick-analysis.ts";
import { gamma, mulberry32, normal, pickWeighted, type Random, seedOf } from "../src/learning/random.ts";
import type { QuestionTemplate } from "../src/store/learning/templates-repo.ts";

/**
 * The simulated world of the question benchmark: what people with each kind of idea care about,
 * how often they cannot say, how long they take, their habits; the users and their ideas; and how a
 * simulated user answers a question. All hidden from Hermes.
 */

const TEXT_MENTION_RATE = 0.12;

export const TYPES: readonly IdeaType[] = ["research", "creation", "analysis", "decision", "mixed"];
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

export interface SimUser {
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

export interface Episode {
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

export interface World {
  /** Template id → name (the simulator keys its hidden per-template factors by name). */
  names: Map<number, string>;
  vocab: Record<Slot, string[]>;
  dist: Record<IdeaType, Record<Slot, number[]>>;
  templateDk: Map<string, number>;
  templateTime: Map<string, number>;
}

export function buildWorld(templates: QuestionTemplate[], random: Random): World {
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

export function makeUser(
  id: string,
  random: Random,
  world: World,
  overrides: Partial<SimUser> = {},
): SimUser {
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

export function makeEpisode(
  index: number,
  user: SimUser,
  world: World,
  random: Random,
  type?: IdeaType,
): Episode {
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

export function coverageOf(e: Episode, variables: Record<string, unknown> | null): number {
  const text = Object.values(variables ?? {})
    .map(String)
    .join("\n")
    .toLowerCase();
  let got = 0;
  let all = 0;
  for (const slot of SLOTS) {
    all += e.care[slot];
    if (text.includes(e.hidden[slot].toLowerCase())) got += e.care[slot];
  }
  return all === 0 ? 0 : got / all;
}

export const rating = (coverage: number, noise: number) =>
  Math.max(1, Math.min(5, Math.round(1 + 4 * coverage + noise))) as 1 | 2 | 3 | 4 | 5;

/** The simulated user's reply to one question, and the seconds it took. */
export function respond(e: Episode, q: QuestionView, world: World): { input: AnswerInput; spent: number } {
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
