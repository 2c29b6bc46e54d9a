import { type AnswerMode, AnswerTimeModel } from "./answer-time.ts";
import { BayesLinear } from "./bayes-linear.ts";
import { SLOT_WEIGHTS, SLOTS, type Slot } from "./quick-analysis.ts";
import { betaSample, normal, type Random } from "./random.ts";

export type { AnswerMode } from "./answer-time.ts";
export { BayesLinear } from "./bayes-linear.ts";

/**
 * What Hermes has learned about questions, as posteriors that Thompson sampling draws from:
 *
 * - answer rate, per template × idea type (Beta; the template's rate over all types is the prior,
 *   itself with a Beta(3.2, 0.8) prior), its miss rate scaled by the user's own "don't know"
 *   factor on the slot once the user has ≥ N answers;
 * - seconds to answer (answer-time.ts): typing time per template × idea type, the learned share of
 *   it a tap on an offered answer or a "don't know" takes, and the user's own speed on the slot
 *   once they have ≥ N answers;
 * - gain: how much the refined draft improved (rating of draft 2 minus draft 1, over 4) per unit
 *   of each slot's clarity progress — a Bayesian linear regression per idea type with the clarity
 *   weights as prior means, plus a per-user deviation (regression on the residuals) once the user
 *   has ≥ N rated outcomes.
 *
 * It holds no SQL: the conversation flow feeds it (incrementally, and from the database on start).
 */
export interface QuestionObservation {
  templateId: number | null;
  slot: Slot;
  ideaType: string;
  userId: string | null;
  /** Tapped an offered answer, typed one, or could not say ("don't know", skip). */
  mode: AnswerMode;
  seconds: number;
  /** The template's seeded expected seconds (the prior). */
  expectedSeconds: number;
}

export interface OutcomeObservation {
  ideaType: string;
  userId: string | null;
  /** Per-slot clarity progress, 0–1 (clarity.ts slotProgress). */
  progress: Record<Slot, number>;
  /** (rating of refined draft − rating of first draft) / 4. */
  gain: number;
}

export interface QuestionModelOptions {
  /** Per-user estimates are used once a user has at least this many observations. */
  minUserObservations?: number;
  /** false: population estimates only (no per-user answer rate, speed or gain). */
  perUser?: boolean;
}

interface Counter {
  n: number;
  answered: number;
}

/** A user's "don't know"s on a slot against what the population rates predicted for them. */
interface UserMisses {
  n: number;
  missed: number;
  expected: number;
}

const PRIOR_ANSWER_RATE = 0.8;
const PRIOR_ANSWER_STRENGTH = 4;
const TYPE_ANSWER_STRENGTH = 4;
/** Pseudo-count (in expected misses) behind a user's "don't know" factor of 1. */
const USER_MISS_STRENGTH = 2;
const GAIN_PRIOR_SD = 0.15;
const USER_GAIN_PRIOR_SD = 0.12;
const GAIN_NOISE_SD = 0.15;

const PRIOR_GAIN: number[] = SLOTS.map((s) => SLOT_WEIGHTS[s]);

export class QuestionModel {
  readonly minUserObservations: number;
  readonly perUser: boolean;
  private readonly byTemplate = new Map<number, Counter>();
  private readonly byTemplateType = new Map<string, Counter>();
  private readonly byUserSlot = new Map<string, UserMisses>();
  private readonly time: AnswerTimeModel;
  private readonly gainByType = new Map<string, BayesLinear>();
  private readonly gainByUser = new Map<string, BayesLinear>();
  private observedQuestions = 0;
  private observedOutcomes = 0;

  constructor(options: QuestionModelOptions = {}) {
    this.minUserObservations = options.minUserObservations ?? 3;
    this.perUser = options.perUser ?? true;
    this.time = new AnswerTimeModel(this.minUserObservations, this.perUser);
  }

  get size(): { questions: number; outcomes: number } {
    return { questions: this.observedQuestions, outcomes: this.observedOutcomes };
  }

  observeQuestion(o: QuestionObservation): void {
    this.observedQuestions++;
    const answered = o.mode !== "unknown";
    if (o.userId !== null) {
      const [a, b] = this.populationBeta(o.templateId, o.ideaType);
      const key = `${o.userId}|${o.slot}`;
      const u = this.byUserSlot.get(key) ?? { n: 0, missed: 0, expected: 0 };
      u.n++;
      if (!answered) u.missed++;
      u.expected += b / (a + b);
      this.byUserSlot.set(key, u);
    }
    if (o.templateId !== null) {
      bump(this.byTemplate, o.templateId, answered);
      bump(this.byTemplateType, `${o.templateId}|${o.ideaType}`, answered);
    }
    this.time.observe(o);
  }

  observeOutcome(o: OutcomeObservation): void {
    this.observedOutcomes++;
    const x = SLOTS.map((s) => o.progress[s]);
    const y = Math.max(-1, Math.min(1, o.gain));
    const typeModel = this.typeGain(o.ideaType);
    const residual = y - dot(x, typeModel.mean());
    typeModel.observe(x, y);
    if (o.userId !== null) this.userGain(o.userId).observe(x, residual);
  }

