import { applyPattern } from "../../learning/clarity.ts";
import { threadStyle } from "../../learning/preferences.ts";
import type { Slot } from "../../learning/quick-analysis.ts";
import type { Job } from "../../store/jobs/types.ts";
import type { PatternRecord } from "../../store/learning/patterns-repo.ts";
import type { LearningThread, ThreadLearningUpdate } from "../../store/threads/learning-repo.ts";
import type { ConversationContext } from "./context.ts";
import { type ConversationState, kindOf, SLOT_LABELS } from "./records.ts";

/**
 * What is already known about the user, applied before any question: slots pre-filled from
 * validated patterns of this kind of idea (recorded as pre-fill rows, so the refine prompt shows
 * them as assumptions; the user sees them too and can correct them: assumptions.ts), and the user's
 * preferences attached to the conversation.
 */

/**
 * Thread fields a step changed besides the conversation state (what applyLearning set, the initial
 * clarity): written with the state it saves next (planNext's `saveWith`).
 */
export type LearnedThreadFields = Omit<ThreadLearningUpdate, "now">;

/**
 * Pre-fills slots from patterns and attaches preferences (learning policy only). Returns the
 * thread's columns it set (style, what was applied) instead of writing them: both callers save the
 * conversation state on the thread right after, and one update is one write instead of three.
 */
export async function applyLearning(
  ctx: ConversationContext,
  thread: LearningThread,
  state: ConversationState,
  draft1: Job | undefined,
  now: string,
  allowValidation = true,
): Promise<LearnedThreadFields> {
  const owner = state.userId;
  if (owner === null) return {};
  const style = await attachPreferences(ctx, state, owner, now);
  await prefillFromPatterns(ctx, thread, state, owner, draft1, now, allowValidation);
  return { ...style, ...appliedFields(state) };
}

/** Attaches the user's applicable preferences not yet attached; the thread's style follows from them. */
async function attachPreferences(
  ctx: ConversationContext,
  state: ConversationState,
  owner: string,
  now: string,
): Promise<LearnedThreadFields> {
  const prefs = await ctx.preferences.applicable(owner);
  const known = new Set(state.applied.map((a) => `${a.kind}:${a.id}`));
  const fresh = prefs.filter((p) => !known.has(`preference:${p.id}`));
  for (const p of fresh) {
    state.applied.push({
      kind: "preference",
      id: p.id,
      name: `${p.category}.${p.key}`,
      value: p.value,
      confidence: p.confidence,
      at: now,
    });
  }
  if (fresh.length > 0) await ctx.preferences.markApplied(fresh, now);
  const style = threadStyle(prefs);
  return { communicationStyle: style.communicationStyle, depthPreference: style.depthPreference };
}

/**
 * Pre-fills the unasked slots the user's validated patterns for this kind of idea cover (per-user
 * learning only). A pattern not yet validated — and now and then a validated one — has its
 * question asked instead, with the assumed value offered first.
 */
async function prefillFromPatterns(
  ctx: ConversationContext,
  thread: LearningThread,
  state: ConversationState,
  owner: string,
  draft1: Job | undefined,
  now: string,
  allowValidation: boolean,
): Promise<void> {
  const threshold = ctx.config.number("hermes.learning.confidence_threshold");
  const applicable = ctx.perUser
    ? await ctx.patternLearner.applicable(
        owner,
        kindOf(state),
        threshold,
        ctx.config.number("hermes.learning.pattern_validation_threshold"),
      )
    : new Map<Slot, never>();
  for (const [slot, { pattern: p, validated }] of applicable) {
    const s = state.slots[slot];
    if (s.source === "answer" || s.source === "pattern" || s.asked > 0) continue;
    if (!validated || (allowValidation && ctx.random() < (1 - p.confidence) / 2)) {
      state.validating[slot] = p.id;
      continue;
    }
    await prefillOne(ctx, thread, state, draft1, now, p, slot);
  }
}

/** Assumes a pattern's value for a slot: the state, the list of what was applied, a pre-fill row. */
async function prefillOne(
  ctx: ConversationContext,
  thread: LearningThread,
  state: ConversationState,
  draft1: Job | undefined,
  now: string,
  p: PatternRecord,
  slot: Slot,
): Promise<void> {
  state.slots = applyPattern(state.slots, slot, p.value, p.confidence, p.id);
  state.applied.push({
    kind: "pattern",
    id: p.id,
    name: p.name,
    slot,
    value: p.value,
    confidence: p.confidence,
    at: now,
    secondsSaved: p.timeSavedEstimate,
  });
  await ctx.conversations.insertPrefill({
    threadId: thread.id,
    jobId: draft1?.id ?? null,
    phase: "initial",
    text: `(assumed from earlier conversations) ${SLOT_LABELS[slot]}`,
    slot,
    templateId: null,
    confidence: p.confidence,
    position: null,
    askedDate: now,
    patternMatched: `${p.id}:${p.name}`,
    plan: { suggestions: [], policy: "pattern" },
    value: p.value,
  });
  await ctx.patternLearner.markApplied(p, thread.id, now);
}

/** What was applied (patterns, preferences) and the patterns' mean confidence, as thread columns. */
function appliedFields(state: ConversationState): LearnedThreadFields {
  const patternsApplied = state.applied.filter((a) => a.kind === "pattern");
  return {
    learnedPatterns: JSON.stringify(patternsApplied.map((a) => ({ id: a.id, slot: a.slot, value: a.value }))),
    optimizationApplied: JSON.stringify(state.applied),
    patternConfidence:
      patternsApplied.length === 0
        ? 0
        : Math.round(
            (patternsApplied.reduce((s, a) => s + a.confidence, 0) / patternsApplied.length) * 1000,
          ) / 1000,
  };
}
