import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { mulberry32 } from "../src/learning/random.ts";
import { runKindWorlds } from "./questions-kinds.ts";
import {
  FLOW_SEED,
  loadTemplates,
  pct,
  type Result,
  runPolicy,
  SECONDS_PER_POINT,
  type Setup,
  summarise,
} from "./questions-run.ts";
import { frontier, otherWorlds } from "./questions-sensitivity.ts";
import { buildWorld, makeEpisode, makeUser, type SimUser, type World } from "./questions-world.ts";
import { table } from "./stats.ts";

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
 * The world lives in questions-world.ts, one policy's run in questions-run.ts, the optional
 * other-worlds and value-floor checks in questions-sensitivity.ts.
 */

const CONVERSATIONS = 1_000;
const USERS = 20;
const BLOCK = 50;
const WORLD_SEED = 20_260_101;

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
    // Issue 15: the model words each question and offers three answers holding the truth with p.
    { name: "Hermes + model suggestions (p = 0.5)", setup: { modelHit: 0.5 } },
    { name: "Hermes + model suggestions (p = 0.8)", setup: { modelHit: 0.8 } },
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
  const extra = numbers(process.env.QUESTIONS_EXTRA_SEEDS).filter((x) => Number.isInteger(x));
  if (extra.length > 0)
    extraOut += await otherWorlds(templates, extra, { users: USERS, conversations: CONVERSATIONS });
  const floors = numbers(process.env.QUESTIONS_FLOORS);
  if (floors.length > 0) extraOut += await frontier(episodes, world, floors, none, sAll);
  extraOut += await runKindWorlds((seed) => buildWorld(templates, mulberry32(seed)));
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

/** Positive numbers from a comma-separated environment variable. */
function numbers(raw: string | undefined): number[] {
  return (raw ?? "")
    .split(",")
    .map((x) => Number(x.trim()))
    .filter((x) => Number.isFinite(x) && x > 0);
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
