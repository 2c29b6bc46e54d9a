import { clarityScore } from "../../learning/clarity.ts";
import { preferenceList } from "../../learning/preferences.ts";
import { quickAnalyze, SLOTS, type Slot } from "../../learning/quick-analysis.ts";
import type { ConversationContext } from "./context.ts";
import { applyLearning } from "./prefill.ts";
import { type AppliedOptimization, asSlot, freshState, parseState, round3 } from "./records.ts";

/**
 * The meta-learning read-outs and the optimize action (HTTP API's LearningPort, the engine's
 * InsightsPort, /patterns, benchmarks): what is applied to a thread, the learned patterns, what
 * the question model believes, a user's preferences as prompt text.
 */

export interface OptimizeResult {
  applied: AppliedOptimization[];
  expected_improvements: {
    clarity_before: number;
    clarity_after: number;
    questions_skipped: number;
    seconds_saved: number;
    preferences_applied: number;
  };
}

export interface PatternListing {
  id: number;
  name: string;
  description: string | null;
  category: string;
  trigger: { user_id: string; idea_type: string | null; slot: string };
  value: string;
  confidence: number;
  success_rate: number;
  validations: number;
  successes: number;
  applied: number;
  corrections: number;
  time_saved_seconds: number;
  active: boolean;
  last_applied: string | null;
}

/** optimizeThread as the HTTP API's LearningPort returns it. */
export interface OptimizeReport {
  applied: { id: number; name: string; description: string }[];
  expectedImprovements: string[];
  message: string;
}

/** What the question model believes for an idea type (and user); see explain. */
export interface ModelExplanation {
  gains: Record<Slot, { mean: number; sd: number }>;
  templates: { id: number; name: string; slot: string; answerRate: number; seconds: number }[];
  observed: { questions: number; outcomes: number };
}

/** Applies what is known about the user (patterns, preferences) to a thread; says what it applied. */
export function optimizeThread(ctx: ConversationContext, threadId: number): Promise<OptimizeResult> {
  return ctx.locked(threadId, async () => {
    await ctx.ensureLoaded();
    const thread = await ctx.requireThread(threadId);
    const now = ctx.iso();
    const state =
      parseState(thread.clarity_slots) ??
      freshState(
        thread.original_request,
        thread.idea_type ?? quickAnalyze(thread.original_request).ideaType,
        thread.user_id,
        ctx.policy(),
      );
    const before = clarityScore(state.slots);
    const learned =
      !state.stop && state.policy === "learning"
        ? await applyLearning(ctx, thread, state, await ctx.draftOne(threadId), now, false)
        : {};
    await ctx.threads.update(threadId, {
      ...learned,
      claritySlots: JSON.stringify(state),
      finalClarity: clarityScore(state.slots),
      now,
    });
    const patternsApplied = state.applied.filter((a) => a.kind === "pattern");
    const secondsSaved = patternsApplied.reduce((s, a) => s + (a.secondsSaved ?? 0), 0);
    return {
      applied: state.applied,
      expected_improvements: {
        clarity_before: clarityScore(state.initial),
        clarity_after: Math.max(before, clarityScore(state.slots)),
        questions_skipped: patternsApplied.length,
        seconds_saved: Math.round(secondsSaved * 10) / 10,
        preferences_applied: state.applied.filter((a) => a.kind === "preference").length,
      },
    };
  });
}

/** Learned patterns with their confidence and success rate (GET /api/learn/patterns, /patterns). */
export async function listPatterns(ctx: ConversationContext): Promise<PatternListing[]> {
  const threshold = ctx.config.number("hermes.learning.confidence_threshold");
  return (await ctx.patternsRepo.all()).map((p) => ({
    id: p.id,
    name: p.name,
    description: p.description,
    category: p.category,
    trigger: { user_id: p.userId, idea_type: p.ideaType, slot: p.slot },
    value: p.value,
    confidence: p.confidence,
    success_rate:
      p.validationCount === 0 ? 0 : Math.round((p.successCount / p.validationCount) * 1000) / 1000,
    validations: p.validationCount,
    successes: p.successCount,
    applied: p.evolution.applied,
    corrections: p.evolution.corrections,
    time_saved_seconds: p.timeSavedEstimate,
    active: p.confidence >= threshold,
    last_applied: p.lastApplied,
  }));
}

/**
 * optimizeThread in the shape of the HTTP API's LearningPort (src/http/deps.ts):
 * what was applied, and the expected improvements as sentences.
 */