  /**
   * Beta parameters of the chance that asking this template gets a usable answer. A user's own
   * tendency to say "don't know" about the slot scales the template's miss rate (so what is learned
   * about the template still tells its good phrasings from its bad ones for that user).
   */
  answerBeta(
    templateId: number | null,
    slot: Slot,
    ideaType: string,
    userId: string | null,
  ): [number, number] {
    const [alpha, beta] = this.populationBeta(templateId, ideaType);
    const u = this.userSlot(userId, slot);
    if (!u) return [alpha, beta];
    const factor = (USER_MISS_STRENGTH + u.missed) / (USER_MISS_STRENGTH + u.expected);
    const rate = Math.max(0.02, Math.min(0.98, 1 - (beta / (alpha + beta)) * factor));
    return [(alpha + beta) * rate, (alpha + beta) * (1 - rate)];
  }

  private populationBeta(templateId: number | null, ideaType: string): [number, number] {
    const t = templateId === null ? undefined : this.byTemplate.get(templateId);
    const templateRate =
      (PRIOR_ANSWER_STRENGTH * PRIOR_ANSWER_RATE + (t?.answered ?? 0)) /
      (PRIOR_ANSWER_STRENGTH + (t?.n ?? 0));
    const tk = templateId === null ? undefined : this.byTemplateType.get(`${templateId}|${ideaType}`);
    return [
      TYPE_ANSWER_STRENGTH * templateRate + (tk?.answered ?? 0),
      TYPE_ANSWER_STRENGTH * (1 - templateRate) + ((tk?.n ?? 0) - (tk?.answered ?? 0)),
    ];
  }

  /**
   * Expected seconds this user spends on this template for this idea type, when the offered
   * answers hold theirs with chance `hitChance` (a tap instead of typing).
   */
  seconds(
    templateId: number | null,
    slot: Slot,
    ideaType: string,
    userId: string | null,
    expectedSeconds: number,
    hitChance = 0,
  ): number {
    const [a, b] = this.answerBeta(templateId, slot, ideaType, userId);
    return this.time.expected({
      templateId,
      slot,
      ideaType,
      userId,
      expectedSeconds,
      answerRate: a / (a + b),
      hitChance,
    });
  }

  /** Gain per slot for this idea type (and user): the posterior mean, or a Thompson draw with `random`. */
  gains(ideaType: string, userId: string | null, random?: Random): Record<Slot, number> {
    const typeModel = this.gainByType.get(ideaType);
    const base = typeModel
      ? random
        ? typeModel.sample(random)
        : typeModel.mean()
      : random
        ? PRIOR_GAIN.map((m) => normal(random, m, GAIN_PRIOR_SD))
        : PRIOR_GAIN;
    const user = this.userGainModel(userId);
    const delta = user ? (random ? user.sample(random) : user.mean()) : undefined;
    const out = {} as Record<Slot, number>;
    SLOTS.forEach((s, i) => {
      out[s] = (base[i] ?? 0) + (delta?.[i] ?? 0);
    });
    return out;
  }

  /** Posterior standard deviation of the gain per slot (population, for one idea type). */
  gainSd(ideaType: string): Record<Slot, number> {
    const sd = this.gainByType.get(ideaType)?.sd() ?? PRIOR_GAIN.map(() => GAIN_PRIOR_SD);
    const out = {} as Record<Slot, number>;
    SLOTS.forEach((s, i) => {
      out[s] = sd[i] ?? GAIN_PRIOR_SD;
    });
    return out;
  }

  sampleAnswerRate(random: Random, beta: [number, number]): number {
    return betaSample(random, beta[0], beta[1]);
  }

  private userSlot(userId: string | null, slot: Slot): UserMisses | undefined {
    if (!this.perUser || userId === null) return undefined;
    const u = this.byUserSlot.get(`${userId}|${slot}`);
    return u && u.n >= this.minUserObservations ? u : undefined;
  }

  private userGainModel(userId: string | null): BayesLinear | undefined {
    if (!this.perUser || userId === null) return undefined;
    const m = this.gainByUser.get(userId);
    return m && m.n >= this.minUserObservations ? m : undefined;
  }

  private typeGain(ideaType: string): BayesLinear {
    let m = this.gainByType.get(ideaType);
    if (!m) {
      m = new BayesLinear(PRIOR_GAIN, GAIN_PRIOR_SD, GAIN_NOISE_SD);
      this.gainByType.set(ideaType, m);
    }
    return m;
  }

  private userGain(userId: string): BayesLinear {
    let m = this.gainByUser.get(userId);
    if (!m) {
      m = new BayesLinear(
        PRIOR_GAIN.map(() => 0),
        USER_GAIN_PRIOR_SD,
        GAIN_NOISE_SD,
      );
      this.gainByUser.set(userId, m);
    }
    return m;
  }
}

function bump<K>(map: Map<K, Counter>, key: K, answered: boolean): void {
  const c = map.get(key) ?? { n: 0, answered: 0 };
  c.n++;
  if (answered) c.answered++;
  map.set(key, c);
}

const dot = (a: readonly number[], b: readonly number[]) => a.reduce((s, x, i) => s + x * (b[i] ?? 0), 0);
