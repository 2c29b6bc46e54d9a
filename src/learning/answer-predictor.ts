import { type AnswerEntry, Counts, CountWindow, SlotAggregate } from "./answer-counts.ts";
import { normaliseAnswer } from "./effectiveness.ts";
import type { Slot } from "./quick-analysis.ts";
import { compareTiedText } from "./tie-order.ts";

/**
 * Predicts what a user will answer to a question about a slot, so the likeliest answers can be
 * offered as buttons: a tap takes a fraction of the time of typing the same thing.
 *
 * The prediction mixes three estimates of P(answer):
 *   population — what people answer for this kind of idea (backed off to the slot over all kinds,
 *                then to the template's own suggestions);
 *   habit      — what this user answered for this kind of idea;
 *   personal   — what this user answered about the slot for any kind of idea;
 * the last two backed off to the population estimate (Dirichlet posterior means). How much each is
 * trusted differs by slot — people repeat who a piece is for far more often than why they want it —
 * so the mixture weights are learned per slot, by online EM on every answer before it is counted.
 *
 * Privacy: an answer given by fewer than MIN_USERS people is offered only to the people who gave it,
 * so one person's words are never shown to someone else; a shared answer is labelled as most
 * people spelled it. Counts cover the latest WINDOW answers per (idea type, slot) and the latest
 * USER_WINDOW per (user, slot), kept as running counts (answer-counts.ts), so a prediction costs
 * O(candidate answers) and learning from an answer O(1).
 */
const MIN_USERS = 3;
const WINDOW = 300;
const USER_WINDOW = 60;
const SLOT_STRENGTH = 2;
const TYPE_STRENGTH = 2;
const USER_STRENGTH = 1;
/** Prior of the mixture weights (population, habit, personal), in answers. */
const PRIOR_WEIGHTS = [2, 1, 1] as const;

export interface LikelyAnswer {
  value: string;
  /** Predicted probability that this is the user's answer. */
  p: number;
}

export interface Prediction {
  /** The answers that may be offered to this user, most likely first. */
  ranked: LikelyAnswer[];
  /** Predicted probability of any answer (0 for one never seen nor suggested). */
  p(answer: string): number;
}

type Dist = Map<string, number>;
const NONE = new Counts();

/**
 * The kind of question an answer belongs to: its template (several templates ask about the same
 * slot — "Who is it for?" and "Where will it be used?" are both context — and an answer to one
 * is no answer to the other), or the slot for a question without a template.
 */
export function questionKind(slot: Slot, templateId: number | null | undefined): string {
  return templateId === null || templateId === undefined ? slot : `${slot}#${templateId}`;
}

export class AnswerPredictor {
  /** Everything below is keyed by question kind ({@link questionKind}), never by the slot alone. */
  private readonly slots = new Map<string, SlotAggregate>();
  private readonly byType = new Map<string, CountWindow>();
  private readonly byUser = new Map<string, CountWindow>();
  private readonly byUserType = new Map<string, Counts>();
  /** Per slot: summed responsibilities of the three estimates (EM sufficient statistics). */
  private readonly responsibility = new Map<string, number[]>();

  /** Learns from an answer; `templateSuggestions` are the asked template's (the prediction's prior). */
  observe(
    ideaType: string,
    slot: string,
    answer: string,
    userId: string | null,
    templateSuggestions: readonly string[] = [],
  ): void {
    const key = normaliseAnswer(answer);
    if (key === "" || userId === null) return;
    this.learnWeights(ideaType, slot, key, userId, priorOf(templateSuggestions).prior);
    const entry: AnswerEntry = { key, value: answer.trim(), user: userId, ideaType };
    this.typeWindow(ideaType, slot).add(entry);
    this.userWindow(userId, slot).add(entry);
  }

  /** The learned trust in the population, habit and personal estimates for a slot (sums to 1). */
  weights(slot: string): [number, number, number] {
    const r = this.responsibility.get(slot) ?? [...PRIOR_WEIGHTS];
    const total = r.reduce((s, x) => s + x, 0);
    return [(r[0] ?? 0) / total, (r[1] ?? 0) / total, (r[2] ?? 0) / total];
  }

  /**
   * What this user is likely to answer; `templateSuggestions` are the prior (and fill in while
   * nothing has been learned).
   */
  predict(
    ideaType: string,
    slot: string,
    userId: string | null,
    templateSuggestions: readonly string[],
  ): Prediction {
    const { prior, spelling } = priorOf(templateSuggestions);
    const agg = this.aggregate(slot);
    const mine = userId === null ? undefined : this.byUser.get(`${userId}|${slot}`);
    // The counts every candidate is estimated from, looked up once (planning predicts for every
    // open slot and template of every idea).
    const sources = this.sources(ideaType, slot, userId);
    const shared = new Set(agg.sharedKeys(MIN_USERS));
    const own = new Map<string, string>();
    for (const e of mine?.entries ?? []) own.set(e.key, e.value); // oldest first: the newest spelling stays
    const w = this.weights(slot);
    // Memoised: planning asks for the same keys again (the ranking, then each offered answer).
    const memo = new Map<string, number>();
    const p = (key: string) => {
      let value = memo.get(key);
      if (value === undefined) {
        const [population, habit, personal] = estimates(sources, prior, key);
        value = w[0] * population + w[1] * habit + w[2] * personal;
        memo.set(key, value);
      }
      return value;
    };
    const label = (key: string) =>
      (shared.has(key) ? agg.spelling(key) : undefined) ?? spelling.get(key) ?? own.get(key) ?? key;
    const candidates = new Set([...prior.keys(), ...shared, ...own.keys()]);
    const ranked = [...candidates]
      .map((key) => ({ value: label(key), p: p(key) }))
      .sort((a, b) => b.p - a.p || compareTiedText(a.value, b.value));
    return { ranked, p: (answer) => p(normaliseAnswer(answer)) };
  }

