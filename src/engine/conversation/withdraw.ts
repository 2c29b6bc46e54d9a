import { HermesError } from "../../errors.ts";
import { LearningSnapshotSchema } from "../../store/learning/snapshot-repo.ts";
import { INFORMATION } from "../../store/threads/conversations-repo.ts";
import type { ConversationContext } from "./context.ts";
import { parsePlan, parseState } from "./records.ts";
import type { WithdrawOutcome } from "./types.ts";

/**
 * ConversationPort.withdraw: a typed text taken as the answer was a new idea after all ("It's a
 * new idea"). Everything the answer did is undone: the question is open again (as it was asked),
 * the question asked after it is taken back, the refined draft it queued is cancelled, and what
 * was learned from it — the thread's clarity and time, the user's patterns and preferences (put
 * back from the snapshot kept with the answer), the template's statistics and the in-memory
 * models (answer predictor, question model and timing, rebuilt from the rows) — is as before.
 * Only the latest answer of an idea can be withdrawn: later answers were given after it.
 */
export function withdrawAnswer(
  ctx: ConversationContext,
  threadId: number,
  questionId: number,
): Promise<WithdrawOutcome> {
  return ctx.locked(threadId, async () => {
    await ctx.ensureLoaded();
    const thread = await ctx.requireThread(threadId);
    const row = await ctx.conversations.byId(questionId);
    const plan = parsePlan(row?.optimization_suggested ?? null);
    if (!row || row.thread_id !== threadId || row.conversation_position === null)
      throw new HermesError("NOT_FOUND", "That question is not part of this idea.");
    const later = (await ctx.conversations.forThread(threadId)).some(
      (r) => r.id > row.id && r.responded_date !== null && r.question_asked !== INFORMATION,
    );
    if (later)
      throw new HermesError(
        "INVALID_INPUT",
        "Another question of this idea was answered since, so that answer stays. Send the text again with /new to start it as an idea.",
      );
    const snapshot = LearningSnapshotSchema.safeParse(plan.undo);
    if (row.responded_date === null || row.user_response === null || !snapshot.success)
      throw new HermesError("INVALID_INPUT", "That answer can no longer be undone.");
    const state = parseState(thread.clarity_slots);
    const refinedJobId = state?.stop?.refinedJobId ?? undefined;
    // The refined draft the answer led to: stopped if it has not finished (it holds the answer).
    const cancelled =
      refinedJobId !== undefined ? ctx.queue.cancel(refinedJobId, "its answer was withdrawn") : [];
    const removed = await ctx.conversations.deleteOpenAfter(threadId, row.id);
    for (const r of removed)
      if (r.question_template_id !== null) await ctx.templatesRepo.unrecordUse(r.question_template_id);
    const { undo: _undo, answered_by: _mode, ...asked } = plan;
    await ctx.conversations.reopen(row.id, asked);
    await ctx.snapshots.restore(snapshot.data);
    if (row.question_template_id !== null)
      await ctx.templatesRepo.refreshStats(row.question_template_id, ctx.iso(), row.question_type);
    // The question model, its timing and the answer predictor learned from the answer in memory:
    // rebuilt from the rows, which no longer hold it.
    ctx.forgetInMemory();
    const reopened = await ctx.view(await ctx.conversations.byId(row.id), thread);
    if (!reopened) throw new HermesError("INTERNAL", "The reopened question could not be read back.");
    return {
      question: reopened,
      text: row.user_response,
      removedQuestionIds: removed.map((r) => r.id),
      cancelledRefinedJob: refinedJobId !== undefined && cancelled.length > 0 ? refinedJobId : undefined,
      refinedDraftKept:
        refinedJobId !== undefined &&
        cancelled.length === 0 &&
        ctx.queue.get(refinedJobId)?.status === "completed"
          ? refinedJobId
          : undefined,
    };
  });
}
