import { clarityScore, slotProgress } from "../../learning/clarity.ts";
import { analyzeEffectiveness } from "../../learning/effectiveness.ts";
import { preferenceList } from "../../learning/preferences.ts";
import { templatesFor } from "../../learning/question-selector.ts";
import { SLOTS } from "../../learning/quick-analysis.ts";
import type { Job } from "../../store/jobs/types.ts";
import {
  type ConversationsRepo,
  ENOUGH,
  INFORMATION,
  SKIPPED,
} from "../../store/threads/conversations-repo.ts";
import type { LearningThread } from "../../store/threads/learning-repo.ts";
import type { ConversationContext } from "./context.ts";
import type { LearnedThreadFields } from "./prefill.ts";
import {
  type AppliedOptimization,
  type ConversationState,
  isSlot,
  kindOf,
  parseState,
  round3,
  SLOT_LABELS,
} from "./records.ts";

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
 * Stops the questions: queues draft 2 if anything was learned or added, saves the
 * state with why it stopped (and `saveWith`, in the same write), and lets the pattern learner look
 * at what was answered.
 */
export async function stopAndRefine(
  ctx: ConversationContext,
  thread: LearningThread,
  state: ConversationState,
  draft1: Job | undefined,
  reason: string,
  now: string,
  saveWith: LearnedThreadFields = {},
): Promise<{ refinedJobId?: number; stopReason: string }> {
  const progress = slotProgress(state.initial, state.slots);
  const learnedSomething = SLOTS.some((s) => progress[s] > 0);
  const told = await answerLines(ctx.conversations, thread.id, state);
  // "Enough" with nothing answered or added: a refine prompt would hold nothing draft 1 did not,
  // so no model call is spent on it (the caller says draft 1 stands).
  const refinedJobId =
    learnedSomething || told.length > 0 ? queueRefine(ctx, thread, state, draft1, told) : undefined;
  state.stop = { reason, at: now, refinedJobId: refinedJobId ?? null, progress };
  const saved = state.applied.reduce((s, a) => s + (a.secondsSaved ?? 0), 0);
  await ctx.threads.update(thread.id, {
    ...saveWith,
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
  await discoverPatterns(ctx, state, now);
  return { ...(refinedJobId !== undefined ? { refinedJobId } : {}), stopReason: reason };
}

/** Queues draft 2 (prompts/refine.md) from what the user told and the preferences; returns its job id. */
function queueRefine(
  ctx: ConversationContext,
  thread: LearningThread,
  state: ConversationState,
  draft1: Job | undefined,
  told: readonly string[],
): number {
  ctx.prompts.template("refine"); // fail here, not in the queue, if the prompt file is missing
  const prefs = state.applied.filter((a) => a.kind === "preference");
  const job = ctx.queue.enqueue({
    threadId: thread.id,
    parentJobId: draft1?.id ?? null,
    jobSequence: 2,
    jobType: draft1?.job_type ?? state.ideaType,
    jobSubtype: "refine",
    priority: thread.priority,
    promptTemplate: "refine",
    // Draft 2 is built on draft 1: filled in when the refine runs (resolvePromptVariables).
    promptVariables: refinementVariables(thread, state.ideaType, told, draft1, {
      preferences: preferenceList(prefs.map((p) => splitPreference(p))),
      finishedOnly: true,
    }),
    userId: state.userId,
    achievedClarity: clarityScore(state.slots),
  });
  return job.id;
}

/**
 * The one context every refinement carries — draft 2, a reply to a draft, ✂ Shorter / ➕ More
 * detail: the idea, everything the user told (every answer so far, every piece of added
 * information — answerLines), the preferences (refreshed by the dispatcher when the job runs)
 * and the draft it works on (its text now, or filled in when it finishes: `draft_job_id`).
 */
export function refinementVariables(
  thread: { original_request: string },
  ideaType: string,
  told: readonly string[],
  draft: Pick<Job, "id" | "status" | "full_result"> | undefined,
  options: { preferences?: string; finishedOnly?: boolean; emptyAnswers?: string } = {},
): Record<string, string | number> {
  const finished = draft?.status === "completed" && draft.full_result !== null;
  return {
    idea: thread.original_request,
    idea_type: ideaType,
    answers:
      told.length === 0 && options.emptyAnswers !== undefined ? options.emptyAnswers : answerText(told),
    preferences: options.preferences ?? "",
    // Draft 2 always waits for the text at run time (a refine is queued before draft 1 is done).
    draft: finished && !options.finishedOnly ? (draft.full_result ?? "") : "",
    ...(draft ? { draft_job_id: draft.id } : {}),
  };
}

/** Lets the pattern learner look at what was answered (learning policy, per-user learning on). */
async function discoverPatterns(
  ctx: ConversationContext,
  state: ConversationState,
  now: string,
): Promise<void> {
  if (state.policy === "learning" && state.userId !== null && ctx.perUser) {
    const answered = SLOTS.filter((s) => state.slots[s].source === "answer");
    await ctx.patternLearner.discover(
      state.userId,
      kindOf(state),
      answered,
      {
        confidenceThreshold: ctx.config.number("hermes.learning.confidence_threshold"),
        validationThreshold: ctx.config.number("hermes.learning.pattern_validation_threshold"),
      },
      (slot) => templatesFor(ctx.templates, slot, state.ideaType).map((t) => t.id),
      now,
    );
  }
}

/** How information the user volunteered reads in a refine prompt's `answers` (every path writes it so). */
export const informationLine = (text: string) => `- Additional information from the user: ${text}`;

/** The `answers` prompt variable from answerLines. */
export const answerText = (lines: readonly string[]): string =>
  lines.length === 0 ? "(no answers — they asked to go ahead)" : lines.join("\n");

/**
 * One readable line per thing the user told us (or we assumed), in the order told: every answer
 * and every piece of added information. Every refine (draft 2, a reply to a draft) uses it.
 */
export async function answerLines(
  conversations: Pick<ConversationsRepo, "forThread">,
  threadId: number,
  state: ConversationState | undefined,
): Promise<string[]> {
  const rows = await conversations.forThread(threadId);
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
      if (slot && !prefillInForce(rows, slot, state)) continue;
      lines.push(`- ${label} (assumed from earlier conversations): ${r.user_response}`);
    } else {
      lines.push(`- ${label} — "${r.question_asked}" → ${r.user_response}`);
    }
  }
  return lines;
}

