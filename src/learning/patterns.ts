import type { PatternRecord, PatternsRepo } from "../store/learning/patterns-repo.ts";
import type { ConversationsRepo, UserAnswerRow } from "../store/threads/conversations-repo.ts";
import { normaliseAnswer, sameAnswer } from "./effectiveness.ts";
import { ideaKind, type Slot } from "./quick-analysis.ts";

/**
 * learned_patterns for conversations: "for this kind of idea, this user always gives the same
 * answer to this slot" (the kind is quick-analysis ideaKind: a device budget is no trip budget, so a
 * pattern is scoped to the kind it was learned from and applied nowhere else; patterns "for any
 * type" from earlier versions are no longer applied). Discovered from the user's answered questions
 * when a conversation ends:
 * among the last WINDOW answers, the most common (normalised) one must appear at least
 * MIN_OBSERVATIONS times and make up at least `hermes.learning.pattern_validation_threshold` of them.
 *
 * confidence = (success_count + 1) / (validation_count + 2), where validation_count counts the
 * user's answers to that slot seen since (and including) discovery and success_count those that
 * matched. A pattern is applied — the slot pre-filled, its question skipped, the assumption shown to
 * the user with a one-tap correction — only at or above `hermes.learning.confidence_threshold` and
 * once validated: MIN_CONFIRMATIONS answers since it was found (or its value last changed, or it was
 * last corrected) agreed
 * with it when the question was asked, and its confidence is at least
 * `hermes.learning.pattern_validation_threshold` (a habit kept four times in five is worth assuming;
 * a looser one is only offered first). Until then, and now and then after (probability
 * (1 − confidence) / 2), the question is asked with the assumed value offered first. An answer that
 * contradicts it, or a tap on "Change" under the assumption, is a correction: the pattern weakens
 * and stops being applied once it falls below the threshold.
 */
const MIN_OBSERVATIONS = 3;
export const MIN_CONFIRMATIONS = 2;
export const WINDOW = 8;

export interface PatternSettings {
  confidenceThreshold: number;
  validationThreshold: number;
}

const patternName = (userId: string, kind: string, slot: string) =>
  `prefill ${slot} · ${kind} · user ${userId}`;

/**
 * Answers that agreed with the pattern since it was found, its value last changed or it was last
 * corrected (a correction sends it back to validation: it is not assumed again until confirmed).
 */
export function confirmations(p: Pick<PatternRecord, "evolution">): number {
  const history = p.evolution.history;
  let since = 0;
  history.forEach((h, i) => {
    if (h.event === "value changed" || h.event === "corrected") since = i + 1;
  });
  return history.slice(since).filter((h) => h.event === "confirmed").length;
}

/** A pattern the flow may use for a slot, and whether it is validated enough to pre-fill. */
export interface ApplicablePattern {
  pattern: PatternRecord;
  validated: boolean;
}

export const confidenceOf = (success: number, validations: number) =>
  Math.round(((success + 1) / (validations + 2)) * 1000) / 1000;

export interface AnswerCheck {
  /** The pattern the answer was checked against, if any. */
  pattern: PatternRecord | undefined;
  /** The answer contradicts a pattern that was (or would have been) applied. */
  correction: boolean;
}

export class PatternLearner {
  private readonly patterns: PatternsRepo;
  private readonly conversations: ConversationsRepo;

  constructor(patterns: PatternsRepo, conversations: ConversationsRepo) {
    this.patterns = patterns;
    this.conversations = conversations;
  }

  /**
   * The pattern per slot for this user and kind of idea, at or above the confidence threshold; a
   * pattern pre-fills only when `validated` (else its question is asked to validate it).
   */
  async applicable(
    userId: string,
    kind: string,
    threshold: number,
    validationThreshold: number,
  ): Promise<Map<Slot, ApplicablePattern>> {
    const out = new Map<Slot, ApplicablePattern>();
    const mine = (await this.patterns.forUser(userId)).filter(
      (p) => p.ideaType === kind && p.confidence >= threshold && p.value !== "",
    );
    for (const p of mine) {
      const slot = p.slot as Slot;
      const current = out.get(slot);
      if (!current || p.confidence > current.pattern.confidence)
        out.set(slot, {
          pattern: p,
          validated: confirmations(p) >= MIN_CONFIRMATIONS && p.confidence >= validationThreshold,
        });
    }
    return out;
  }

  /** The user tapped "Change" under an assumption: the pattern counts one correction. */
  async correct(p: PatternRecord, nowIso: string, detail: string): Promise<void> {
    const validationCount = p.validationCount + 1;
    await this.patterns.update(p.id, p.slot, {
      validationCount,
      confidence: confidenceOf(p.successCount, validationCount),
      lastValidated: nowIso,
      evolution: {
        ...p.evolution,
        corrections: p.evolution.corrections + 1,
        history: [...p.evolution.history, { at: nowIso, event: "corrected", detail }],
      },
    });
  }

