import { clarityScore, slotProgress } from "../../learning/clarity.ts";
import { analyzeEffectiveness } from "../../learning/effectiveness.ts";
import { preferenceList } from "../../learning/preferences.ts";
import { templatesFor } from "../../learning/question-selector.ts";
import { SLOTS } from "../../learning/quick-analysis.ts";
import type { Job } from "../../store/jobs/types.ts";
import { ENOUGH, INFORMATION, SKIPPED } from "../../store/threads/conversations-repo.ts";
import type { LearningThread } from "../../store/threads/learning-repo.ts";
import type { ConversationContext } from "./context.ts";
import { type AppliedOptimization, type ConversationState, isSlot, round3, SLOT_LABELS } from "./records.ts";

/**
 * The drafts a conversation queues and what goes into their prompts: draft 2 (prompts/refine.md,
 * from the answers and preferences) when the questions stop, and a rewrite (prompts/rewrite.md)
 * for "shorter" / "more detail" — filled in when its draft finishes (resolvePromptVariables).
 */

const ADJUST_INSTRUCTIONS = {
  shorter:
    "Make it noticeably shorter — about half the length: keep the essentials and the next steps, cut the rest.",
  more_detail:
    "Add more detail: expand the important points with specifics, examples and concrete next steps, keeping the structure.",
} as const;

/**
 * Stops the questions: queues draft 2 if anything was learned (or the user said enough), saves the
 * state with why it stopped, and lets the pattern learner look at what was answered.
 */
export async function stopAndRefine(
  ctx: ConversationContext,
  thread: LearningThread,
  state: ConversationState,
  draft1: Job | undefined,
  reason: string,
  userSaidEnough: boolean,
  now: string,
): Promise<{ refinedJobId?: number; stopReason: string }> {
  const progress = slotProgress(state.initial, state.slots);
  const learnedSomething = SLOTS.some((s) => progress[s] > 0);
  let refinedJobId: number | undefined;
  if (learnedSomething || userSaidEnough) {
    ctx.d.prompts.template("refine"); // fail here, not in the queue, if the prompt file is missing
    const prefs = state.applied.filter((a) => a.kind === "preference");
    const job = ctx.d.queue.enqueue({
      threadId: thread.id,
      parentJobId: draft1?.id ?? null,
      jobSequence: 2,
      jobType: draft1?.job_type ?? state.ideaType,
      jobSubtype: "refine",
      priority: thread.priority,
      promptTemplate: "refine",
      promptVariables: {
        idea: thread.original_request,
        answers: await answerList(ctx, thread.id, state),
        preferences: preferenceList(prefs.map((p) => splitPreference(p))),
        idea_type: state.ideaType,
      },
      userId: state.userId,
      achievedClarity: clarityScore(state.slots),
    });
    refinedJobId = job.id;
  }
  state.stop = { reason, at: now, refinedJobId: refinedJobId ?? null, progress };
  const saved = state.applied.reduce((s, a) => s + (a.secondsSaved ?? 0), 0);
  await ctx.threads.update(thread.id, {
    claritySlots: JSON.stringify(state),
    finalClarity: clarityScore(state.slots),
    conversationMinutes: round3(state.seconds / 60),
    optimizationSavings: round3(saved / 60),
    conversationEffectiveness: analyzeEffectiveness(
      { clarity: clarityScore(state.initial) },
      { clarity: clarityScore(state.slots) },
      state.seconds,
    ).efficiency_score,
    now,
  });
  if (state.policy === "learning" && state.userId !== null && (ctx.d.perUser ?? true)) {
    const answered = SLOTS.filter((s) => state.slots[s].source === "answer");
    await ctx.patternLearner.discover(
      state.userId,
      state.ideaType,
      answered,
      {
        confidenceThreshold: ctx.d.config.number("hermes.learning.confidence_threshold"),
        validationThreshold: ctx.d.config.number("hermes.learning.pattern_validation_threshold"),
      },
      (slot) => templatesFor(ctx.templates, slot, state.ideaType).map((t) => t.id),
      now,
    );
  }
  return { ...(refinedJobId !== undefined ? { refinedJobId } : {}), stopReason: reason };
}

/** How information the user volunteered reads in a refine prompt's `answers` (every path writes it so). */
export const informationLine = (text: string) => `- Additional information from the user: ${text}`;

/** The `answers` prompt variable: one readable line per thing the user told us (or we assumed). */
async function answerList(
  ctx: ConversationContext,
  threadId: number,
  state: ConversationState,
): Promise<string> {
  const rows = await ctx.conversations.forThread(threadId);
  const lines: string[] = [];
  for (const r of rows) {
    if (r.responded_date === null || r.user_response === null) continue;
    if (r.question_asked === INFORMATION) {
      lines.push(informationLine(r.user_response));
      continue;
    }
    if (r.user_response === ENOUGH || r.user_response === SKIPPED || r.response_type === "clarification")
      continue;
    const slot = isSlot(r.question_type) ? r.question_type : undefined;
    const label = slot ? SLOT_LABELS[slot] : r.question_type;
    if (r.conversation_position === null) {
      // A pre-fill still in force (not replaced by a real answer since).
      if (slot && state.slots[slot].source !== "pattern") continue;
      lines.push(`- ${label} (assumed from earlier conversations): ${r.user_response}`);
    } else {
      lines.push(`- ${label} — "${r.question_asked}" → ${r.user_response}`);
    }
  }
  return lines.length === 0 ? "(no answers — they asked to go ahead)" : lines.join("\n");
}

/** Queues a rewrite of a draft ("shorter" / "more detail"); returns the new job's id. */
export async function queueRewrite(
  ctx: ConversationContext,
  thread: LearningThread,
  job: Job,
  adjust: keyof typeof ADJUST_INSTRUCTIONS,
  owner: string,
): Promise<number> {
  ctx.d.prompts.template("rewrite");
  const finished = job.status === "completed" && job.full_result !== null;
  const sequences = (await ctx.threads.jobs(thread.id)).map((j) => j.job_sequence);
  const rewrite = ctx.d.queue.enqueue({
    threadId: thread.id,
    parentJobId: job.id,
    jobSequence: Math.max(0, ...sequences) + 1,
    jobType: job.job_type,
    jobSubtype: "rewrite",
    priority: thread.priority,
    promptTemplate: "rewrite",
    // An unfinished draft is rewritten when it finishes (resolvePromptVariables fills `draft`).
    promptVariables: {
      draft: finished ? (job.full_result ?? "") : "",
      instruction: ADJUST_INSTRUCTIONS[adjust],
      draft_job_id: job.id,
    },
    dependencies: finished ? [] : [job.id],
    userId: owner,
  });
  return rewrite.id;
}

/**
 * For the engine's dispatcher: a rewrite queued before its draft finished carries `draft_job_id`
 * and an empty `draft`; fill it from the finished draft when the rewrite runs.
 */
export function resolvePromptVariables(
  job: Pick<Job, "prompt_template_used">,
  vars: Record<string, string>,
  getJob: (id: number) => Pick<Job, "full_result"> | undefined,
): Record<string, string> {
  if (job.prompt_template_used !== "rewrite" || (vars.draft ?? "") !== "") return vars;
  const id = Number(vars.draft_job_id);
  if (!Number.isInteger(id)) return vars;
  return { ...vars, draft: getJob(id)?.full_result ?? "" };
}

function splitPreference(a: AppliedOptimization): { category: string; key: string; value: string } {
  const [category = a.name, key = ""] = a.name.split(".");
  return { category, key, value: a.value };
}