/** A pre-fill still counts unless a real answer replaced it (the state says so when there is one). */
function prefillInForce(
  rows: readonly {
    question_type: string;
    conversation_position: number | null;
    responded_date: string | null;
  }[],
  slot: string,
  state: ConversationState | undefined,
): boolean {
  if (state) return state.slots[slot as keyof ConversationState["slots"]].source === "pattern";
  return !rows.some(
    (r) => r.question_type === slot && r.conversation_position !== null && r.responded_date !== null,
  );
}

/**
 * Queues a rewrite of a draft ("shorter" / "more detail") with the whole context (refinementVariables:
 * the idea, every answer and piece of added information so far — even with questions still open —
 * and the preferences), so the rewrite never loses what the user told; returns the new job's id.
 */
export async function queueRewrite(
  ctx: ConversationContext,
  thread: LearningThread,
  job: Job,
  adjust: keyof typeof ADJUST_INSTRUCTIONS,
  owner: string,
): Promise<number> {
  ctx.prompts.template("rewrite");
  const finished = job.status === "completed" && job.full_result !== null;
  const jobs = await ctx.threads.jobs(thread.id);
  const state = parseState(thread.clarity_slots);
  const told = await answerLines(ctx.conversations, thread.id, state);
  const rewrite = ctx.queue.enqueue({
    threadId: thread.id,
    parentJobId: job.id,
    jobSequence: Math.max(0, ...jobs.map((j) => j.job_sequence)) + 1,
    jobType: job.job_type,
    jobSubtype: "rewrite",
    priority: thread.priority,
    promptTemplate: "rewrite",
    // An unfinished draft is rewritten when it finishes (resolvePromptVariables fills `draft`).
    promptVariables: {
      ...refinementVariables(thread, state?.ideaType ?? thread.idea_type ?? job.job_type, told, job, {
        emptyAnswers: "(nothing yet)",
      }),
      instruction: ADJUST_INSTRUCTIONS[adjust],
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
  if ((vars.draft ?? "") !== "" || vars.draft_job_id === undefined) return vars;
  const id = Number(vars.draft_job_id);
  if (!Number.isInteger(id)) return vars;
  const text = getJob(id)?.full_result ?? "";
  // A refine whose draft never finished writes the draft from the idea and what they told us.
  if (text === "" && job.prompt_template_used === "refine")
    return {
      ...vars,
      draft: "(the first draft did not finish — write the draft from the idea and what they told you)",
    };
  return { ...vars, draft: text };
}

function splitPreference(a: AppliedOptimization): { category: string; key: string; value: string } {
  const [category = a.name, key = ""] = a.name.split(".");
  return { category, key, value: a.value };
}
