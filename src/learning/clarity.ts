import {
  ANSWER_CONFIDENCE,
  BASE_CONFIDENCE,
  SLOT_CUES,
  SLOT_WEIGHTS,
  SLOTS,
  type Slot,
  TEXT_CUE_CONFIDENCE,
} from "./quick-analysis.ts";

/**
 * How well Hermes understands an idea, slot by slot. Each of the five slots (intent, constraints,
 * success, context, scope) has a confidence in [0, 1]; clarity is their weighted sum (weights in
 * quick-analysis.ts). Confidence rises with a direct answer (high), free text (by its content),
 * an applied pattern (by the pattern's confidence); "don't know" and skips leave it where it was.
 */
export type SlotSource = "none" | "text" | "answer" | "pattern";

export interface SlotState {
  confidence: number;
  /** What we know about the slot, in the user's words (an answer, or a pattern's value). */
  value: string | null;
  source: SlotSource;
  /** How many times a question about this slot was asked in this thread. */
  asked: number;
  /** The learned pattern that filled it, when source is "pattern". */
  patternId?: number | undefined;
}

export type ClaritySlots = Record<Slot, SlotState>;

/** A slot at or above this confidence (a cue in the idea's text, an answer) is clear: not asked about. */
const CLEAR_AT = TEXT_CUE_CONFIDENCE;

const DONT_KNOW =
  /^\s*(i\s+)?(don'?t\s+know|do\s+not\s+know|dunno|no\s+idea|not\s+sure|unsure|idk|no\s+clue|whatever|skip|pass|n\/?a|no\s+preference|doesn'?t\s+matter|don'?t\s+care|anything|nothing\s+in\s+particular|\?+|-+|\.+)\s*[.!?]*\s*$/i;

export function initialSlots(text: string): ClaritySlots {
  const out = {} as ClaritySlots;
  for (const slot of SLOTS) {
    const cued = SLOT_CUES[slot].test(text);
    out[slot] = {
      confidence: cued ? TEXT_CUE_CONFIDENCE : BASE_CONFIDENCE,
      value: null,
      source: cued ? "text" : "none",
      asked: 0,
    };
  }
  return out;
}

export function clarityScore(slots: ClaritySlots): number {
  const raw = SLOTS.reduce((sum, s) => sum + SLOT_WEIGHTS[s] * slots[s].confidence, 0);
  return Math.round(Math.min(1, Math.max(0, raw)) * 1000) / 1000;
}

function isClear(state: SlotState): boolean {
  return state.confidence >= CLEAR_AT;
}

/** True when a free-text reply says "I don't know" (or is empty): it answers nothing. */
export function isDontKnow(text: string): boolean {
  const t = text.trim();
  return t === "" || DONT_KNOW.test(t);
}

/** Confidence that a free-text reply answers the question, judged by its content. */
export function textConfidence(text: string): number {
  if (isDontKnow(text)) return 0;
  const words = text.trim().split(/\s+/).filter(Boolean).length;
  const specific = /\d|\$|€|£|%/.test(text);
  if (words >= 4 || specific) return 0.9;
  if (words >= 2) return 0.85;
  return 0.7;
}

export type SlotAnswer =
  | { kind: "suggestion"; text: string }
  | { kind: "text"; text: string }
  | { kind: "unknown" };

export interface AnswerEffect {
  slots: ClaritySlots;
  /** Clarity after minus before. */
  gained: number;
  /** The confidence the answered slot reached (unchanged for "don't know"). */
  confidence: number;
}

/** Applies one answer to a question about `slot`; returns new slots (the input is not changed). */
export function applyAnswer(slots: ClaritySlots, slot: Slot, answer: SlotAnswer): AnswerEffect {
  const before = clarityScore(slots);
  const next = cloneSlots(slots);
  const state = next[slot];
  state.asked += 1;
  if (answer.kind === "suggestion") {
    raise(state, ANSWER_CONFIDENCE, answer.text, "answer");
  } else if (answer.kind === "text") {
    const confidence = textConfidence(answer.text);
    if (confidence > 0) {
      raise(state, confidence, answer.text.trim(), "answer");
      // Free text often says something about other slots too (a deadline in an intent answer).
      for (const other of SLOTS) {
        if (other !== slot && SLOT_CUES[other].test(answer.text) && next[other].confidence < 0.6) {
          next[other].confidence = 0.6;
          if (next[other].source === "none") next[other].source = "answer";
        }
      }
    }
  }
  return { slots: next, gained: round3(clarityScore(next) - before), confidence: state.confidence };
}

/** Pre-fills a slot from a learned pattern, at the pattern's confidence (never above a real answer). */
export function applyPattern(
  slots: ClaritySlots,
  slot: Slot,
  value: string,
  confidence: number,
  patternId: number,
): ClaritySlots {
  const next = cloneSlots(slots);
  const state = next[slot];
  const c = Math.min(0.9, confidence);
  if (state.source === "answer" || state.confidence >= c) return next;
  state.confidence = c;
  state.value = value;
  state.source = "pattern";
  state.patternId = patternId;
  return next;
}

/**
 * How much each slot moved between two states, scaled so that a full answer to an unknown slot is
 * 1: the features the outcome model learns from (which slots' information improved the draft).
 */
export function slotProgress(initial: ClaritySlots, final: ClaritySlots): Record<Slot, number> {
  const out = {} as Record<Slot, number>;
  const full = ANSWER_CONFIDENCE - BASE_CONFIDENCE;
  for (const s of SLOTS) {
    out[s] = Math.max(0, Math.min(1, (final[s].confidence - initial[s].confidence) / full));
  }
  return out;
}

/**
 * Slots a question may still be about: not asked before in this thread, and either not clear yet
 * or only assumed from a pattern (the question then confirms or corrects the assumption).
 */
export function openSlots(slots: ClaritySlots): Slot[] {
  return SLOTS.filter((s) => slots[s].asked === 0 && (!isClear(slots[s]) || slots[s].source === "pattern"));
}

function cloneSlots(slots: ClaritySlots): ClaritySlots {
  const out = {} as ClaritySlots;
  for (const s of SLOTS) out[s] = { ...slots[s] };
  return out;
}

function raise(state: SlotState, confidence: number, value: string, source: SlotSource): void {
  if (confidence >= state.confidence || state.source !== "answer") {
    state.confidence = Math.max(confidence, state.source === "answer" ? state.confidence : 0);
    state.value = value;
    state.source = source;
    state.patternId = undefined;
  }
}

const round3 = (n: number) => Math.round(n * 1000) / 1000;
