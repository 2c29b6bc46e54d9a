import type { Slot } from "./quick-analysis.ts";

/**
 * The QuestionEffectivenessAnalyzer of the spec. Per question:
 * - clarity_improvement: clarity after the answer minus before;
 * - conversation_efficiency: total improvement per minute of the user's time (spec: improvement ÷
 *   time cost), where total = clarity improvement + quality improvement + satisfaction improvement
 *   (the last two are credited once both drafts are rated, see creditOutcome);
 * - prediction_accuracy: how well we predicted the answer — 1 when the user tapped one of our
 *   suggestions (or confirmed a pattern), the word overlap with the closest suggestion for free
 *   text, 0 for "don't know" / skip or a corrected pattern.
 */
export type AnswerKind = "suggestion" | "text" | "unknown" | "enough";

export interface Effectiveness {
  clarity_improvement: number;
  quality_improvement: number;
  satisfaction_improvement: number;
  efficiency_score: number;
  total_improvement: number;
}

export interface StateSnapshot {
  clarity: number;
  /** Draft quality 0–1 ((rating − 1) / 4), when known. */
  quality?: number | undefined;
  /** Rating 1–5, when known. */
  satisfaction?: number | undefined;
}

/** improvement between two states per minute of the user's time (spec: analyze_question_effectiveness). */
export function analyzeEffectiveness(
  before: StateSnapshot,
  after: StateSnapshot,
  seconds: number,
): Effectiveness {
  const clarity = round3(after.clarity - before.clarity);
  const quality =
    before.quality !== undefined && after.quality !== undefined ? round3(after.quality - before.quality) : 0;
  // Satisfaction on the same 0–1 scale as quality, so the three add up meaningfully.
  const satisfaction =
    before.satisfaction !== undefined && after.satisfaction !== undefined
      ? round3((after.satisfaction - before.satisfaction) / 4)
      : 0;
  const total = round3(clarity + quality + satisfaction);
  return {
    clarity_improvement: clarity,
    quality_improvement: quality,
    satisfaction_improvement: satisfaction,
    efficiency_score: round3(total / minutes(seconds)),
    total_improvement: total,
  };
}

export function predictionAccuracy(
  kind: AnswerKind,
  answer: string,
  suggestions: readonly string[],
  patternValue?: string | null,
): number {
  if (kind === "unknown" || kind === "enough") return 0;
  if (patternValue) return sameAnswer(answer, patternValue) ? 1 : 0;
  if (kind === "suggestion") return 1;
  const words = tokens(answer);
  if (words.size === 0) return 0;
  let best = 0;
  for (const s of suggestions) {
    const other = tokens(s);
    const shared = [...words].filter((w) => other.has(w)).length;
    const union = new Set([...words, ...other]).size;
    best = Math.max(best, union === 0 ? 0 : shared / union);
  }
  return round3(best);
}

export interface CreditInput {
  id: number;
  slot: Slot;
  /** The slot's clarity progress in this thread, 0–1. */
  progress: number;
}

/**
 * Splits a thread's outcome (quality gained from draft 1 to draft 2) over the questions that
 * produced it, in proportion to what the model expected each to contribute (gain × progress);
 * equally when nothing was expected.
 */
export function creditOutcome(
  questions: readonly CreditInput[],
  gains: Record<Slot, number>,
  total: number,
): Map<number, number> {
  const out = new Map<number, number>();
  if (questions.length === 0) return out;
  const weights = questions.map((q) => Math.max(0, gains[q.slot]) * q.progress);
  const sum = weights.reduce((s, w) => s + w, 0);
  questions.forEach((q, i) => {
    const share = sum > 0 ? (weights[i] ?? 0) / sum : 1 / questions.length;
    out.set(q.id, round3(total * share));
  });
  return out;
}

/**
 * Normalised answers by text. Question planning normalises the same template suggestions and
 * learned answers for every candidate question of every idea (a few percent of the CPU per idea);
 * the mapping is pure, so a bounded memo returns the same strings. Only short texts (answers,
 * not ideas) are kept, and it is emptied when full: at most MEMO_SIZE × MEMO_TEXT characters.
 */
const normalised = new Map<string, string>();
const MEMO_SIZE = 4096;
const MEMO_TEXT = 120;

/** Normalised form of an answer, for "same answer again" comparisons. */
export function normaliseAnswer(text: string): string {
  let out = normalised.get(text);
  if (out !== undefined) return out;
  out = text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}$€£%]+/gu, " ")
    .trim()
    .replace(/\s+/g, " ");
  if (text.length > MEMO_TEXT) return out;
  if (normalised.size >= MEMO_SIZE) normalised.clear();
  normalised.set(text, out);
  return out;
}

export function sameAnswer(a: string, b: string): boolean {
  return normaliseAnswer(a) === normaliseAnswer(b);
}

function tokens(text: string): Set<string> {
  return new Set(
    normaliseAnswer(text)
      .split(" ")
      .filter((w) => w.length > 2),
  );
}

const minutes = (seconds: number) => Math.max(1, seconds) / 60;
const round3 = (n: number) => Math.round(n * 1000) / 1000;
