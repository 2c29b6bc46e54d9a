import { clarityScore } from "../learning/clarity.ts";
import { decideNext } from "../learning/conversation-state.ts";
import { SLOTS, type Slot } from "../learning/quick-analysis.ts";
import type { DraftJob, LearningThread } from "../store/thread-learning-repo.ts";
import type { ConversationContext } from "./conversation-context.ts";
import { stopAndRefine } from "./conversation-drafts.ts";
import { type ConversationState, type QuestionPlan, round3, toView } from "./conversation-records.ts";
import type { QuestionView } from "./conversation-types.ts";

/**
 * The next step of a conversation: pick the question worth the user's time (the question model,
 * through SmartQuestionGenerator) with the user's likely answers offered first, or stop.
 */

/** Asks the next question, or stops and queues the refined draft. Saves the state either way. */
export async function planNext(
  ctx: ConversationContext,
  thread: LearningThread,
  state: ConversationState,
  draft1: DraftJob | undefined,
  userSaidEnough: boolean,
  now: string,
): Promise<{ question?: QuestionView; refinedJobId?: number; stopReason?: string }> {
  const clarity = clarityScore(state.slots);
  // What the user is likely to answer, per slot: an assumption from a pattern, or their own
  // frequent answers. Offered first as suggestions (one tap instead of typing it again).
  const personal =
    !userSaidEnough && state.policy === "learning" && (ctx.d.perUser ?? true) && state.userId !== null
      ? await ctx.patternLearner.habitualAnswers(state.userId, state.ideaType)
      : new Map<Slot, string[]>();
  const likely = new Map<Slot, string[]>();
  for (const slot of SLOTS) {
    const s = state.slots[slot];
    const assumed = s.source === "pattern" && s.value !== null ? [s.value] : [];
    const values = dedupe([...assumed, ...(personal.get(slot) ?? [])]);
    if (values.length > 0) likely.set(slot, values);
  }
  const selection = userSaidEnough
    ? { best: undefined, floor: undefined, stop: undefined }
    : ctx.generator.select(
        {
          slots: state.slots,
          ideaType: state.ideaType,
          userId: state.userId,
          idea: thread.original_request,
          asked: state.asked,
          templates: ctx.templates,
          assisted: new Set(likely.keys()),
        },
        state.policy,
      );
  const decision = decideNext({
    clarity,
    asked: state.asked,
    maxQuestions: ctx.d.config.number("hermes.learning.max_questions_per_conversation"),
    userSaidEnough,
    bestValue: selection.best?.value,
    floor: selection.floor,
    policyStop: selection.stop,
  });
  const best = selection.best;
  if (decision.ask && best) {
    state.asked += 1;
    const patternId = state.validating[best.slot] ?? state.slots[best.slot].patternId;
    const pattern = patternId === undefined ? undefined : await ctx.patternsRepo.byId(patternId);
    const offered = dedupe([...(pattern ? [pattern.value] : []), ...(likely.get(best.slot) ?? [])]);
    const popular =
      state.policy === "learning" ? ctx.suggestionLearner.popular(state.ideaType, best.slot) : [];
    const suggestions = dedupe([...offered, ...popular, ...best.template.suggestions]).slice(0, 4);
    const plan: QuestionPlan = {
      suggestions,
      policy: state.policy,
      ...(offered.length > 0 ? { assisted: true } : {}),
      ...(Number.isFinite(best.value)
        ? {
            predicted_improvement: round3(best.improvement),
            predicted_seconds: round3(best.seconds),
            value: Math.round(best.value * 1e5) / 1e5,
          }
        : {}),
    };
    const row = await ctx.conversations.insert({
      threadId: thread.id,
      jobId: draft1?.id ?? null,
      phase: state.asked === 1 ? "initial" : "clarification",
      text: best.template.text.replaceAll("{{topic}}", state.topic),
      slot: best.slot,
      templateId: best.template.id,
      confidence: best.confidence,
      position: state.asked,
      askedDate: now,
      patternMatched: pattern ? `${pattern.id}:${pattern.name}` : null,
      plan,
    });
    await ctx.templatesRepo.recordUse(best.template.id, now);
    await ctx.threads.update(thread.id, {
      claritySlots: JSON.stringify(state),
      finalClarity: clarity,
      now,
    });
    return { question: toView(row, suggestions, thread.id) };
  }
  return stopAndRefine(ctx, thread, state, draft1, decision.reason, userSaidEnough, now);
}

function dedupe(xs: string[]): string[] {
  const seen = new Set<string>();
  return xs.filter((x) => {
    const k = x.trim().toLowerCase();
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
