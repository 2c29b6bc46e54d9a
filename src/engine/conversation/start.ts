import { clarityScore, openSlots, slotProgress } from "../../learning/clarity.ts";
import { STOP_REASONS } from "../../learning/conversation-state.ts";
import { quickAnalyze, SLOTS } from "../../learning/quick-analysis.ts";
import { mulberry32, seedOf } from "../../learning/random.ts";
import type { Job } from "../../store/jobs/types.ts";
import { ENOUGH } from "../../store/threads/conversations-repo.ts";
import type { LearningThread } from "../../store/threads/learning-repo.ts";
import { applyUnderstanding } from "../understanding/apply.ts";
import type { ConversationContext } from "./context.ts";
import { assumptionsIn, assumptionsOf } from "./learned-assumptions.ts";
import { planNext } from "./planning.ts";
import { applyLearning } from "./prefill.ts";
import { type ConversationState, freshState, kindOf, parseState } from "./records.ts";
import type { Opening, QuestionView } from "./types.ts";

/** requested_backend of a guest's jobs (LOCAL_ONLY in ../ports.ts, which imports this folder's types). */
const GUEST_LOCAL_ONLY = "@local";

/**
 * ConversationPort.start (and .open), .pending and .close: open a thread's conversation, show what is
 * waiting, and end it when the idea is cancelled.
 */

/**
 * Called right after draft 1 is queued; returns the first question (or none). The question is
 * offered only if it is still open: the analysis can hold it up to its deadline, and a cancel that
 * came meanwhile waited for the thread's lock and closed it. Taking the lock again runs after
 * such a cancel, so a closed question is never handed to the transport as if it were open; when
 * nothing waited for the lock meanwhile, nothing closed it, and it is not read again.
 * `draft1`: the job submit queued (read from the thread's jobs when not given).
 */
export async function startConversation(
  ctx: ConversationContext,
  threadId: number,
  userId: string,
  draft1?: Job,
): Promise<QuestionView | undefined> {
  return (await firstQuestion(ctx, threadId, userId, draft1)).question;
}

/**
 * What a new idea's conversation opens with (ConversationPort.open): the first question, or why
 * there is none, and what was assumed from earlier conversations. Read from the state the first
 * step saved, without reading it back when a question is asked.
 */
export async function openConversation(
  ctx: ConversationContext,
  threadId: number,
  userId: string,
  draft1?: Job,
): Promise<Opening> {
  const { question, state } = await firstQuestion(ctx, threadId, userId, draft1);
  if (question && state) return { question, assumptions: assumptionsIn(state) };
  const noQuestion = await whyNoQuestion(ctx, threadId);
  return {
    question: undefined,
    ...(noQuestion !== undefined ? { noQuestion } : {}),
    assumptions: await assumptionsOf(ctx, threadId),
  };
}

/** The first question if it is still open (see startConversation), with the state planFirst left. */
async function firstQuestion(
  ctx: ConversationContext,
  threadId: number,
  userId: string,
  draft1: Job | undefined,
): Promise<Planned> {
  const { value: first, alone } = await ctx.lockedAlone(threadId, () =>
    planFirst(ctx, threadId, userId, draft1),
  );
  if (!first.question || alone) return first;
  const question = first.question;
  return ctx.locked(threadId, async () =>
    (await ctx.conversations.pending(threadId))?.id === question.id ? first : { state: first.state },
  );
}

/** The first question (none when the questions stop at once) and the conversation state saved with it. */
interface Planned {
  question?: QuestionView | undefined;
  state?: ConversationState | undefined;
}

/**
 * The conversation's state, saved, and its first question asked (or the reason none is, in the
 * state). Runs under the thread's lock.
 */
async function planFirst(
  ctx: ConversationContext,
  threadId: number,
  userId: string,
  known: Job | undefined,
): Promise<Planned> {
  // Draft 1 was claimed as it was queued: one turn of the event loop lets its call reach the
  // backend before the questions are planned, so the model works while Hermes plans. The turn is
  // taken under the thread's lock, so a cancel arriving in it waits and then closes the question.
  await new Promise((resolve) => setImmediate(resolve));
  await ctx.ensureLoaded();
  const thread = await ctx.requireThread(threadId);
  const existing = parseState(thread.clarity_slots);
  if (!existing) return planFresh(ctx, thread, userId, known ?? (await ctx.draftOne(threadId)));
  const waiting = await ctx.conversations.pending(threadId);
  if (waiting || existing.stop) return { question: await ctx.view(waiting, thread), state: existing };
  // A state with neither an open question nor a stop (saved by an earlier version between its
  // two writes, or a full queue): plan again.
  const draft1 = known ?? (await ctx.draftOne(threadId));
  const next = await planNext(ctx, thread, existing, draft1, false, ctx.iso());
  return { question: next.question, state: existing };
}

