import type { Slot } from "./quick-analysis.ts";

/** How a question was answered: a tap on an offered answer, typing, or "don't know" / skip. */
export type AnswerMode = "tap" | "type" | "unknown";

/**
 * Seconds a question costs the user, by how it gets answered. Tapping an offered answer is much
 * quicker than typing the same thing, so a question whose answer Hermes can predict costs less:
 *
 *   expected = speed(user, slot) × typed(template, type) ×
 *              [(1 − a) · ratio(unknown) + a · (h · ratio(tap) + (1 − h))]
 *
 * with a the chance of a usable answer and h the chance the answer is among those offered.
 * typed(template, type) is the time to type an answer: shrunk means (the seeded expected_seconds
 * is the prior), fed by every observation converted to typing time through the learned ratios.
 * ratio(mode, slot) is the learned time of a tap (or a "don't know") relative to typing.
 */
const PRIOR_RATIO: Record<AnswerMode, number> = { tap: 0.5, type: 1, unknown: 0.4 };
const RATIO_STRENGTH = 3;
const PRIOR_SECONDS_STRENGTH = 2;
const TYPE_SECONDS_STRENGTH = 3;
const USER_SPEED_STRENGTH = 3;
/**
 * Longest ratio of one observation to its prediction that is believed: Telegram times a question
 * from asking to answering, and a user who walked away for an hour did not take an hour to answer.
 */
const MAX_RATIO = 3;
/** Neither a tap nor a "don't know" is believed to take longer than typing the answer. */
const MAX_MODE_RATIO = 1;

export interface TimeObservation {
  templateId: number | null;
  slot: Slot;
  ideaType: string;
  userId: string | null;
  mode: AnswerMode;
  seconds: number;
  /** The template's seeded expected seconds (the prior of typing time). */
  expectedSeconds: number;
}

export interface TimeQuery {
  templateId: number | null;
  slot: Slot;
  ideaType: string;
  userId: string | null;
  expectedSeconds: number;
  /** Chance of a usable answer (not "don't know"). */
  answerRate: number;
  /** Chance the answer is among the offered suggestions. */
  hitChance: number;
}

interface Mean {
  n: number;
  sum: number;
}

export class AnswerTimeModel {
  private readonly minUserObservations: number;
  private readonly perUser: boolean;
  private readonly byTemplate = new Map<number, Mean>();
  private readonly byTemplateType = new Map<string, Mean>();
  private readonly ratios = new Map<string, Mean>();
  private readonly byUserSlot = new Map<string, Mean>();

  constructor(minUserObservations: number, perUser: boolean) {
    this.minUserObservations = minUserObservations;
    this.perUser = perUser;
  }

  observe(o: TimeObservation): void {
    const typed = this.typed(o.templateId, o.ideaType, o.expectedSeconds);
    const ratio = this.ratio(o.slot, o.mode);
    const predicted = typed * ratio;
    // Every use below is bounded by the prediction, so one outlier cannot swamp what was learned.
    const seconds = Math.max(0.5, Math.min(MAX_RATIO * predicted, o.seconds));
    if (o.mode !== "type") add(this.ratios, `${o.slot}|${o.mode}`, Math.min(MAX_MODE_RATIO, seconds / typed));
    const asTyped = seconds / ratio;
    if (o.templateId !== null) {
      add(this.byTemplate, o.templateId, asTyped);
      add(this.byTemplateType, `${o.templateId}|${o.ideaType}`, asTyped);
    }
    if (o.userId !== null) add(this.byUserSlot, `${o.userId}|${o.slot}`, seconds / predicted);
  }

  /** Expected seconds this user spends on this question. */
  expected(q: TimeQuery): number {
    const typed = this.typed(q.templateId, q.ideaType, q.expectedSeconds) * this.speed(q.userId, q.slot);
    const a = clamp01(q.answerRate);
    const h = clamp01(q.hitChance);
    const answered = h * this.ratio(q.slot, "tap") + (1 - h);
    return typed * ((1 - a) * this.ratio(q.slot, "unknown") + a * answered);
  }

  /** Learned time of a tap or a "don't know" relative to typing, for a slot. */
  ratio(slot: Slot, mode: AnswerMode): number {
    if (mode === "type") return 1;
    const m = this.ratios.get(`${slot}|${mode}`);
    return (RATIO_STRENGTH * PRIOR_RATIO[mode] + (m?.sum ?? 0)) / (RATIO_STRENGTH + (m?.n ?? 0));
  }

  /** The user's speed on a slot relative to the population (1 until they have enough answers). */
  speed(userId: string | null, slot: Slot): number {
    if (!this.perUser || userId === null) return 1;
    const u = this.byUserSlot.get(`${userId}|${slot}`);
    if (!u || u.n < this.minUserObservations) return 1;
    return (USER_SPEED_STRENGTH + u.sum) / (USER_SPEED_STRENGTH + u.n);
  }

  private typed(templateId: number | null, ideaType: string, expectedSeconds: number): number {
    const t = templateId === null ? undefined : this.byTemplate.get(templateId);
    const templateMean =
      (PRIOR_SECONDS_STRENGTH * expectedSeconds + (t?.sum ?? 0)) / (PRIOR_SECONDS_STRENGTH + (t?.n ?? 0));
    const tk = templateId === null ? undefined : this.byTemplateType.get(`${templateId}|${ideaType}`);
    return (TYPE_SECONDS_STRENGTH * templateMean + (tk?.sum ?? 0)) / (TYPE_SECONDS_STRENGTH + (tk?.n ?? 0));
  }
}

function add<K>(map: Map<K, Mean>, key: K, x: number): void {
  const m = map.get(key) ?? { n: 0, sum: 0 };
  m.n++;
  m.sum += x;
  map.set(key, m);
}

const clamp01 = (x: number) => (Number.isFinite(x) ? Math.max(0, Math.min(1, x)) : 0);
