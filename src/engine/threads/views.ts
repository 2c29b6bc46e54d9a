import type { Job } from "../../store/jobs/repo.ts";
import { ENOUGH, INFORMATION, SKIPPED } from "../../store/threads/conversations-repo.ts";
import type { ThreadRecord } from "../../store/threads/repo.ts";
import type { QuestionView } from "../conversation/types.ts";
import type { ThreadContext, ThreadDetails } from "./records.ts";

/** Reads of a user's threads for the chat transports: open questions, work in progress, details. */

const PENDING_WINDOW_MS = 30 * 60_000;

/**
 * The question a plain message answers: of the open questions of the user's recent threads, the
 * one asked last — the lowest in the chat, the one the user saw last — whichever idea was touched
 * since (a rating or a finished draft of another idea does not move it). Older than
 * PENDING_WINDOW_MS, a plain message is a new idea again (a reply still answers).
 */
export async function pendingQuestionOfUser(
  d: ThreadContext,
  userId: string,
): Promise<QuestionView | undefined> {
  return (await openQuestionsOfUser(d, userId))[0];
}

/** The user's open questions (one per recent thread), the one asked last first. */
export async function openQuestionsOfUser(d: ThreadContext, userId: string): Promise<QuestionView[]> {
  if (!d.conversation) return [];
  const since = d.clock.now() - PENDING_WINDOW_MS;
  const open: QuestionView[] = [];
  for (const thread of await d.threads.recentForUser(userId, 5)) {
    if (Date.parse(thread.last_active) < since && Date.parse(thread.created_date) < since) continue;
    const q = await d.conversation.pending(thread.id);
    if (q) open.push(q);
  }
  // conversations.id grows with every question asked: the highest is the one asked last.
  return open.sort((a, b) => b.id - a.id);
}

/** One unfinished draft of the user's, as /status tells a person about it. */
export interface DraftInProgress {
  thread: { shortId: string; title: string };
  jobId: number;
  draftNumber: number;
  status: Job["status"];
  /** Waiting drafts (anyone's) the scheduler takes before this one; 0 when not waiting. */
  ahead: number;
}

/** What /status says: the user's unfinished drafts (with their place in line) and open questions. */
export async function statusOfUser(
  d: ThreadContext,
  userId: string,
): Promise<{ drafts: DraftInProgress[]; open: QuestionView[] }> {
  const drafts = (await activeThreads(d, userId, 20)).flatMap(({ thread, jobs }) =>
    jobs.map((job) => ({
      thread: { shortId: thread.uuid.slice(0, 8), title: thread.title },
      jobId: job.id,
      draftNumber: job.job_sequence,
      status: job.status,
      ahead: job.status === "queued" || job.status === "retrying" ? d.queue.aheadOf(job.id) : 0,
    })),
  );
  return { drafts, open: await openQuestionsOfUser(d, userId) };
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
