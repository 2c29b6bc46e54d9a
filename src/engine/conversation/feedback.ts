import { HermesError } from "../../errors.ts";
import { rateBackendOutcome } from "../../learning/backend-scores.ts";
import { clarityScore } from "../../learning/clarity.ts";
import { analyzeEffectiveness, creditOutcome } from "../../learning/effectiveness.ts";
import type { Slot } from "../../learning/quick-analysis.ts";
import type { Job } from "../../store/jobs/types.ts";
import { ENOUGH } from "../../store/threads/conversations-repo.ts";
import type { LearningThread } from "../../store/threads/learning-repo.ts";
import type { ConversationContext } from "./context.ts";
import { queueRewrite } from "./drafts.ts";
import { type ConversationState, isSlot, kindOf, parsePlan, parseState } from "./records.ts";
import type { FeedbackInput, FeedbackOutcome } from "./types.ts";

/**
 * ConversationPort.feedback: a 1–5 rating (kept on the draft and the thread, credited to the
 * backend, the preferences and — once both drafts are rated — the questions), or "shorter" /
 * "more detail" (a preference, and a rewrite of the draft).
 */

export function feedback(
  ctx: ConversationContext,
  threadId: number,
  jobId: number,
  input: FeedbackInput,
  userId: string,
): Promise<FeedbackOutcome> {
  return ctx.locked(threadId, async () => {
    await ctx.ensureLoaded();
    const thread = await ctx.requireThread(threadId);
    const job = await ctx.threads.job(jobId);
    if (!job || job.thread_id !== threadId)
      throw new HermesError("NOT_FOUND", "That draft is not part of this idea.");
    const state = parseState(thread.clarity_slots);
    const rated: RatedDraft = {
      thread,
      job,
      state,
      owner: thread.user_id ?? userId,
      learning: (state?.policy ?? ctx.policy()) === "learning",
      now: ctx.iso(),
    };
    if ("rating" in input) return rateDraft(ctx, rated, input.rating);
    return adjustDraft(ctx, rated, input.adjust);
  });
}

/** The draft being given feedback, and what both kinds of feedback need about it. */
interface RatedDraft {
  thread: LearningThread;
  job: Job;
  state: ConversationState | undefined;
  owner: string;
  learning: boolean;
  now: string;
}

/** A 1–5 rating: kept on the draft and the thread, credited to the backend, preferences and questions. */
async function rateDraft(ctx: ConversationContext, d: RatedDraft, rating: number): Promise<FeedbackOutcome> {
  const { thread, job, state, owner, now } = d;
  if (!Number.isInteger(rating) || rating < 1 || rating > 5)
    throw new HermesError("INVALID_INPUT", "A rating is a whole number from 1 to 5.");
  await ctx.threads.setJobFeedback(job.id, rating);
  // The thread's satisfaction is the rating of its latest rated draft.
  const latest = (await ctx.threads.jobs(thread.id))
    .filter((j) => j.user_feedback !== null)
    .sort((x, y) => y.job_sequence - x.job_sequence || y.id - x.id)[0];
  await ctx.threads.update(thread.id, { userSatisfaction: latest?.user_feedback ?? rating, now });
  if (job.job_sequence >= 2) await ctx.conversations.setThreadSatisfaction(thread.id, rating);
  if (job.backend_used) await rateBackendOutcome(ctx.db, { jobId: job.id, rating, nowIso: now });
  if (d.learning && job.job_subtype !== "draft") {
    const applied = (state?.applied ?? []).filter((a) => a.kind === "preference").map((a) => a.id);
    await ctx.preferences.fromRating(owner, applied, rating, now);
  }
  const gain = state ? await learnOutcome(ctx, thread, state, now) : undefined;
  return { recorded: true, followUpJobId: undefined, learned: ratingNote(gain) };
}

/** What a rating taught, said as it happened: the question model learned the outcome (shown in /patterns). */
function ratingNote(gain: number | undefined): string {
  if (gain === undefined) return "Thanks — noted.";
  return gain > 0
    ? "Noted: the refined draft rated higher than the first — the questions asked here now count as more useful when I pick questions (see /patterns)."
    : gain < 0
      ? "Noted: the refined draft rated lower than the first — the questions asked here now count as less useful when I pick questions (see /patterns)."
      : "Noted: both drafts rated the same — the questions asked here now count for less when I pick questions (see /patterns).";
}

