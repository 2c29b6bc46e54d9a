import { HermesError } from "../../errors.ts";
import type { ThreadRecord } from "../../store/threads/repo.ts";
import type { ThreadContext } from "./records.ts";

/**
 * Cancelling, once for every transport: the idea's open questions end first — an answer being
 * recorded right now finishes (and may queue a refined draft) before close returns, and that
 * draft is then cancelled with the rest — so no later message can answer a cancelled idea.
 */

export interface CancelOutcome {
  thread: ThreadRecord;
  cancelled: number[];
  questionsClosed: boolean;
}

/** Closes the thread's questions and cancels every unfinished job (and its dependents). */
export async function cancelThread(
  d: ThreadContext,
  thread: ThreadRecord,
  reason: string,
): Promise<CancelOutcome> {
  const questionsClosed = (await d.conversation?.close(thread.id, "cancelled")) ?? false;
  const ids = new Set<number>();
  for (const job of d.queue.activeForThread(thread.id)) {
    if (ids.has(job.id)) continue;
    for (const id of d.queue.cancel(job.id, reason)) ids.add(id);
  }
  return { thread, cancelled: [...ids], questionsClosed };
}

/** Whether the thread has anything to cancel: unfinished jobs or a question waiting for an answer. */
export async function hasWorkToCancel(d: ThreadContext, thread: ThreadRecord): Promise<boolean> {
  if (d.queue.activeForThread(thread.id).length > 0) return true;
  return (await d.conversation?.pending(thread.id)) !== undefined;
}

/**
 * Cancels one job (and its dependents). Cancelling the idea's first draft (the button under its
 * acknowledgement) cancels the idea: its open questions close too — also when draft 1 had already
 * finished (a fast backend), or the next typed text would still answer the cancelled idea.
 */
export async function cancelOneJob(
  d: ThreadContext,
  thread: ThreadRecord,
  jobId: number,
  reason: string,
): Promise<CancelOutcome> {
  const job = d.queue.get(jobId);
  if (!job || job.thread_id !== thread.id) throw new HermesError("NOT_FOUND", "There is no such job.");
  const ideaDraft = job.job_subtype === "draft" && job.job_sequence === 1;
  const questionsClosed = ideaDraft
    ? ((await d.conversation?.close(thread.id, "cancelled")) ?? false)
    : false;
  const cancelled = d.queue.cancel(jobId, reason);
  return { thread, cancelled, questionsClosed };
}

/** What a cancel did, in words for a person (Telegram and the terminal chat): what stopped, and what was already done. */
export function describeCancel(r: CancelOutcome): string {
  const idea = `“${r.thread.title}” (${r.thread.uuid.slice(0, 8)})`;
  const n = r.cancelled.length;
  const drafts = n === 1 ? "1 unfinished draft" : `${n} unfinished drafts`;
  if (n > 0)
    return `✖ Cancelled ${idea}: stopped ${drafts}${r.questionsClosed ? " and closed its questions" : ""}.`;
  if (r.questionsClosed) return `✖ Stopped the questions of ${idea}; its drafts were already finished.`;
  return `Nothing of ${idea} was still running.`;
}
