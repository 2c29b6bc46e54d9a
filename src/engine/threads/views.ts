import type { Job } from "../../store/jobs/repo.ts";
import { ENOUGH, INFORMATION, SKIPPED } from "../../store/threads/conversations-repo.ts";
import type { ThreadRecord } from "../../store/threads/repo.ts";
import type { QuestionView } from "../conversation/types.ts";
import type { ThreadContext, ThreadDetails } from "./records.ts";

/** Reads of a user's threads for the chat transports: open questions, work in progress, details. */

const PENDING_WINDOW_MS = 30 * 60_000;

/**
 * The question a plain message answers: the newest unanswered one of the user's recent threads.
 * Older than PENDING_WINDOW_MS, a plain message is a new idea again (a reply still answers).
 */
export async function pendingQuestionOfUser(
  d: ThreadContext,
  userId: string,
): Promise<QuestionView | undefined> {
  if (!d.conversation) return undefined;
  const since = d.clock.now() - PENDING_WINDOW_MS;
  for (const thread of await d.threads.recentForUser(userId, 3)) {
    if (Date.parse(thread.last_active) < since && Date.parse(thread.created_date) < since) continue;
    const q = await d.conversation.pending(thread.id);
    if (q) return q;
  }
  return undefined;
}

/** The user's threads that still have unfinished work, with those jobs. */
export async function activeThreads(
  d: ThreadContext,
  userId: string,
  limit: number,
): Promise<{ thread: ThreadRecord; jobs: Job[] }[]> {
  const recent = await d.threads.recentForUser(userId, limit);
  return recent
    .map((thread) => ({ thread, jobs: d.queue.activeForThread(thread.id) }))
    .filter((t) => t.jobs.length > 0);
}

/**
 * A thread with its jobs (drafts) in order, the questions asked with their answers (an
 * unanswered one is "open", not skipped), and the information the user added.
 */
export async function threadDetails(d: ThreadContext, thread: ThreadRecord): Promise<ThreadDetails> {
  const rows = await d.conversations.forThread(thread.id);
  const answers = rows
    .filter((r) => r.conversation_position !== null)
    .map((r) => ({
      position: r.conversation_position as number,
      question: r.question_asked,
      answer: answerState(r) === "answered" ? r.user_response : null,
      state: answerState(r),
    }));
  const information = rows
    .filter((r) => r.question_asked === INFORMATION && r.user_response !== null)
    .map((r) => r.user_response as string);
  return { thread, jobs: await d.jobs.ofThread(thread.id), answers, information };
}

function answerState(r: {
  responded_date: string | null;
  user_response: string | null;
}): ThreadDetails["answers"][number]["state"] {
  if (r.responded_date === null || r.user_response === null) return "open";
  if (r.user_response === ENOUGH) return "closed";
  return r.user_response === SKIPPED ? "skipped" : "answered";
}
