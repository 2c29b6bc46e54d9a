import { clarityScore, openSlots, slotProgress } from "../../learning/clarity.ts";
import { STOP_REASONS } from "../../learning/conversation-state.ts";
import { quickAnalyze, SLOTS } from "../../learning/quick-analysis.ts";
import { mulberry32, seedOf } from "../../learning/random.ts";
import { ENOUGH } from "../../store/threads/conversations-repo.ts";
import { applyUnderstanding } from "../understanding/apply.ts";
import type { ConversationContext } from "./context.ts";
import { planNext } from "./planning.ts";
import { applyLearning } from "./prefill.ts";
import { freshState, kindOf, parseState } from "./records.ts";
import type { QuestionView } from "./types.ts";

/** requested_backend of a guest's jobs (LOCAL_ONLY in ../ports.ts, which imports this folder's types). */
const GUEST_LOCAL_ONLY = "@local";

/**
 * ConversationPort.start, .pending and .close: open a thread's conversation, show what is
 * waiting, and end it when the idea is cancelled.
 */

/**
 * Called right after draft 1 is queued; returns the first question (or none). The question is
 * offered only if it is still open: the analysis can hold it up to its deadline, and a cancel that
 * came meanwhile waited for the thread's lock and closed it. Taking the lock again runs after
 * such a cancel, so a closed question is never handed to the transport as if it were open.
 */
export async function startConversation(
  ctx: ConversationContext,
  threadId: number,
  userId: string,
): Promise<QuestionView | undefined> {
  const first = await planFirst(ctx, threadId, userId);
  if (!first) return undefined;
  return ctx.locked(threadId, async () =>
    (await ctx.conversations.pending(threadId))?.id === first.id ? first : undefined,
  );
}

/** The conversation's state, saved, and its first question asked (or the reason none is, in the state). */
function planFirst(
  ctx: ConversationContext,
  threadId: number,
  userId: string,
): Promise<QuestionView | undefined> {
  return ctx.locked(threadId, async () => {
    await ctx.ensureLoaded();
    const thread = await ctx.requireThread(threadId);
    const existing = parseState(thread.clarity_slots);
    if (existing) {
      const waiting = await ctx.conversations.pending(threadId);
      if (waiting || existing.stop) return ctx.view(waiting, thread);
      // Stopped between saving the state and asking (a crash, a full queue): plan again.
      return (await planNext(ctx, thread, existing, await ctx.draftOne(threadId), false, ctx.iso())).question;
    }
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
    const draft1 = await ctx.draftOne(threadId);
    const understanding = await ctx.understand?.({
      idea,
      threadId,
      localOnly: draft1?.requested_backend === GUEST_LOCAL_ONLY,
    });
    if (understanding) applyUnderstanding(state, understanding);
    const learned = policy === "learning" ? await applyLearning(ctx, thread, state, draft1, now) : {};
    // The state is saved with the first question (or with why none is asked), in that step's one
    // write: a crash before it leaves the thread as submitted, without a state (whyNoQuestion: the
    // questions could not be prepared), never a state without its question.
    const next = await planNext(ctx, thread, state, draft1, false, now, {
      ...learned,
      initialClarity: clarityScore(state.initial),
    });
    return next.question;
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