  /** One EM step: how well each estimate predicted this answer before it was counted. */
  private learnWeights(ideaType: string, slot: string, key: string, userId: string, prior: Dist): void {
    // Without any history of this user the three estimates agree: nothing to tell them apart.
    if ((this.byUser.get(`${userId}|${slot}`)?.counts.total ?? 0) === 0) return;
    const w = this.weights(slot);
    const likelihood = estimates(this.sources(ideaType, slot, userId), prior, key).map(
      (x, i) => (w[i] ?? 0) * x,
    );
    const total = likelihood.reduce((s, x) => s + x, 0);
    if (total <= 0) return;
    const r = this.responsibility.get(slot) ?? [...PRIOR_WEIGHTS];
    likelihood.forEach((x, i) => {
      r[i] = (r[i] ?? 0) + x / total;
    });
    this.responsibility.set(slot, r);
  }

  /** The counts behind the estimates for one question kind, idea type and user. */
  private sources(ideaType: string, slot: string, userId: string | null): Sources {
    return {
      slot: this.aggregate(slot).counts,
      type: this.byType.get(`${ideaType}|${slot}`)?.counts ?? NONE,
      mine: userId === null ? NONE : (this.byUser.get(`${userId}|${slot}`)?.counts ?? NONE),
      mineType: userId === null ? NONE : (this.byUserType.get(`${userId}|${slot}|${ideaType}`) ?? NONE),
    };
  }

  private aggregate(kind: string): SlotAggregate {
    let agg = this.slots.get(kind);
    if (!agg) {
      agg = new SlotAggregate();
      this.slots.set(kind, agg);
    }
    return agg;
  }

  private typeWindow(ideaType: string, slot: string): CountWindow {
    const k = `${ideaType}|${slot}`;
    let w = this.byType.get(k);
    if (!w) {
      const agg = this.aggregate(slot);
      w = new CountWindow(WINDOW, (e, delta) => agg.change(e, delta));
      this.byType.set(k, w);
    }
    return w;
  }

  private userWindow(userId: string, slot: string): CountWindow {
    const k = `${userId}|${slot}`;
    let w = this.byUser.get(k);
    if (!w) {
      w = new CountWindow(USER_WINDOW, (e, delta) => {
        const tk = `${userId}|${slot}|${e.ideaType}`;
        const c = this.byUserType.get(tk) ?? new Counts();
        c.change(e.key, delta);
        if (c.total === 0) this.byUserType.delete(tk);
        else this.byUserType.set(tk, c);
      });
      this.byUser.set(k, w);
    }
    return w;
  }
}

/** The running counts a prediction reads (AnswerPredictor.sources). */
interface Sources {
  slot: Counts;
  type: Counts;
  mine: Counts;
  mineType: Counts;
}

/** P(key) under the population, habit and personal estimates (Dirichlet posterior means). */
function estimates(c: Sources, prior: Dist, key: string): [number, number, number] {
  const pSlot = backOff(c.slot, key, prior.get(key) ?? 0, SLOT_STRENGTH);
  const population = backOff(c.type, key, pSlot, TYPE_STRENGTH);
  return [
    population,
    backOff(c.mineType, key, population, USER_STRENGTH),
    backOff(c.mine, key, population, USER_STRENGTH),
  ];
}

/** (count + strength · prior) / (n + strength): the posterior mean of a Dirichlet, for one answer. */
function backOff(counts: Counts, key: string, prior: number, strength: number): number {
  return (counts.of(key) + strength * prior) / (counts.total + strength);
}

/**
 * The template's suggestions as a uniform prior over their distinct answers, with their spelling.
 * Kept per suggestions array (a loaded template's, asked about at every idea); read only.
 */
function priorOf(suggestions: readonly string[]): Prior {
  let known = priors.get(suggestions);
  if (!known) {
    known = buildPrior(suggestions);
    priors.set(suggestions, known);
  }
  return known;
}

interface Prior {
  prior: Dist;
  spelling: Map<string, string>;
}
const priors = new WeakMap<readonly string[], Prior>();

function buildPrior(suggestions: readonly string[]): Prior {
  const spelling = new Map<string, string>();
  for (const s of suggestions) {
    const key = normaliseAnswer(s);
    if (key !== "" && !spelling.has(key)) spelling.set(key, s);
  }
  const prior: Dist = new Map([...spelling.keys()].map((k) => [k, 1 / spelling.size]));
  return { prior, spelling };
}
