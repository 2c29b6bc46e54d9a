import { normaliseAnswer } from "./effectiveness.ts";
import { SLOTS, type Slot } from "./quick-analysis.ts";

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
 * so one person's words are never shown to someone else. Counts cover the latest WINDOW answers per
 * (idea type, slot) and the latest USER_WINDOW per (user, slot).
 */
export const MIN_USERS = 3;
const WINDOW = 300;
const USER_WINDOW = 60;
const SLOT_STRENGTH = 2;
const TYPE_STRENGTH = 2;
const USER_STRENGTH = 1;
/** Prior of the mixture weights (population, habit, personal), in answers. */
const PRIOR_WEIGHTS = [2, 1, 1] as const;

interface Entry {
  key: string;
  value: string;
  user: string;
  ideaType: string;
}

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

export class AnswerPredictor {
  private readonly byType = new Map<string, Entry[]>();
  private readonly byUser = new Map<string, Entry[]>();
  /** Per slot: summed responsibilities of the three estimates (EM sufficient statistics). */
  private readonly responsibility = new Map<Slot, number[]>(
    SLOTS.map((s) => [s, [...PRIOR_WEIGHTS]] as [Slot, number[]]),
  );

  observe(ideaType: string, slot: Slot, answer: string, userId: string | null): void {
    const key = normaliseAnswer(answer);
    if (key === "" || userId === null) return;
    this.learnWeights(ideaType, slot, key, userId);
    const entry: Entry = { key, value: answer.trim(), user: userId, ideaType };
    push(this.byType, `${ideaType}|${slot}`, entry, WINDOW);
    push(this.byUser, `${userId}|${slot}`, entry, USER_WINDOW);
  }

  /** The learned trust in the population, habit and personal estimates for a slot (sums to 1). */
  weights(slot: Slot): [number, number, number] {
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
    slot: Slot,
    userId: string | null,
    templateSuggestions: readonly string[],
  ): Prediction {
    const spelling = new Map<string, string>();
    const prior: Dist = new Map();
    for (const s of templateSuggestions) {
      const key = normaliseAnswer(s);
      if (key === "" || prior.has(key)) continue;
      spelling.set(key, s);
      prior.set(key, 1 / templateSuggestions.length);
    }
    const { slotEntries, mine, estimates } = this.estimates(ideaType, slot, userId, prior);
    const shared = sharedKeys(slotEntries);
    const ownKeys = new Set(mine.map((e) => e.key));
    // Newest spelling wins (entries are oldest first); another person's spelling only once shared.
    for (const e of [...slotEntries, ...mine])
      if (shared.has(e.key) || ownKeys.has(e.key)) spelling.set(e.key, e.value);
    const mixed = mix(estimates, this.weights(slot));
    const ranked = [...mixed]
      .filter(([key]) => prior.has(key) || shared.has(key) || ownKeys.has(key))
      .sort((a, b) => b[1] - a[1] || (spelling.get(a[0]) ?? "").localeCompare(spelling.get(b[0]) ?? ""))
      .map(([key, p]) => ({ value: spelling.get(key) ?? key, p }));
    return { ranked, p: (answer) => mixed.get(normaliseAnswer(answer)) ?? 0 };
  }

  /** One EM step: how well each estimate predicted this answer before it was counted. */
  private learnWeights(ideaType: string, slot: Slot, key: string, userId: string): void {
    const { estimates } = this.estimates(ideaType, slot, userId, new Map());
    const w = this.weights(slot);
    const likelihood = estimates.map((d, i) => (w[i] ?? 0) * (d.get(key) ?? 0));
    const total = likelihood.reduce((s, x) => s + x, 0);
    if (total <= 0) return;
    const r = this.responsibility.get(slot) ?? [...PRIOR_WEIGHTS];
    likelihood.forEach((x, i) => {
      r[i] = (r[i] ?? 0) + x / total;
    });
    this.responsibility.set(slot, r);
  }

  private estimates(
    ideaType: string,
    slot: Slot,
    userId: string | null,
    prior: Dist,
  ): { slotEntries: Entry[]; mine: Entry[]; estimates: [Dist, Dist, Dist] } {
    const slotEntries = [...this.byType]
      .filter(([bucket]) => bucket.endsWith(`|${slot}`))
      .flatMap(([, entries]) => entries);
    const mine = userId === null ? [] : (this.byUser.get(`${userId}|${slot}`) ?? []);
    const population = backOff(
      this.byType.get(`${ideaType}|${slot}`) ?? [],
      backOff(slotEntries, prior, SLOT_STRENGTH),
      TYPE_STRENGTH,
    );
    const habit = backOff(
      mine.filter((e) => e.ideaType === ideaType),
      population,
      USER_STRENGTH,
    );
    const personal = backOff(mine, population, USER_STRENGTH);
    return { slotEntries, mine, estimates: [population, habit, personal] };
  }
}

/** (counts + strength · prior) / (n + strength): the posterior mean of a Dirichlet. */
function backOff(entries: readonly Entry[], prior: Dist, strength: number): Dist {
  const out: Dist = new Map();
  const n = entries.length;
  for (const [key, p] of prior) out.set(key, (strength * p) / (n + strength));
  for (const e of entries) out.set(e.key, (out.get(e.key) ?? 0) + 1 / (n + strength));
  return out;
}

function mix(estimates: readonly Dist[], weights: readonly number[]): Dist {
  const out: Dist = new Map();
  estimates.forEach((d, i) => {
    for (const [key, p] of d) out.set(key, (out.get(key) ?? 0) + (weights[i] ?? 0) * p);
  });
  return out;
}

/** Answers given by at least MIN_USERS different people. */
function sharedKeys(entries: readonly Entry[]): Set<string> {
  const users = new Map<string, Set<string>>();
  for (const e of entries) {
    const set = users.get(e.key) ?? new Set<string>();
    set.add(e.user);
    users.set(e.key, set);
  }
  return new Set([...users].filter(([, set]) => set.size >= MIN_USERS).map(([key]) => key));
}

function push(map: Map<string, Entry[]>, key: string, entry: Entry, window: number): void {
  const list = map.get(key) ?? [];
  list.push(entry);
  if (list.length > window) list.splice(0, list.length - window);
  map.set(key, list);
}
