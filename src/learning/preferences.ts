import type {
  PreferenceRecord,
  PreferenceSource,
  PreferencesRepo,
} from "../store/learning/preferences-repo.ts";
import type { Slot } from "./quick-analysis.ts";

/**
 * user_preferences: how a person likes their drafts, learned from
 * - explicit feedback ("shorter" / "more detail" → depth.length; source explicit_user_feedback),
 * - their answers (a "one page" scope → concise; "I'm an expert" → technical; source inference),
 * - ratings of drafts written with a preference (≥ 4 confirms it a little; ≤ 2 weakens a preference
 *   Hermes only inferred, never one the person asked for: a low rating judges the whole draft —
 *   mostly what it missed — and says nothing against "more detail" they requested).
 *
 * An explicit request stands until the person contradicts it: neither ratings nor what is inferred
 * from their answers lower it; only another explicit request does (shorter after more detail).
 *
 * Each preference has a confidence (applied to prompts at ≥ APPLY_AT), a stability (1 = never
 * contradicted lately) and counts. The same value again raises confidence by a step that depends on
 * the source; a different value is a correction: confidence drops, and below FLIP_BELOW the new
 * value replaces the old one.
 */
export const APPLY_AT = 0.5;
const FLIP_BELOW = 0.3;

const SOURCE_STEP: Record<PreferenceSource, { initial: number; step: number; drop: number }> = {
  explicit_user_feedback: { initial: 0.75, step: 0.3, drop: 0.35 },
  observed_pattern: { initial: 0.6, step: 0.15, drop: 0.2 },
  inference: { initial: 0.45, step: 0.1, drop: 0.1 },
};

export interface PreferenceSignal {
  category: string;
  key: string;
  value: string;
  source: PreferenceSource;
  learnedFrom?: number | null;
}

/** "kept": a weaker source disagreed with an explicit request, which stands. */
export type PreferenceChangeKind = "new" | "confirmed" | "corrected" | "replaced" | "kept";

const DESCRIPTIONS: Record<string, string> = {
  "depth.length=concise": "Keep it short and to the point.",
  "depth.length=detailed": "Go into detail; thoroughness is welcome.",
  "communication.style=technical": "Technical language is fine; skip the basics.",
  "communication.style=plain": "Use plain language and explain terms.",
};

/** A readable sentence for a preference, as it goes into prompts. */
function describePreference(p: { category: string; key: string; value: string }): string {
  return DESCRIPTIONS[`${p.category}.${p.key}=${p.value}`] ?? `${p.category} ${p.key}: ${p.value}`;
}

/** The `preferences` prompt variable: one line per applied preference. */
export function preferenceList(prefs: readonly { category: string; key: string; value: string }[]): string {
  if (prefs.length === 0) return "(none known yet)";
  return prefs.map((p) => `- ${describePreference(p)}`).join("\n");
}

/** idea_threads.communication_style / depth_preference from applied preferences. */
export function threadStyle(prefs: readonly { category: string; key: string; value: string }[]): {
  communicationStyle: string | null;
  depthPreference: string | null;
} {
  const style = prefs.find((p) => p.category === "communication" && p.key === "style")?.value;
  const depth = prefs.find((p) => p.category === "depth" && p.key === "length")?.value;
  return {
    communicationStyle: style === "technical" ? "technical" : style === "plain" ? "casual" : null,
    depthPreference: depth === "concise" ? "overview" : depth === "detailed" ? "comprehensive" : null,
  };
}

const ASKED_LENGTH: [RegExp, string][] = [
  [
    /\b(keep (it|them|drafts?) (short|shorter|brief)|make (it|them) shorter|shorter please|less detail)\b/,
    "concise",
  ],
  [/\b(more detail|go into detail|in more depth|make (it|them) longer)\b/, "detailed"],
];

/**
 * What an answer says about preferences, if anything: a request in so many words ("keep it short")
 * counts as explicit feedback; anything else is an inference.
 */
export function inferFromAnswer(slot: Slot, answer: string): PreferenceSignal[] {
  const a = answer.toLowerCase();
  const out: PreferenceSignal[] = [];
  // Said in so many words, it is a request like the Shorter / More detail buttons, not a guess.
  const asked = ASKED_LENGTH.find(([re]) => re.test(a));
  if (asked) return [{ category: "depth", key: "length", value: asked[1], source: "explicit_user_feedback" }];
  if (slot === "scope" || slot === "success" || slot === "intent") {
    if (/\b(one page|short list|short and actionable|quick overview|brief|concise|short)\b/.test(a))
      out.push({ category: "depth", key: "length", value: "concise", source: "inference" });
    else if (/\b(deep dive|full plan|thorough|detailed|in depth|comprehensive|everything)\b/.test(a))
      out.push({ category: "depth", key: "length", value: "detailed", source: "inference" });
  }
  if (slot === "context") {
    if (/\b(expert|professional|i work in|engineer|specialist)\b/.test(a))
      out.push({ category: "communication", key: "style", value: "technical", source: "inference" });
    else if (/\b(beginner|new to|never done|no experience|basics)\b/.test(a))
      out.push({ category: "communication", key: "style", value: "plain", source: "inference" });
  }
  return out;
}