  /**
   * A substantive answer about a slot: every pattern of this user for the slot (this type or any)
   * is validated against it. Returns the most specific one and whether the answer corrects it.
   */
  async observeAnswer(
    userId: string,
    kind: string,
    slot: Slot,
    answer: string,
    threshold: number,
    nowIso: string,
  ): Promise<AnswerCheck> {
    const mine = (await this.patterns.forUser(userId)).filter((p) => p.slot === slot && p.ideaType === kind);
    let primary: PatternRecord | undefined;
    let correction = false;
    for (const p of mine) {
      const matched = sameAnswer(answer, p.value);
      const validationCount = p.validationCount + 1;
      const successCount = p.successCount + (matched ? 1 : 0);
      const wasApplied = p.confidence >= threshold;
      const evolution = {
        ...p.evolution,
        corrections: p.evolution.corrections + (matched ? 0 : 1),
        history: [
          ...p.evolution.history,
          { at: nowIso, event: matched ? "confirmed" : "corrected", detail: matched ? undefined : answer },
        ],
      };
      await this.patterns.update(p.id, p.slot, {
        validationCount,
        successCount,
        confidence: confidenceOf(successCount, validationCount),
        lastValidated: nowIso,
        evolution,
      });
      if (!primary) {
        primary = p;
        correction = !matched && wasApplied;
      }
    }
    return { pattern: primary, correction };
  }

  /** Looks for new (or changed) patterns in the user's answers to these slots, for this kind of idea. */
  async discover(
    userId: string,
    kind: string,
    slots: readonly Slot[],
    settings: PatternSettings,
    templateIds: (slot: Slot) => number[],
    nowIso: string,
  ): Promise<PatternRecord[]> {
    const found: PatternRecord[] = [];
    for (const slot of slots) {
      const pattern = await this.discoverOne(userId, kind, slot, settings, templateIds, nowIso);
      if (pattern) found.push(pattern);
    }
    return found;
  }

  /**
   * One (user, kind, slot): a new pattern when the window's most common answer is frequent enough,
   * the changed pattern when that answer differs from the stored one, else nothing.
   */
  private async discoverOne(
    userId: string,
    scope: string,
    slot: Slot,
    settings: PatternSettings,
    templateIds: (slot: Slot) => number[],
    nowIso: string,
  ): Promise<PatternRecord | undefined> {
    // The kind is derived from each idea's text, so the answers are filtered here.
    const rows = (await this.conversations.userAnswers(userId, slot, null, WINDOW * 6))
      .filter((r) => ideaKind(r.original_request, r.idea_type ?? "mixed") === scope)
      .slice(0, WINDOW);
    const mode = modeOf(rows);
    if (!mode || mode.count < MIN_OBSERVATIONS || mode.count / rows.length < settings.validationThreshold)
      return undefined;
    const name = patternName(userId, scope, slot);
    const existing = await this.patterns.byName(name);
    const evidence: Evidence = {
      value: mode.value,
      description: `${userId} answers ${slot} with "${mode.value}" for ${scope} ideas`,
      validationCount: rows.length,
      successCount: mode.count,
      confidence: confidenceOf(mode.count, rows.length),
      timeSavedEstimate: round1(mean(rows.map((r) => r.response_time_seconds))),
    };
    if (!existing) {
      return this.patterns.insert({
        ...evidence,
        name,
        impact: `skips the ${slot} question (about ${evidence.timeSavedEstimate} s of the user's time)`,
        userId,
        ideaType: scope,
        slot,
        templateIds: templateIds(slot),
        now: nowIso,
      });
    }
    if (normaliseAnswer(existing.value) === normaliseAnswer(mode.value)) return undefined;
    // The habit changed: the new answer replaces the old one, with the window's evidence.
    const detail = `${existing.value} → ${mode.value}`;
    await this.patterns.update(existing.id, slot, {
      ...evidence,
      lastValidated: nowIso,
      evolution: {
        ...existing.evolution,
        history: [...existing.evolution.history, { at: nowIso, event: "value changed", detail }],
      },
    });
    return this.patterns.byId(existing.id);
  }

  async markApplied(p: PatternRecord, threadId: number, nowIso: string): Promise<void> {
    await this.patterns.update(p.id, p.slot, {
      lastApplied: nowIso,
      evolution: {
        ...p.evolution,
        applied: p.evolution.applied + 1,
        history: [...p.evolution.history, { at: nowIso, event: "applied", detail: `thread ${threadId}` }],
      },
    });
  }
}

/** Answers grouped by normalised text, most frequent first (ties: most recent first). */
function groupAnswers(rows: readonly UserAnswerRow[]): { value: string; count: number }[] {
  const groups = new Map<string, { value: string; count: number }>();
  // Newest first: the first spelling seen of a group is the newest.
  for (const r of rows) {
    const text = r.user_response ?? "";
    const key = normaliseAnswer(text);
    if (key === "") continue;
    const g = groups.get(key) ?? { value: text.trim(), count: 0 };
    g.count++;
    groups.set(key, g);
  }
  return [...groups.values()].sort((a, b) => b.count - a.count);
}

/** What a window of answers says about a pattern: its value and how well the answers back it. */
interface Evidence {
  value: string;
  description: string;
  validationCount: number;
  successCount: number;
  confidence: number;
  timeSavedEstimate: number;
}

function modeOf(rows: readonly UserAnswerRow[]): { value: string; count: number } | undefined {
  return groupAnswers(rows)[0];
}

const mean = (xs: number[]) => (xs.length === 0 ? 0 : xs.reduce((s, x) => s + x, 0) / xs.length);
const round1 = (n: number) => Math.round(n * 10) / 10;