/** A new conversation: its state (the analysis, what is known of the user) and its first step. */
async function planFresh(
  ctx: ConversationContext,
  thread: LearningThread,
  userId: string,
  draft1: Job | undefined,
): Promise<Planned> {
  const now = ctx.iso();
  const policy = ctx.policy();
  const idea = thread.original_request;
  const ideaType = thread.idea_type ?? quickAnalyze(idea).ideaType;
  const owner = thread.user_id ?? userId;
  const state = freshState(idea, ideaType, owner, policy);
  // Draft 1 is queued already (submit.ts) and runs beside this: only the first question waits,
  // and never longer than the analysis deadline.
  // The learned order for this kind, unless it is losing to the fixed order there (order-arms.ts).
  // Drawn from the thread's own id, so choosing an order leaves the learners' random stream as is.
  if (policy === "learning")
    state.order = ctx.orderArms.choose(kindOf(state), mulberry32(seedOf(`order:${thread.uuid}`)));
  const understanding = await ctx.understand?.({
    idea,
    threadId: thread.id,
    localOnly: draft1?.requested_backend === GUEST_LOCAL_ONLY,
  });
  if (understanding) applyUnderstanding(state, understanding);
  const learned = policy === "learning" ? await applyLearning(ctx, thread, state, draft1, now) : {};
  // The state is saved with the first question (or with why none is asked), in that step's one
  // write: a crash before it leaves the thread as submitted, without a state (whyNoQuestion: the
  // questions could not be prepared), never a state without its question.
  const fields = { ...learned, initialClarity: clarityScore(state.initial) };
  try {
    const next = await planNext(ctx, thread, state, draft1, false, now, fields);
    return { question: next.question, state };
  } catch (error) {
    // Pre-fills from earlier ideas are already written (applyLearning): the state that shows
    // them (and lets the user change them) is saved, as before the step's one write existed.
    if (Object.values(state.slots).some((slot) => slot.source === "pattern"))
      await saveStateAlone(ctx, thread.id, state, fields, now);
    throw error;
  }
}

async function saveStateAlone(
  ctx: ConversationContext,
  threadId: number,
  state: ConversationState,
  fields: Record<string, unknown>,
  now: string,
): Promise<void> {
  await ctx.threads.update(threadId, {
    ...fields,
    claritySlots: JSON.stringify(state),
    finalClarity: clarityScore(state.slots),
    now,
  });
}

/**
 * Why a new idea got no first question, in words for the person who sent it (every transport says
 * it where the question would have been); undefined when a question is open. Read from the state
 * start saved, so it is the reason that was decided, not a guess.
 */
export async function whyNoQuestion(ctx: ConversationContext, threadId: number): Promise<string | undefined> {
  const thread = await ctx.threads.thread(threadId);
  const state = thread ? parseState(thread.clarity_slots) : undefined;
  if (!state) return NO_QUESTIONS_PREPARED;
  if (!state.stop) return (await ctx.conversations.pending(threadId)) ? undefined : NO_QUESTIONS_PREPARED;
  // Slots filled from earlier ideas count toward clarity: then it was not the idea alone that said enough.
  const enough = SLOTS.some((s) => state.slots[s].source === "pattern") ? ENOUGH_WITH_HABITS : ENOUGH_SAID;
  switch (state.stop.reason) {
    case "cancelled":
      return "No questions: the idea was cancelled meanwhile.";
    case STOP_REASONS.clarity:
    case STOP_REASONS.adequate:
      return enough;
    case STOP_REASONS.none:
      return openSlots(state.slots).length === 0
        ? enough
        : "No questions this time: none of them fits this idea.";
    case STOP_REASONS.max: {
      const max = ctx.config.number("hermes.learning.max_questions_per_conversation");
      return `No questions: the limit of questions per idea is ${max} (hermes.learning.max_questions_per_conversation).`;
    }
    default:
      return "No questions this time: none looked worth your time for this idea.";
  }
}

const ENOUGH_SAID = "No questions needed: the idea says enough for the draft.";
const ENOUGH_WITH_HABITS =
  "No questions needed: with what you told me about earlier ideas, there is enough for the draft; each thing I assumed is shown so you can correct it.";

/** When planning the questions failed (the draft is never held for it). */
export const NO_QUESTIONS_PREPARED =
  "No questions this time: they could not be prepared; the draft comes without them.";

/** The pending (asked, unanswered) question of a thread, if any. */
export async function pendingQuestion(
  ctx: ConversationContext,
  threadId: number,
): Promise<QuestionView | undefined> {
  const thread = await ctx.threads.thread(threadId);
  if (!thread) return undefined;
  const state = parseState(thread.clarity_slots);
  if (!state || state.stop) return undefined;
  return ctx.view(await ctx.conversations.pending(threadId), thread);
}

/**
 * Ends the questions of a cancelled idea: the open question is closed (like "enough", so the
 * question model does not read it as "don't know") and no refined draft is queued. False when
 * there was no conversation still asking.
 */
export function closeConversation(
  ctx: ConversationContext,
  threadId: number,
  reason: string,
): Promise<boolean> {
  return ctx.locked(threadId, async () => {
    const thread = await ctx.threads.thread(threadId);
    const state = thread ? parseState(thread.clarity_slots) : undefined;
    if (!state || state.stop) return false;
    const now = ctx.iso();
    const open = await ctx.conversations.pending(threadId);
    if (open)
      await ctx.conversations.respond(open.id, {
        response: ENOUGH,
        responseType: "preference",
        respondedDate: now,
        seconds: 0,
        clarityImprovement: 0,
        efficiency: 0,
        predictionAccuracy: 0,
      });
    state.stop = { reason, at: now, refinedJobId: null, progress: slotProgress(state.initial, state.slots) };
    await ctx.threads.update(threadId, {
      claritySlots: JSON.stringify(state),
      finalClarity: clarityScore(state.slots),
      now,
    });
    return true;
  });
}