export async function optimizeReport(ctx: ConversationContext, threadId: number): Promise<OptimizeReport> {
  const r = await optimizeThread(ctx, threadId);
  const e = r.expected_improvements;
  const improvements = [
    `clarity ${e.clarity_before.toFixed(2)} → ${e.clarity_after.toFixed(2)}`,
    ...(e.questions_skipped > 0
      ? [`${e.questions_skipped} question(s) skipped, about ${e.seconds_saved} s of your time saved`]
      : []),
    ...(e.preferences_applied > 0
      ? [`${e.preferences_applied} preference(s) applied to the refined draft`]
      : []),
  ];
  return {
    applied: r.applied.map((a) => ({
      id: a.id,
      name: a.name,
      description:
        a.kind === "pattern"
          ? `assumed ${a.slot ?? "slot"}: "${a.value}" (confidence ${a.confidence.toFixed(2)})`
          : `preference ${a.name} = ${a.value} (confidence ${a.confidence.toFixed(2)})`,
    })),
    expectedImprovements: improvements,
    message:
      r.applied.length === 0 ? "Nothing learned applies to this idea yet." : `Applied ${r.applied.length}.`,
  };
}

/**
 * What Hermes has learned, in a few readable lines (the engine's InsightsPort, for /patterns): the
 * user's preferences that go into their prompts, and the strongest patterns.
 */
export async function patternsSummary(
  ctx: ConversationContext,
  userId?: string,
): Promise<string | undefined> {
  const prefs = userId === undefined ? [] : await ctx.preferences.applicable(userId);
  const all = (await listPatterns(ctx)).filter((p) => p.active);
  const lines = all
    .slice(0, 10)
    .map(
      (p) =>
        `• ${p.trigger.slot} for ${p.trigger.idea_type ?? "any"} ideas → “${p.value}” ` +
        `(confidence ${p.confidence.toFixed(2)}, right ${p.successes}/${p.validations}, applied ${p.applied}×)`,
    );
  const questions = userId === undefined ? [] : await questionLessons(ctx, userId);
  if (all.length === 0 && prefs.length === 0 && questions.length === 0) return undefined;
  return [
    ...(prefs.length > 0 ? ["Preferences in every draft's prompt:", preferenceList(prefs)] : []),
    ...questions,
    ...(all.length > 0 ? [`${all.length} learned pattern(s) in use:`, ...lines] : []),
  ].join("\n");
}

/**
 * What the user's ratings of draft 1 against draft 2 taught the question model, per idea type:
 * which kinds of question it now expects to help most and least (what the rating toast promised).
 */
async function questionLessons(ctx: ConversationContext, userId: string): Promise<string[]> {
  await ctx.ensureLoaded();
  const types = new Map<string, number>();
  for (const r of await ctx.threads.ratedOutcomes()) {
    const state = parseState(r.claritySlots);
    if (state?.stop && state.userId === userId)
      types.set(state.ideaType, (types.get(state.ideaType) ?? 0) + 1);
  }
  if (types.size === 0) return [];
  const lines = [...types].slice(0, 5).map(([type, n]) => {
    const gains = Object.entries(ctx.model.gains(type, userId)).sort((a, b) => b[1] - a[1]);
    const [best, worst] = [gains[0], gains.at(-1)];
    const fmt = (g: [string, number] | undefined) =>
      g ? `${g[0]} (${g[1] >= 0 ? "+" : ""}${g[1].toFixed(2)})` : "?";
    return `• ${type} ideas (${n} rated pair(s)): questions about ${fmt(best)} help most, ${fmt(worst)} least`;
  });
  return ["What your ratings of first vs refined drafts taught the questions:", ...lines];
}

/**
 * What the question model believes for an idea type (and user): per slot the mean gain and its
 * uncertainty, per template the answer rate and seconds. For the API, /patterns and benchmarks.
 */
export async function explain(
  ctx: ConversationContext,
  ideaType: string,
  userId: string | null = null,
): Promise<ModelExplanation> {
  await ctx.ensureLoaded();
  const mean = ctx.model.gains(ideaType, userId);
  const sd = ctx.model.gainSd(ideaType);
  const gains = {} as Record<Slot, { mean: number; sd: number }>;
  for (const s of SLOTS) gains[s] = { mean: round3(mean[s]), sd: round3(sd[s]) };
  return {
    gains,
    templates: ctx.templates.map((t) => {
      const slot = asSlot(t.category);
      const [a, b] = ctx.model.answerBeta(t.id, slot, ideaType, userId);
      return {
        id: t.id,
        name: t.name,
        slot: t.category,
        answerRate: round3(a / (a + b)),
        seconds: round3(ctx.model.seconds(t.id, slot, ideaType, userId, t.expectedSeconds)),
      };
    }),
    observed: ctx.model.size,
  };
}

/** The `preferences` text for a user's prompts (e.g. for draft 1), "(none known yet)" when none. */
export async function preferencesFor(ctx: ConversationContext, userId: string): Promise<string> {
  if (ctx.policy() !== "learning") return preferenceList([]);
  return preferenceList(await ctx.preferences.applicable(userId));
}
