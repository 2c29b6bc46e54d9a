import type { PatternRecord, PatternsRepo } from "../store/learning/patterns-repo.ts";
import type { ConversationsRepo, UserAnswerRow } from "../store/threads/conversations-repo.ts";
import { normaliseAnswer, sameAnswer } from "./effectiveness.ts";
import type { Slot } from "./quick-analysis.ts";

/**
 * learned_patterns for conversations: "for this idea type (or any), this user always gives the same
 * answer to this slot". Discovered from the user's answered questions when a conversation ends:
 * among the last WINDOW answers, the most common (normalised) one must appear at least
 * MIN_OBSERVATIONS times and make up at least `hermes.learning.pattern_validation_threshold` of them.
 *
 * confidence = (success_count + 1) / (validation_count + 2), where validation_count counts the
 * user's answers to that slot seen since (and including) discovery and success_count those that
 * matched. A pattern is applied — the slot pre-filled and its question skipped — only at or above
 * `hermes.learning.confidence_threshold`; now and then (probability (1 − confidence) / 2) the
 * question is asked anyway to validate it. An answer that contradicts it is a correction: the
 * pattern weakens and stops being applied once it falls below the threshold.
 */
const MIN_OBSERVATIONS = 3;
export const WINDOW = 8;

export interface PatternSettings {
  confidenceThreshold: number;
  validationThreshold: number;
}

const patternName = (userId: string, ideaType: string | null, slot: string) =>
  `prefill ${slot} · ${ideaType ?? "any type"} · user ${userId}`;

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
   * The best pattern per slot for this user and idea type (type-specific first), at or above the
   * confidence threshold. A pattern for "any type" is not applied to a type where the user's own
   * recent answers contradict it (at least MIN_OBSERVATIONS of them, and its value below the
   * validation threshold among them).
   */
  async applicable(
    userId: string,
    ideaType: string,
    threshold: number,
    validationThreshold = 0.8,
  ): Promise<Map<Slot, PatternRecord>> {
    const out = new Map<Slot, PatternRecord>();
    const mine = (await this.patterns.forUser(userId)).filter(
      (p) => (p.ideaType === null || p.ideaType === ideaType) && p.confidence >= threshold && p.value !== "",
    );
    if (mine.length === 0) return out;
    const recent = mine.some((p) => p.ideaType === null)
      ? (await this.conversations.recentAnswers(userId, WINDOW * 6)).filter((r) => r.idea_type === ideaType)
      : [];
    for (const p of mine) {
      const slot = p.slot as Slot;
      if (p.ideaType === null) {
        const here = recent.filter((r) => r.question_type === slot).slice(0, WINDOW);
        const agree = here.filter((r) => sameAnswer(r.user_response ?? "", p.value)).length;
        if (here.length >= MIN_OBSERVATIONS && agree / here.length < validationThreshold) continue;
      }
      const current = out.get(slot);
      const better =
        !current ||
        (p.ideaType !== null && current.ideaType === null) ||
        ((p.ideaType === null) === (current.ideaType === null) && p.confidence > current.confidence);
      if (better) out.set(slot, p);
    }
    return out;
  }

  /**
   * A substantive answer about a slot: every pattern of this user for the slot (this type or any)
   * is validated against it. Returns the most specific one and whether the answer corrects it.
   */
  async observeAnswer(
    userId: string,
    ideaType: string,
    slot: Slot,
    answer: string,
    threshold: number,
    nowIso: string,
  ): Promise<AnswerCheck> {
    const mine = (await this.patterns.forUser(userId)).filter(
      (p) => p.slot === slot && (p.ideaType === null || p.ideaType === ideaType),
    );
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
      if (!primary || (p.ideaType !== null && primary.ideaType === null)) {
        primary = p;
        correction = !matched && wasApplied;
      }
    }
    return { pattern: primary, correction };
  }

  /** Looks for new (or changed) patterns in the user's answers to these slots. */
  async discover(
    userId: string,
    ideaType: string,
    slots: readonly Slot[],
    settings: PatternSettings,
    templateIds: (slot: Slot) => number[],
    nowIso: string,
  ): Promise<PatternRecord[]> {
    const found: PatternRecord[] = [];
    for (const slot of slots) {
      for (const scope of [ideaType, null]) {
        const pattern = await this.discoverOne(userId, scope, slot, settings, templateIds, nowIso);
        if (pattern) found.push(pattern);
      }
    }
    return found;
  }

  /**
   * One (user, idea type or any, slot): a new pattern when the window's most common answer is
   * frequent enough, the changed pattern when that answer differs from the stored one, else nothing.
   */
  private async discoverOne(
    userId: string,
    scope: string | null,
    slot: Slot,
    settings: PatternSettings,
    templateIds: (slot: Slot) => number[],
    nowIso: string,
  ): Promise<PatternRecord | undefined> {
    const rows = await this.conversations.userAnswers(userId, slot, scope, WINDOW);
    const mode = modeOf(rows);
    if (!mode || mode.count < MIN_OBSERVATIONS || mode.count / rows.length < settings.validationThreshold)
      return undefined;
    const name = patternName(userId, scope, slot);
    const existing = await this.patterns.byName(name);
    const evidence: Evidence = {
      value: mode.value,
      description: `${userId} answers ${slot} with "${mode.value}" for ${scope ?? "any"} ideas`,
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
