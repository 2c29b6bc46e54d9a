import { BayesLinear } from "./bayes-linear.ts";
import { SLOT_WEIGHTS, SLOTS, type Slot } from "./quick-analysis.ts";
import { betaSample, normal, type Random } from "./random.ts";

export { BayesLinear } from "./bayes-linear.ts";

/**
 * What Hermes has learned about questions, as posteriors that Thompson sampling draws from:
 *
 * - answer rate, per template × idea type (Beta; the template's rate over all types is the prior,
 *   itself with a Beta(3.2, 0.8) prior), and per user × slot once the user has ≥ N answers;
 * - seconds to answer, per template × idea type (shrunk means; the seeded expected_seconds is the
 *   prior), scaled by the user's own speed on that slot once the user has ≥ N answers;
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
  answered: boolean;
  seconds: number;
  /** The template's seeded expected seconds (the prior). */
  expectedSeconds: number;
  /**
   * The question offered the user's likely answer (an assumption from a pattern, or their own
   * frequent answer) as a suggestion: answered faster, so timed apart from the template.
   */
  assisted?: boolean | undefined;
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
  /** Observations behind `seconds` (assisted questions are timed apart). */
  timed: number;
  seconds: number;
}

interface UserSlotCounter {
  n: number;
  answered: number;
  ratio: number;
}

const PRIOR_ANSWER_RATE = 0.8;
const PRIOR_ANSWER_STRENGTH = 4;
const TYPE_ANSWER_STRENGTH = 4;
const USER_ANSWER_STRENGTH = 4;
const PRIOR_SECONDS_STRENGTH = 2;
const TYPE_SECONDS_STRENGTH = 3;
const USER_SPEED_STRENGTH = 3;
const ASSISTED_STRENGTH = 3;
/** Prior: a question offering the likely answer takes this share of the template's time. */
const ASSISTED_PRIOR_SHARE = 0.6;
const GAIN_PRIOR_SD = 0.15;
const USER_GAIN_PRIOR_SD = 0.12;
const GAIN_NOISE_SD = 0.15;

const PRIOR_GAIN: number[] = SLOTS.map((s) => SLOT_WEIGHTS[s]);

export class QuestionModel {
  readonly minUserObservations: number;
  readonly perUser: boolean;
  private readonly byTemplate = new Map<number, Counter>();
  private readonly byTemplateType = new Map<string, Counter>();
  private readonly assistedBySlot = new Map<string, Counter>();
  private readonly byUserSlot = new Map<string, UserSlotCounter>();
  private readonly gainByType = new Map<string, BayesLinear>();
  private readonly gainByUser = new Map<string, BayesLinear>();
  private observedQuestions = 0;
  private observedOutcomes = 0;

  constructor(options: QuestionModelOptions = {}) {
    this.minUserObservations = options.minUserObservations ?? 3;
    this.perUser = options.perUser ?? true;
  }

  get size(): { questions: number; outcomes: number } {
    return { questions: this.observedQuestions, outcomes: this.observedOutcomes };
  }

  observeQuestion(o: QuestionObservation): void {
    this.observedQuestions++;
    const assisted = o.assisted ?? false;
    const predicted = this.populationSeconds(o.templateId, o.slot, o.ideaType, o.expectedSeconds, assisted);
    const seconds = Math.max(0.5, Math.min(600, o.seconds));
    if (o.templateId !== null) {
      bump(this.byTemplate, o.templateId, o.answered, assisted ? undefined : seconds);
      bump(this.byTemplateType, `${o.templateId}|${o.ideaType}`, o.answered, assisted ? undefined : seconds);
    }
    if (assisted) bump(this.assistedBySlot, o.slot, o.answered, seconds);
    if (o.userId !== null) {
      const key = `${o.userId}|${o.slot}`;
      const c = this.byUserSlot.get(key) ?? { n: 0, answered: 0, ratio: 0 };
      c.n++;
      if (o.answered) c.answered++;
      c.ratio += Math.min(5, seconds / predicted);
      this.byUserSlot.set(key, c);
    }
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

  /** Beta parameters of the chance that asking this template gets a usable answer. */
  answerBeta(
    templateId: number | null,
    slot: Slot,
    ideaType: string,
    userId: string | null,
  ): [number, number] {
    const t = templateId === null ? undefined : this.byTemplate.get(templateId);
    const templateRate =
      (PRIOR_ANSWER_STRENGTH * PRIOR_ANSWER_RATE + (t?.answered ?? 0)) /
      (PRIOR_ANSWER_STRENGTH + (t?.n ?? 0));
    const tk = templateId === null ? undefined : this.byTemplateType.get(`${templateId}|${ideaType}`);
    let alpha = TYPE_ANSWER_STRENGTH * templateRate + (tk?.answered ?? 0);
    let beta = TYPE_ANSWER_STRENGTH * (1 - templateRate) + ((tk?.n ?? 0) - (tk?.answered ?? 0));
    const u = this.userSlot(userId, slot);
    if (u) {
      const rate = alpha / (alpha + beta);
      alpha = USER_ANSWER_STRENGTH * rate + u.answered;
      beta = USER_ANSWER_STRENGTH * (1 - rate) + (u.n - u.answered);
    }
    return [alpha, beta];
  }

  /** Expected seconds this user takes to answer this template for this idea type. */
  seconds(
    templateId: number | null,
    slot: Slot,
    ideaType: string,
    userId: string | null,
    expectedSeconds: number,
    assisted = false,
  ): number {
    const pop = this.populationSeconds(templateId, slot, ideaType, expectedSeconds, assisted);
    const u = this.userSlot(userId, slot);
    if (!u) return pop;
    return pop * ((USER_SPEED_STRENGTH + u.ratio) / (USER_SPEED_STRENGTH + u.n));
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

  private populationSeconds(
    templateId: number | null,
    slot: Slot,
    ideaType: string,
    expectedSeconds: number,
    assisted: boolean,
  ): number {
    const t = templateId === null ? undefined : this.byTemplate.get(templateId);
    const templateMean =
      (PRIOR_SECONDS_STRENGTH * expectedSeconds + (t?.seconds ?? 0)) /
      (PRIOR_SECONDS_STRENGTH + (t?.timed ?? 0));
    const tk = templateId === null ? undefined : this.byTemplateType.get(`${templateId}|${ideaType}`);
    const typed =
      (TYPE_SECONDS_STRENGTH * templateMean + (tk?.seconds ?? 0)) /
      (TYPE_SECONDS_STRENGTH + (tk?.timed ?? 0));
    if (!assisted) return typed;
    const a = this.assistedBySlot.get(slot);
    return (
      (ASSISTED_STRENGTH * ASSISTED_PRIOR_SHARE * typed + (a?.seconds ?? 0)) /
      (ASSISTED_STRENGTH + (a?.timed ?? 0))
    );
  }

  private userSlot(userId: string | null, slot: Slot): UserSlotCounter | undefined {
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

function bump<K>(map: Map<K, Counter>, key: K, answered: boolean, seconds: number | undefined): void {
  const c = map.get(key) ?? { n: 0, answered: 0, timed: 0, seconds: 0 };
  c.n++;
  if (answered) c.answered++;
  if (seconds !== undefined) {
    c.timed++;
    c.seconds += seconds;
  }
  map.set(key, c);
}

const dot = (a: readonly number[], b: readonly number[]) => a.reduce((s, x, i) => s + x * (b[i] ?? 0), 0);
