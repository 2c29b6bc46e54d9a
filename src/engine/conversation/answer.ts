import { HermesError } from "../../errors.ts";
import { questionKind } from "../../learning/answer-predictor.ts";
import { applyAnswer, clarityScore, isDontKnow, type SlotAnswer } from "../../learning/clarity.ts";
import { STOP_REASONS } from "../../learning/conversation-state.ts";
import {
  type AnswerKind,
  analyzeEffectiveness,
  predictionAccuracy,
  sameAnswer,
} from "../../learning/effectiveness.ts";
import { inferFromAnswer } from "../../learning/preferences.ts";
import type { AnswerMode } from "../../learning/question-model.ts";
import type { Slot } from "../../learning/quick-analysis.ts";
import type { Job } from "../../store/jobs/types.ts";
import type { LearningSnapshot } from "../../store/learning/snapshot-repo.ts";
import type { ConversationRow } from "../../store/schema.ts";
import { ENOUGH, type ResponseType, SKIPPED } from "../../store/threads/conversations-repo.ts";
import type { LearningThread } from "../../store/threads/learning-repo.ts";
import { confirmationAnswer } from "./assumptions.ts";
import type { ConversationContext } from "./context.ts";
import { planNext } from "./planning.ts";
import {
  asSlot,
  type ConversationState,
  kindOf,
  parsePlan,
  parseState,
  type QuestionPlan,
} from "./records.ts";
import { MAX_ANSWER_CHARS } from "./typed-text.ts";
import type { AnswerInput, AnswerOutcome } from "./types.ts";

/**
 * ConversationPort.answer: records an answer (or "don't know", a skip, "enough"), moves clarity,
 * teaches the question model, patterns, suggestions and preferences, then asks the next question
 * or stops and queues the refined draft.
 */

