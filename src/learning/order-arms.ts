import { normal, type Random } from "./random.ts";

/**
 * The guard that the learned question order never does durably worse than the fixed order for a
 * kind of idea. Per kind, two arms — the learned order and the fixed order (intent, constraints,
 * success, context, scope) — each with the quality of its recent outcomes: the rating of the
 * refined draft, scaled to 0–1 ((rating − 1) / 4, the user's own judgement of how much of what
 * they wanted the draft holds).
 *
 * Until the fixed order has MIN_FIXED outcomes for a kind, a session of that kind follows it with
 * probability EXPLORE (an estimate of the baseline on this kind's real outcomes); from then on,
 * Thompson sampling between the two arms over their last WINDOW outcomes: a learned order that is
 * losing for a kind gives way to the fixed one there, and gets the kind back once it wins again
 * (the learned model keeps learning from the fixed-order sessions, which ask every slot).
 */
export type OrderArm = "learned" | "fixed";

const MIN_FIXED = 6;
const EXPLORE = 0.2;
const WINDOW = 30;
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
    if (fixed.length < MIN_FIXED) return random() < EXPLORE ? "fixed" : "learned";
    if (learned.length === 0) return "learned";
    return draw(learned, random) >= draw(fixed, random) ? "learned" : "fixed";
  }
}

/** A draw of an arm's mean quality from its posterior (normal, known spread). */
function draw(xs: readonly number[], random: Random): number {
  const m = mean(xs);
  const sd = Math.max(
    MIN_SD,
    Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / Math.max(1, xs.length - 1)),
  );
  return normal(random, m, sd / Math.sqrt(xs.length));
}

const mean = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