/** "Shorter" / "more detail": a depth preference (learning on), and a rewrite of the draft. */
async function adjustDraft(
  ctx: ConversationContext,
  d: RatedDraft,
  adjust: string,
): Promise<FeedbackOutcome> {
  const { thread, job, owner, learning, now } = d;
  if (adjust !== "shorter" && adjust !== "more_detail")
    throw new HermesError("INVALID_INPUT", "Feedback is a rating from 1 to 5, or shorter / more detail.");
  if (learning) {
    await ctx.preferences.observe(
      owner,
      {
        category: "depth",
        key: "length",
        value: adjust === "shorter" ? "concise" : "detailed",
        source: "explicit_user_feedback",
        learnedFrom: null,
      },
      now,
    );
  }
  // True only when the preference was recorded (learning on): it then goes into every prompt.
  const learned = !learning
    ? "Noted."
    : adjust === "shorter"
      ? "I'll keep drafts shorter from now on (see /patterns)."
      : "I'll go into more detail from now on (see /patterns).";
  if (job.status === "failed" || job.status === "cancelled") {
    return {
      recorded: true,
      followUpJobId: undefined,
      learned: `${learned} (That draft did not finish, so there is nothing to rewrite.)`,
    };
  }
  const rewriteId = await queueRewrite(ctx, thread, job, adjust, owner);
  return { recorded: true, followUpJobId: rewriteId, learned };
}

/** Once both drafts are rated: the outcome teaches the question model and is credited to the questions. */
async function learnOutcome(
  ctx: ConversationContext,
  thread: LearningThread,
  state: ConversationState,
  now: string,
): Promise<number | undefined> {
  if (!state.stop || state.stop.refinedJobId === null) return undefined;
  const jobs = await ctx.threads.jobs(thread.id);
  const draft = jobs.find((j) => j.job_sequence === 1);
  const refined = jobs.find((j) => j.id === state.stop?.refinedJobId);
  if (draft?.user_feedback == null || refined?.user_feedback == null) return undefined;
  const gain = (refined.user_feedback - draft.user_feedback) / 4;
  if (ctx.observedOutcomes.has(thread.id)) return gain;
  ctx.observedOutcomes.add(thread.id);
  ctx.observeOrder(state, refined.user_feedback);
  ctx.model.observeOutcome({
    ideaType: kindOf(state),
    userId: state.userId,
    progress: state.stop.progress,
    gain,
  });
  const rows = (await ctx.conversations.forThread(thread.id)).filter(
    (r) => r.conversation_position !== null && r.responded_date !== null && r.user_response !== ENOUGH,
  );
  const gains = ctx.model.gains(kindOf(state), state.userId);
  const credit = creditOutcome(
    rows
      .filter((r) => isSlot(r.question_type))
      .map((r) => ({
        id: r.id,
        slot: r.question_type as Slot,
        progress: r.clarity_improvement > 0 ? (state.stop?.progress[r.question_type as Slot] ?? 0) : 0,
      })),
    gains,
    gain,
  );
  const templateIds = new Set<number>();
  for (const r of rows) {
    const q = credit.get(r.id) ?? 0;
    const plan = {
      ...parsePlan(r.optimization_suggested),
      quality_improvement: q,
      satisfaction_improvement: q,
    };
    await ctx.conversations.setPlan(r.id, plan);
    if (r.question_template_id !== null) templateIds.add(r.question_template_id);
  }
  for (const id of templateIds) await ctx.templatesRepo.refreshStats(id, now, ctx.templateById(id)?.category);
  await ctx.threads.update(thread.id, {
    conversationEffectiveness: analyzeEffectiveness(
      { clarity: clarityScore(state.initial), quality: (draft.user_feedback - 1) / 4 },
      { clarity: clarityScore(state.slots), quality: (refined.user_feedback - 1) / 4 },
      state.seconds,
    ).efficiency_score,
    now,
  });
  return gain;
}
