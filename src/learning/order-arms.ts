import type { Random } from "./random.ts";

/**
 * The guard that the learned question order never does durably worse than the fixed order for a
 * kind of idea. Per kind, two arms — the learned order and the fixed order (intent, constraints,
 * success, context, scope) — each with the quality of its recent outcomes: the rating of the
 * refined draft, scaled to 0–1 ((rating − 1) / 4, the user's own judgement of how much of what
 * they wanted the draft holds).
 *
 * Until the fixed order has MIN_FIXED outcomes for a kind (and once the kind has a rated session at
 * all), a session of that kind follows it with probability EXPLORE (an estimate of the baseline on
 * this kind's real outcomes). From then on the learned order keeps the kind unless the mean of its
 * recent outcomes (the last WINDOW) is below the fixed order's (z below −LOSING_Z; 0: any
 * shortfall): then the kind follows the fixed order, and now and then (KEEP_LEARNED) the learned
 * one, so it gets the kind back once it wins again (the learned model keeps learning from the
 * fixed-order sessions too, which ask every slot). A tie keeps the learned order: it asks fewer
 * questions.
 *
 * A rating cannot tell a point or two of coverage apart, so the learned sessions a losing kind keeps
 * cost a little: the fixed order that stands in pays it back. It asks every open slot in its order
 * (the static clarity stop would skip the last one once taps made the idea "clear enough") and each
 * in the wording this kind answers most (planning.ts, SmartQuestionGenerator.fallback): at least
 * what the fixed order finds, with taps and pre-fills saving the user's time.
 */
export type OrderArm = "learned" | "fixed";

const MIN_FIXED = 6;
const EXPLORE = 0.2;
const WINDOW = 30;
const LOSING_Z = 0;
const KEEP_LEARNED = 0.15;
/** Spread of one outcome, at least (ratings are whole numbers: one step is 0.25). */
const MIN_SD = 0.12;

export interface ArmSummary {
  n: number;
  mean: number | undefined;
}

export class OrderArms {
  private readonly outcomes = new Map<string, number[]>();

  observe(kind: string, arm: OrderArm, quality: number): void {
    const key = `${kind}|${arm}`;
    const xs = this.outcomes.get(key) ?? [];
    xs.push(Math.max(0, Math.min(1, quality)));
    if (xs.length > WINDOW) xs.shift();
    this.outcomes.set(key, xs);
  }

  summary(kind: string, arm: OrderArm): ArmSummary {
    const xs = this.outcomes.get(`${kind}|${arm}`) ?? [];
    return { n: xs.length, mean: xs.length === 0 ? undefined : mean(xs) };
  }

  /** Which order a new session of this kind follows. */
  choose(kind: string, random: Random): OrderArm {
    const fixed = this.outcomes.get(`${kind}|fixed`) ?? [];
    const learned = this.outcomes.get(`${kind}|learned`) ?? [];
    // Exploring the fixed order only pays when outcomes come back: until this kind has a rated
    // session, nothing could be learned from it, so the learned order keeps every session.
    if (fixed.length < MIN_FIXED) return learned.length > 0 && random() < EXPLORE ? "fixed" : "learned";
    if (learned.length < MIN_FIXED) return "learned";
    const losing = zScore(learned, fixed) < -LOSING_Z;
    return losing && random() >= KEEP_LEARNED ? "fixed" : "learned";
  }
}

/** How far the learned arm's mean is above the fixed arm's, in standard errors. */
function zScore(learned: readonly number[], fixed: readonly number[]): number {
  const se2 = (xs: readonly number[]) => {
    const m = mean(xs);
    const variance = xs.reduce((s, x) => s + (x - m) ** 2, 0) / Math.max(1, xs.length - 1);
    return Math.max(MIN_SD ** 2, variance) / xs.length;
  };
  return (mean(learned) - mean(fixed)) / Math.sqrt(se2(learned) + se2(fixed));
}

const mean = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