const PREFERENCE_TEXT =
  /\b(i prefer|i'd rather|i would rather|rather than|please keep|keep it|shorter|longer|more detail|less detail)\b/i;

export function answerQuestion(
  ctx: ConversationContext,
  threadId: number,
  questionId: number,
  input: AnswerInput,
  userId: string,
): Promise<AnswerOutcome> {
  const tooLong = input.kind === "text" ? answerTooLong(input.text) : undefined;
  if (tooLong) return Promise.reject(tooLong);
  return ctx.locked(threadId, () => answerLocked(ctx, threadId, questionId, input, userId));
}

/** answerQuestion under the thread's lock: checks the question is still open, then records the answer. */
async function answerLocked(
  ctx: ConversationContext,
  threadId: number,
  questionId: number,
  input: AnswerInput,
  userId: string,
): Promise<AnswerOutcome> {
  await ctx.ensureLoaded();
  const thread = await ctx.requireThread(threadId);
  const state = parseState(thread.clarity_slots);
  if (!state)
    throw new HermesError("INVALID_INPUT", "No question is waiting for this idea.", {
      userAction: "Send the idea again to start over.",
    });
  if (state.stop) {
    return {
      clarity: clarityScore(state.slots),
      next: undefined,
      refinedJobId: undefined,
      stopReason: STOP_REASONS.alreadyStopped,
      stale: "closed",
    };
  }
  const row = await ctx.conversations.byId(questionId);
  if (!row || row.thread_id !== threadId || row.conversation_position === null)
    throw new HermesError("NOT_FOUND", "That question is not part of this idea.");
  if (row.responded_date !== null) {
    // Answered already (a double tap): nothing to record; show what is waiting now.
    return {
      clarity: clarityScore(state.slots),
      next: await ctx.view(await ctx.conversations.pending(threadId), thread),
      refinedJobId: undefined,
      stopReason: undefined,
      stale: "answered",
    };
  }
  const seconds = Math.max(0, (ctx.clock.now() - Date.parse(row.asked_date)) / 1000);
  state.seconds += seconds;
  const turn: AnswerTurn = {
    thread,
    state,
    row,
    now: ctx.iso(),
    seconds,
    draft1: await ctx.draftOne(threadId),
    // A typed answer may have been a new idea: keep what it is about to change, for the undo.
    undo: input.kind === "text" ? await ctx.snapshots.take(threadId, state.userId ?? userId) : undefined,
  };
  if (input.kind === "enough") return answerEnough(ctx, turn);
  return recordAnswer(ctx, turn, input, userId);
}

/** One open question being answered: what the steps after the checks share. */
interface AnswerTurn {
  thread: LearningThread;
  state: ConversationState;
  row: ConversationRow;
  now: string;
  /** Seconds from asking to answering. */
  seconds: number;
  draft1: Job | undefined;
  /** The learned rows as they were before this answer (typed answers only): "It's a new idea" restores them. */
  undo?: LearningSnapshot | undefined;
}

/** "Enough": records it and stops the questions (queuing the refined draft). */
async function answerEnough(ctx: ConversationContext, turn: AnswerTurn): Promise<AnswerOutcome> {
  const { thread, state, row, now, seconds, draft1 } = turn;
  await ctx.conversations.respond(row.id, {
    response: ENOUGH,
    responseType: "preference",
    respondedDate: now,
    seconds,
    clarityImprovement: 0,
    efficiency: 0,
    predictionAccuracy: 0,
  });
  const next = await planNext(ctx, thread, state, draft1, true, now);
  return {
    clarity: clarityScore(state.slots),
    next: undefined,
    refinedJobId: next.refinedJobId,
    stopReason: next.stopReason,
  };
}

/** A suggestion, typed text or "don't know": moves clarity, records it, learns from it, plans the next step. */
async function recordAnswer(
  ctx: ConversationContext,
  turn: AnswerTurn,
  input: Exclude<AnswerInput, { kind: "enough" }>,
  userId: string,
): Promise<AnswerOutcome> {
  const { thread, state, row, now, seconds, draft1 } = turn;
  const plan = parsePlan(row.optimization_suggested);
  const slot = asSlot(row.question_type);
  const { answer, text, kind } = readAnswer(input, plan);
  const before = clarityScore(state.slots);
  state.slots = applyAnswer(state.slots, slot, answer).slots;
  const after = clarityScore(state.slots);
  const owner = state.userId ?? userId;
  const { responseType, patternValue } = await classifyAnswer(ctx, turn, owner, slot, text, kind);
  const eff = analyzeEffectiveness({ clarity: before }, { clarity: after }, seconds);
  const mode: AnswerMode = kind === "suggestion" ? "tap" : kind === "text" ? "type" : "unknown";
  const recorded = await ctx.conversations.respond(row.id, {
    response: kind === "unknown" && text === "" ? SKIPPED : text,
    responseType,
    respondedDate: now,
    seconds,
    clarityImprovement: eff.clarity_improvement,
    efficiency: eff.efficiency_score,
    predictionAccuracy: predictionAccuracy(kind, text, plan.suggestions, patternValue),
    // How it was answered, for the time model when it is rebuilt after a restart.
    plan: { ...plan, answered_by: mode, ...(turn.undo ? { undo: turn.undo } : {}) },
  });
  if (!recorded) {
    return {
      clarity: before,
      next: await ctx.view(await ctx.conversations.pending(thread.id), thread),
      refinedJobId: undefined,
      stopReason: undefined,
    };
  }
  await learnFromAnswer(ctx, turn, { owner, slot, text, kind, mode });
  await dropOlderUndo(ctx, thread.id, row.id);
  // The answer is in: keep the state with it even if planning the next step fails.
  await ctx.threads.update(thread.id, { claritySlots: JSON.stringify(state), finalClarity: after, now });
  const next = await planNext(ctx, thread, state, draft1, false, now);
  return {
    clarity: after,
    next: next.question,
    refinedJobId: next.refinedJobId,
    stopReason: next.stopReason,
  };
}

/**
 * How the answer is recorded (direct, preference, clarification or a correction of a pattern) and
 * the pattern value it was checked against. Patterns: every substantive answer validates (or
 * corrects) what we would have assumed.
 */
async function classifyAnswer(
  ctx: ConversationContext,
  turn: AnswerTurn,
  owner: string,
  slot: Slot,
  text: string,
  kind: AnswerKind,
): Promise<{ responseType: ResponseType; patternValue: string | null }> {
  const { state, row, now } = turn;
  let responseType: ResponseType =
    kind === "unknown"
      ? "clarification"
      : kind === "text" && PREFERENCE_TEXT.test(text)
        ? "preference"
        : "direct_answer";
  let patternValue: string | null = null;
  if (state.policy === "learning" && kind !== "unknown" && ctx.perUser) {
    const check = await ctx.patternLearner.observeAnswer(
      owner,
      kindOf(state),
      slot,
      text,
      ctx.config.number("hermes.learning.confidence_threshold"),
      now,
    );
    const asked = row.pattern_matched === null ? undefined : Number.parseInt(row.pattern_matched, 10);
    if (check.pattern && (check.correction || asked === check.pattern.id)) {
      patternValue = check.pattern.value;
      if (!sameAnswer(text, check.pattern.value)) responseType = "correction";
    }
  }
  return { responseType, patternValue };
}

/** A recorded answer teaches the question model, the template stats, the suggestions and the preferences. */
async function learnFromAnswer(
  ctx: ConversationContext,
  turn: AnswerTurn,
  a: { owner: string; slot: Slot; text: string; kind: AnswerKind; mode: AnswerMode },
): Promise<void> {
  const { state, row, now, seconds } = turn;
  const template = row.question_template_id === null ? undefined : ctx.templateById(row.question_template_id);
  ctx.model.observeQuestion({
    templateId: row.question_template_id,
    slot: a.slot,
    ideaType: kindOf(state),
    userId: a.owner,
    mode: a.mode,
    seconds,
    expectedSeconds: template?.expectedSeconds ?? 8,
  });
  if (row.question_template_id !== null)
    await ctx.templatesRepo.refreshStats(row.question_template_id, now, row.question_type);
  if (a.kind !== "unknown")
    ctx.answerPredictor.observe(
      kindOf(state),
      questionKind(a.slot, row.question_template_id),
      a.text,
      a.owner,
      template?.suggestions ?? [],
    );
  if (state.policy === "learning" && a.kind !== "unknown") {
    for (const signal of inferFromAnswer(a.slot, a.text))
      await ctx.preferences.observe(a.owner, { ...signal, learnedFrom: row.id }, now);
  }
}

/**
 * Only an idea's latest answer can be undone (withdraw.ts): the snapshots kept with its earlier
 * answers can never be used again, so they are not kept.
 */
async function dropOlderUndo(ctx: ConversationContext, threadId: number, answeredId: number): Promise<void> {
  for (const r of await ctx.conversations.forThread(threadId)) {
    if (r.id === answeredId || r.optimization_suggested === null) continue;
    const { undo, ...plan } = parsePlan(r.optimization_suggested);
    if (undo !== undefined) await ctx.conversations.setPlan(r.id, plan);
  }
}

/** An answer longer than {@link MAX_ANSWER_CHARS} is refused whole (never cut): the user still has it. */
export function answerTooLong(text: string): HermesError | undefined {
  const length = text.trim().length;
  if (length <= MAX_ANSWER_CHARS) return undefined;
  return new HermesError(
    "INVALID_INPUT",
    `That answer is ${length} characters long; an answer can have at most ${MAX_ANSWER_CHARS}. Nothing was recorded.`,
    { userAction: "Send a shorter answer, or start it as a new idea with /new." },
  );
}

/** The answer as clarity sees it: a chosen suggestion, typed text, or "don't know". */
function readAnswer(
  input: Exclude<AnswerInput, { kind: "enough" }>,
  plan: QuestionPlan,
): { answer: SlotAnswer; text: string; kind: AnswerKind } {
  if (input.kind === "suggestion") {
    const text = plan.suggestions[input.index];
    if (text === undefined || !Number.isInteger(input.index))
      throw new HermesError("INVALID_INPUT", "That answer is not one of the choices.");
    const confirmed = confirmationAnswer(plan, text);
    if (confirmed) return confirmed;
    return { answer: { kind: "suggestion", text }, text, kind: "suggestion" };
  }
  if (input.kind === "text") {
    const text = input.text.trim();
    if (isDontKnow(text)) return { answer: { kind: "unknown" }, text, kind: "unknown" };
    return { answer: { kind: "text", text }, text, kind: "text" };
  }
  return { answer: { kind: "unknown" }, text: "", kind: "unknown" };
}
