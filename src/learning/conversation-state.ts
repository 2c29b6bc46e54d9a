/**
 * The ConversationStateManager's stop rule (SPEC "Adaptive Conversation Management"), in its order:
 *   the user said enough            → stop
 *   clarity ≥ 0.9                   → stop (high clarity achieved)
 *   max questions reached           → stop
 *   no open slot / no question left → stop
 *   best value below the floor      → stop (nothing worth the user's time)
 *   clarity < 0.7                   → ask (clarity still insufficient)
 *   clarity < 0.85                  → ask (a worthwhile question exists)
 *   otherwise                       → stop (adequate clarity)
 * Policies that do not value questions (fixed order, random) have no floor. Where `clarityStops` is
 * false the two clarity stops are skipped: every open slot is asked, up to the maximum.
 */
const HIGH_CLARITY = 0.9;
const LOW_CLARITY = 0.7;
const ADEQUATE_CLARITY = 0.85;

export const STOP_REASONS = {
  enough: "you said enough",
  clarity: "clarity reached",
  max: "max questions",
  none: "nothing left to ask",
  floor: "nothing worth asking",
  adequate: "clarity adequate",
  alreadyStopped: "already finished",
} as const;

export interface StopInput {
  clarity: number;
  asked: number;
  maxQuestions: number;
  userSaidEnough: boolean;
  /** Value of the best candidate question; undefined when there is none. */
  bestValue: number | undefined;
  /** undefined: the policy asks whatever it picked (no value floor). */
  floor: number | undefined;
  /** A policy's own reason to stop (random stop, "never ask"). */
  policyStop?: string | undefined;
  /**
   * False: clarity never ends the questions (the fixed order standing in for a kind's learned one:
   * order-arms.ts). Default true.
   */
  clarityStops?: boolean | undefined;
}

export interface StopDecision {
  ask: boolean;
  reason: string;
}

export function decideNext(s: StopInput): StopDecision {
  if (s.userSaidEnough) return { ask: false, reason: STOP_REASONS.enough };
  const clarityStops = s.clarityStops !== false;
  if (clarityStops && s.clarity >= HIGH_CLARITY) return { ask: false, reason: STOP_REASONS.clarity };
  if (s.asked >= s.maxQuestions) return { ask: false, reason: STOP_REASONS.max };
  if (s.policyStop !== undefined) return { ask: false, reason: s.policyStop };
  if (s.bestValue === undefined) return { ask: false, reason: STOP_REASONS.none };
  if (s.floor !== undefined && !(s.bestValue >= s.floor)) return { ask: false, reason: STOP_REASONS.floor };
  if (!clarityStops || s.clarity < LOW_CLARITY) return { ask: true, reason: "clarity still insufficient" };
  if (s.clarity < ADEQUATE_CLARITY) return { ask: true, reason: "a worthwhile question remains" };
  return { ask: false, reason: STOP_REASONS.adequate };
}