export class PreferenceLearner {
  private readonly repo: PreferencesRepo;

  constructor(repo: PreferencesRepo) {
    this.repo = repo;
  }

  forUser(userId: string): Promise<PreferenceRecord[]> {
    return this.repo.forUser(userId);
  }

  /** Preferences confident enough to shape a prompt. */
  async applicable(userId: string): Promise<PreferenceRecord[]> {
    return (await this.repo.forUser(userId)).filter((p) => p.confidence >= APPLY_AT);
  }

  /** A new signal about one preference: adds it, confirms it, weakens it, or (once weak) replaces it. */
  async observe(
    userId: string,
    signal: PreferenceSignal,
    nowIso: string,
  ): Promise<{ kind: PreferenceChangeKind; confidence: number }> {
    const rules = SOURCE_STEP[signal.source];
    const existing = (await this.repo.forUser(userId)).find(
      (p) => p.category === signal.category && p.key === signal.key,
    );
    if (!existing) {
      await this.repo.insert({
        userId,
        category: signal.category,
        key: signal.key,
        value: signal.value,
        confidence: rules.initial,
        stability: 0.5,
        source: signal.source,
        learnedFrom: signal.learnedFrom ?? null,
        now: nowIso,
      });
      return { kind: "new", confidence: rules.initial };
    }
    if (existing.value === signal.value) return this.confirm(existing, signal, nowIso);
    // A guess from an answer ("brief") does not overrule what the person asked for explicitly.
    if (existing.source === "explicit_user_feedback" && signal.source !== "explicit_user_feedback")
      return { kind: "kept", confidence: existing.confidence };
    return this.contradict(existing, signal, nowIso);
  }

  private async confirm(
    existing: PreferenceRecord,
    signal: PreferenceSignal,
    nowIso: string,
  ): Promise<{ kind: PreferenceChangeKind; confidence: number }> {
    const rules = SOURCE_STEP[signal.source];
    // Explicit feedback outranks what was inferred.
    const source = rank(signal.source) > rank(existing.source) ? signal.source : existing.source;
    // A confirmation never leaves a preference less sure than a first statement from that source.
    const confidence = round3(
      Math.max(rules.initial, existing.confidence + (1 - existing.confidence) * rules.step),
    );
    await this.repo.update(existing.id, {
      confidence,
      stability: round3(existing.stability + (1 - existing.stability) * 0.2),
      validationCount: existing.validationCount + 1,
      source,
      learnedFrom: signal.learnedFrom ?? null,
      now: nowIso,
    });
    return { kind: "confirmed", confidence };
  }

  /** Another value: the preference loses confidence, and below FLIP_BELOW the new value takes over. */
  private async contradict(
    existing: PreferenceRecord,
    signal: PreferenceSignal,
    nowIso: string,
  ): Promise<{ kind: PreferenceChangeKind; confidence: number }> {
    const rules = SOURCE_STEP[signal.source];
    const lowered = round3(existing.confidence - rules.drop);
    if (lowered < FLIP_BELOW) {
      await this.repo.update(existing.id, {
        value: signal.value,
        confidence: rules.initial,
        stability: round3(existing.stability * 0.5),
        correctionCount: existing.correctionCount + 1,
        source: signal.source,
        learnedFrom: signal.learnedFrom ?? null,
        now: nowIso,
      });
      return { kind: "replaced", confidence: rules.initial };
    }
    await this.repo.update(existing.id, {
      confidence: lowered,
      stability: round3(existing.stability * 0.6),
      correctionCount: existing.correctionCount + 1,
      now: nowIso,
    });
    return { kind: "corrected", confidence: lowered };
  }

  /**
   * A rating of a draft written with these preferences confirms (≥ 4) them a little; a low one (≤ 2)
   * weakens only what Hermes inferred — an explicit request is not what a low rating judged.
   */
  async fromRating(
    userId: string,
    appliedIds: readonly number[],
    rating: number,
    nowIso: string,
  ): Promise<void> {
    if (appliedIds.length === 0 || rating === 3) return;
    for (const p of await this.repo.forUser(userId)) {
      if (!appliedIds.includes(p.id)) continue;
      if (rating >= 4) {
        await this.repo.update(p.id, {
          confidence: round3(p.confidence + (1 - p.confidence) * 0.05),
          validationCount: p.validationCount + 1,
          now: nowIso,
        });
      } else if (p.source !== "explicit_user_feedback") {
        await this.repo.update(p.id, { confidence: round3(Math.max(0, p.confidence - 0.05)), now: nowIso });
      }
    }
  }

  async markApplied(prefs: readonly PreferenceRecord[], nowIso: string): Promise<void> {
    for (const p of prefs)
      await this.repo.update(p.id, { usageCount: p.usageCount + 1, lastApplied: nowIso, now: nowIso });
  }
}

function rank(source: PreferenceSource): number {
  return source === "explicit_user_feedback" ? 2 : source === "observed_pattern" ? 1 : 0;
}

const round3 = (n: number) => Math.round(n * 1000) / 1000;
