import { questionKind } from "../../learning/answer-predictor.ts";
import { clarityScore } from "../../learning/clarity.ts";
import { decideNext } from "../../learning/conversation-state.ts";
import { normaliseAnswer } from "../../learning/effectiveness.ts";
import type { SmartQuestionGenerator } from "../../learning/question-selector.ts";
import type { Slot } from "../../learning/quick-analysis.ts";
import type { Job } from "../../store/jobs/types.ts";
import type { QuestionTemplate } from "../../store/learning/templates-repo.ts";
import type { LearningThread } from "../../store/threads/learning-repo.ts";
import { writtenQuestion } from "../understanding/apply.ts";
import { takeConfirmation } from "./assumptions.ts";
import type { ConversationContext } from "./context.ts";
import { stopAndRefine } from "./drafts.ts";
import type { LearnedThreadFields } from "./prefill.ts";
import { type ConversationState, kindOf, type QuestionPlan, round3, toView } from "./records.ts";
import type { QuestionView } from "./types.ts";

/**
 * The next step of a conversation: pick the question worth the user's time (the question model,
 * through SmartQuestionGenerator) with the user's likely answers offered as buttons, or stop.
 */

/**
 * Asks the next question, or stops and queues the refined draft. Saves the state either way, with
 * `saveWith` (other thread fields the caller changed: one write of the thread, not two).
 */
export async function planNext(
  ctx: ConversationContext,
  thread: LearningThread,
  state: ConversationState,
  draft1: Job | undefined,
  userSaidEnough: boolean,
  now: string,
  saveWith: LearnedThreadFields = {},
): Promise<{ question?: QuestionView; refinedJobId?: number; stopReason?: string }> {
  const clarity = clarityScore(state.slots);
  // A kind whose learned order is losing follows the fixed order (order-arms.ts): its slots, every
  // open one, in the wording this kind answers most (SmartQuestionGenerator.fallback).
  const fallback = state.policy === "learning" && state.order === "fixed";
  const selection = userSaidEnough
    ? { best: undefined, floor: undefined, stop: undefined }
    : ctx.generator.select(
        {
          slots: state.slots,
          ideaType: state.ideaType,
          kind: kindOf(state),
          userId: state.userId,
          idea: thread.original_request,
          asked: state.asked,
          templates: ctx.templates,
          hitChance: (slot, template) => offer(ctx, state, slot, template, assumed(state, slot)).hit,
        },
        fallback ? "fallback" : state.policy,
      );
  const decision = decideNext({
    clarity,
    asked: state.asked,
    maxQuestions: ctx.config.number("hermes.learning.max_questions_per_conversation"),
    userSaidEnough,
    bestValue: selection.best?.value,
    floor: selection.floor,
    policyStop: selection.stop,
    // The fallback asks every slot the fixed order asks. Clarity is a static weighting of the slots,
    // and taps on offered answers reach it a question earlier than the typed answers of the fixed
    // order: the slot it then skipped (scope, last) may be the one this kind needs most, and the
    // fallback ended below the order it stands for.
    clarityStops: !fallback,
  });
  const best = selection.best;
  if (decision.ask && best)
    return { question: await askQuestion(ctx, { thread, state, best, draft1, clarity, now, saveWith }) };
  return stopAndRefine(ctx, thread, state, draft1, decision.reason, now, saveWith);
}

/** What asking the chosen question needs. */
interface Ask {
  thread: LearningThread;
  state: ConversationState;
  best: Chosen;
  draft1: Job | undefined;
  clarity: number;
  now: string;
  saveWith: LearnedThreadFields;
}

/**
 * Asks the chosen question: stores it with the plan (offered answers, predictions), counts its
 * template's use and saves the state, in one transaction (QuestionStepRepo.ask).
 */
async function askQuestion(ctx: ConversationContext, ask: Ask): Promise<QuestionView> {
  const { thread, state, best, draft1, clarity, now, saveWith } = ask;
  state.asked += 1;
  const patternId = state.validating[best.slot] ?? state.slots[best.slot].patternId;
  const pattern = patternId === undefined ? undefined : await ctx.patternsRepo.byId(patternId);
  const lead = dedupe([...(pattern ? [pattern.value] : []), ...assumed(state, best.slot)]);
  const { text, suggestions, hit, wording } = wordQuestion(ctx, state, best, lead);
  const plan: QuestionPlan = {
    suggestions,
    policy: state.policy,
    ...wording,
    ...(state.policy === "learning" && hit !== undefined ? { predicted_hit: round3(hit) } : {}),
    ...(Number.isFinite(best.value)
      ? {
          predicted_improvement: round3(best.improvement),
          predicted_seconds: round3(best.seconds),
          value: Math.round(best.value * 1e5) / 1e5,
        }
      : {}),
  };
  const row = await ctx.questionSteps.ask(
    {
      threadId: thread.id,
      jobId: draft1?.id ?? null,
      phase: state.asked === 1 ? "initial" : "clarification",
      text,
      slot: best.slot,
      templateId: best.template.id,
      confidence: best.confidence,
      position: state.asked,
      askedDate: now,
      patternMatched: pattern ? `${pattern.id}:${pattern.name}` : null,
      plan,
    },
    { ...saveWith, claritySlots: JSON.stringify(state), finalClarity: clarity, now },
  );
  return toView(row, suggestions, thread);
}

