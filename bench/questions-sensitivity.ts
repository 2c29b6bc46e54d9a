import { mulberry32 } from "../src/learning/random.ts";
import type { QuestionTemplate } from "../src/store/learning/templates-repo.ts";
import { pct, type Result, runPolicy, type Summary, summarise } from "./questions-run.ts";
import {
  buildWorld,
  type Episode,
  makeEpisode,
  makeUser,
  type SimUser,
  type World,
} from "./questions-world.ts";
import { table } from "./stats.ts";

/**
 * Optional checks that the headline figures are not an accident of one seed or one constant:
 * the same comparison in other simulated worlds (QUESTIONS_EXTRA_SEEDS), and the learner's
 * coverage / time frontier under other value floors (QUESTIONS_FLOORS). Each returns its table.
 */

/** Hermes against ask-all and no questions in other worlds: the seconds target per world. */
export async function otherWorlds(
  templates: QuestionTemplate[],
  seeds: readonly number[],
  size: { users: number; conversations: number },
): Promise<string> {
  const rows: (string | number)[][] = [];
  for (const seed of seeds) {
    const r = mulberry32(seed);
    const w = buildWorld(templates, r);
    const us = Array.from({ length: size.users }, (_, i) => makeUser(`sim-${i + 1}`, r, w));
    const eps = Array.from({ length: size.conversations }, (_, i) =>
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
      h.seconds <= 0.6 * a.seconds && h.coverage >= a.coverage ? "met" : "NOT met",
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
      "≥ 40 % fewer seconds at ≥ coverage",
    ],
    rows,
  );
  const text = `\nOther worlds (QUESTIONS_EXTRA_SEEDS: the same simulator with other seeds for its hidden distributions, users and ideas; ${size.conversations} conversations each):\n\n${sensitivity}\n`;
  console.log(text);
  return text;
}

/** The learner under other value floors, on the same conversations. */
export async function frontier(
  episodes: readonly Episode[],
  world: World,
  floors: readonly number[],
  none: readonly Result[],
  askAll: Summary,
): Promise<string> {
  const rows: (string | number)[][] = [];
  for (const floor of floors) {
    const s = summarise(await runPolicy(episodes, world, { valueFloor: floor }), none);
    rows.push([
      String(floor),
      pct(s.coverage),
      `${pct(s.coverage - askAll.coverage)}`,
      String(s.medianQuestions),
      s.seconds.toFixed(1),
      `${pct(1 - s.seconds / askAll.seconds)}`,
    ]);
  }
  const frontierTable = table(
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
  const text = `\nCoverage / time frontier of the learner (QUESTIONS_FLOORS, same ${episodes.length} conversations):\n\n${frontierTable}\n`;
  console.log(text);
  return text;
}