/**
 * The words of the chosen question. The learner chose the slot and the template family (what it
 * learns is keyed by them); the words come from, in order: draft 1's riskiest assumption on that
 * slot as a Yes/No confirmation, the model's question for this idea (when the analysis answered
 * in time), or the template — the instant fallback.
 */
function wordQuestion(ctx: ConversationContext, state: ConversationState, best: Chosen, lead: string[]) {
  const confirm = takeConfirmation(state, best.slot);
  if (confirm)
    return {
      text: confirm.text,
      suggestions: confirm.suggestions,
      hit: undefined,
      wording: { written_by: "assumption" as const, assumption: confirm.assumption },
    };
  const written = writtenQuestion(state, best.slot);
  const { suggestions, hit } = offer(ctx, state, best.slot, best.template, lead, written?.answers);
  return {
    text: written?.question ?? best.template.text.replaceAll("{{topic}}", state.topic),
    suggestions,
    hit,
    wording: written ? { written_by: "model" as const } : {},
  };
}

/** The question SmartQuestionGenerator picked. */
type Chosen = NonNullable<ReturnType<SmartQuestionGenerator["select"]>["best"]>;

/** The value a pattern assumed for the slot, if any: offered first so one tap confirms it. */
function assumed(state: ConversationState, slot: Slot): string[] {
  const s = state.slots[slot];
  return s.source === "pattern" && s.value !== null ? [s.value] : [];
}

/**
 * The answers a question offers as buttons (at most 4) and the chance they hold the user's answer.
 * Learning: `lead` (an assumption to confirm), then the likeliest answers of the answer predictor
 * (the user's own habits, then what most people answer); otherwise the template's suggestions.
 */
function offer(
  ctx: ConversationContext,
  state: ConversationState,
  slot: Slot,
  template: QuestionTemplate,
  lead: readonly string[],
  written?: readonly string[],
): { suggestions: string[]; hit: number } {
  const perUser = ctx.perUser;
  const prediction = ctx.answerPredictor.predict(
    kindOf(state),
    questionKind(slot, template.id),
    perUser ? state.userId : null,
    template.suggestions,
  );
  // An assumption is offered only if it answers this kind of question: a pattern learned from
  // "Who is it for?" ("The public") is about the same slot but no answer to "How familiar are you?".
  const fitting = lead.filter((v) => prediction.p(v) > 0);
  if (state.policy !== "learning")
    return { suggestions: dedupe([...fitting, ...(written ?? template.suggestions)]).slice(0, 4), hit: 0 };
  const likely = written
    ? [...habits(ctx, state, slot, template), ...written]
    : prediction.ranked.map((a) => a.value);
  const suggestions = dedupe([...fitting, ...likely]).slice(0, 4);
  return {
    suggestions,
    hit: Math.min(
      1,
      suggestions.reduce((sum, v) => sum + prediction.p(v), 0),
    ),
  };
}

/**
 * Answers learned for this kind of question (the user's own habits, and what many people answer)
 * that are likely enough to come before the model's suggestions. The template's suggestions are
 * left out of the prior here: only answers actually given count as a habit.
 */
const HABIT_MIN_P = 0.2;
function habits(ctx: ConversationContext, state: ConversationState, slot: Slot, template: QuestionTemplate) {
  const learned = ctx.answerPredictor.predict(
    state.ideaType,
    questionKind(slot, template.id),
    ctx.perUser ? state.userId : null,
    [],
  );
  return learned.ranked.filter((a) => a.p >= HABIT_MIN_P).map((a) => a.value);
}

/** Drops answers that are the same once normalised ("For my kids." = "for my kids"). */
function dedupe(xs: string[]): string[] {
  const seen = new Set<string>();
  return xs.filter((x) => {
    const k = normaliseAnswer(x);
    if (k === "" || seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
