import type { Clock } from "../../clock.ts";
import type { SystemConfig } from "../../config/system-config.ts";
import { HermesError } from "../../errors.ts";
import type { JobQueue } from "../../queue/job-queue.ts";
import type { QueueJob } from "../../store/jobs/repo.ts";
import type { ThreadRecord, ThreadsRepo } from "../../store/threads/repo.ts";
import type { UserExport } from "../../store/threads/user-data-repo.ts";
import type {
  AnswerInput,
  AnswerOutcome,
  ConversationPort,
  FeedbackInput,
  FeedbackOutcome,
  QuestionView,
} from "../conversation/types.ts";
import type { MessageLinksPort, UserDataPort } from "../engine.ts";

const PENDING_WINDOW_MS = 30 * 60_000;

export interface ThreadDetails {
  thread: ThreadRecord;
  jobs: QueueJob[];
  /** The questions asked in order, with the answers (null: not answered, or skipped). */
  answers: { position: number; question: string; answer: string | null }[];
}

export interface ThreadActionsDeps {
  threads: ThreadsRepo;
  queue: JobQueue;
  config: SystemConfig;
  clock: Clock;
  conversation?: ConversationPort | undefined;
  messageLinks?: MessageLinksPort | undefined;
  userData?: UserDataPort | undefined;
  conversationLog?: {
    forThread(
      threadId: number,
    ): Promise<
      { conversation_position: number | null; question_asked: string; user_response: string | null }[]
    >;
  };
}

/**
 * What a user does to threads that exist: answer questions, rate and adjust drafts, add
 * information, cancel, look, export and forget. Every call checks that the thread is the user's.
 */
export class ThreadActions {
  private readonly d: ThreadActionsDeps;

  constructor(deps: ThreadActionsDeps) {
    this.d = deps;
  }

  /** The thread, if it belongs to the user; NOT_FOUND otherwise (no hint that it exists). */
  async ownedThread(userId: string, threadId: number): Promise<ThreadRecord> {
    const thread = await this.d.threads.byId(threadId);
    if (!thread || thread.user_id !== userId) throw new HermesError("NOT_FOUND", "There is no such thread.");
    return thread;
  }

  async answer(
    userId: string,
    threadId: number,
    questionId: number,
    input: AnswerInput,
  ): Promise<AnswerOutcome> {
    await this.ownedThread(userId, threadId);
    if (!this.d.conversation) throw new HermesError("NOT_FOUND", "Questions are not enabled.");
    return this.d.conversation.answer(threadId, questionId, input, userId);
  }

  /** The most recent of the user's threads that is waiting for an answer. */
  /**
   * The question a plain message answers: the newest unanswered one of the user's recent threads.
   * Older than PENDING_WINDOW_MS, a plain message is a new idea again (a reply still answers).
   */
  async pendingQuestion(userId: string): Promise<QuestionView | undefined> {
    if (!this.d.conversation) return undefined;
    const since = this.d.clock.now() - PENDING_WINDOW_MS;
    for (const thread of await this.d.threads.recentForUser(userId, 3)) {
      if (Date.parse(thread.last_active) < since && Date.parse(thread.created_date) < since) continue;
      const q = await this.d.conversation.pending(thread.id);
      if (q) return q;
    }
    return undefined;
  }

  async pendingQuestionOf(userId: string, threadId: number): Promise<QuestionView | undefined> {
    await this.ownedThread(userId, threadId);
    return this.d.conversation?.pending(threadId);
  }

  async feedback(userId: string, jobId: number, input: FeedbackInput): Promise<FeedbackOutcome> {
    const job = this.d.queue.get(jobId);
    if (!job) throw new HermesError("NOT_FOUND", "There is no such draft.");
    await this.ownedThread(userId, job.thread_id);
    if (!this.d.conversation) throw new HermesError("NOT_FOUND", "Feedback is not enabled.");
    return this.d.conversation.feedback(job.thread_id, jobId, input, userId);
  }

  /**
   * More information for a thread: answers its pending question if there is one, otherwise
   * queues a refined draft that takes the new information into account.
   */
  async continueThread(
    userId: string,
    threadId: number,
    text: string,
  ): Promise<{ answered: AnswerOutcome } | { refinedJobId: number }> {
    const thread = await this.ownedThread(userId, threadId);
    const info = text.trim();
    if (info === "") throw new HermesError("INVALID_INPUT", "The message is empty.");
    const max = this.d.config.number("hermes.web.max_input_length");
    if (info.length > max)
      throw new HermesError("INVALID_INPUT", `That is ${info.length} characters; the limit is ${max}.`);
    const pending = await this.d.conversation?.pending(threadId);
    if (pending && this.d.conversation) {
      return {
        answered: await this.d.conversation.answer(
          threadId,
          pending.id,
          { kind: "text", text: info },
          userId,
        ),
      };
    }
    const drafts = this.d.queue.countDrafts(threadId);
    const job = this.d.queue.enqueue({
      threadId,
      jobSequence: drafts + 1,
      parentJobId: this.d.queue.latestJobId(threadId) ?? null,
      jobType: thread.idea_type ?? "creation",
      jobSubtype: "refine",
      priority: thread.priority,
      promptTemplate: "refine",
      promptVariables: {
        idea: thread.original_request,
        idea_type: thread.idea_type ?? "creation",
        answers: `Additional information from the user: ${info}`,
        preferences: "",
      },
      userId,
    });
    return { refinedJobId: job.id };
  }

  rememberMessage(chatId: string, messageId: number, threadId: number, kind: string): void {
    this.d.messageLinks?.record(chatId, messageId, threadId, kind);
  }

  threadOfMessage(chatId: string, messageId: number): { threadId: number; kind: string } | undefined {
    return this.d.messageLinks?.threadOf(chatId, messageId);
  }

  /** A thread with its jobs (drafts) in order, for /thread and the API. */
  async threadDetails(userId: string, ref: string): Promise<ThreadDetails | undefined> {
    const thread = await this.d.threads.byRef(ref, userId);
    if (!thread) return undefined;
    const rows = (await this.d.conversationLog?.forThread(thread.id)) ?? [];
    const answers = rows
      .filter((r) => r.conversation_position !== null)
      .map((r) => ({
        position: r.conversation_position as number,
        question: r.question_asked,
        answer: r.user_response,
      }));
    return { thread, jobs: this.d.queue.jobsOfThread(thread.id), answers };
  }

  exportUserData(userId: string): UserExport {
    if (!this.d.userData) throw new HermesError("INTERNAL", "export is not available");
    return this.d.userData.export(userId, new Date(this.d.clock.now()).toISOString());
  }

  /** Deletes everything stored about the user, after cancelling their unfinished work. */
  async forgetUser(userId: string, chatId?: string): Promise<Record<string, number>> {
    if (!this.d.userData) throw new HermesError("INTERNAL", "forget is not available");
    for (const { jobs } of await this.activeThreads(userId, 1000)) {
      for (const job of jobs) this.d.queue.cancel(job.id, "the user asked Hermes to forget their data");
    }
    return this.d.userData.forget(userId, chatId);
  }

  /** Cancels the unfinished jobs of one thread, or of the user's most recent active thread. */
  async cancel(
    userId: string,
    threadRef?: string,
  ): Promise<{ thread: ThreadRecord; cancelled: number[]; questionsClosed: boolean } | undefined> {
    const candidates = threadRef
      ? [await this.d.threads.byRef(threadRef, userId)].filter((t): t is ThreadRecord => t !== undefined)
      : await this.d.threads.recentForUser(userId, 20);
    for (const thread of candidates) {
      const asking = (await this.d.conversation?.pending(thread.id)) !== undefined;
      if (this.d.queue.activeForThread(thread.id).length === 0 && !asking) continue;
      // Cancelling the idea also ends its questions, first: an answer being recorded right now
      // finishes (and may queue draft 2) before close returns, and is then cancelled below.
      const questionsClosed = (await this.d.conversation?.close(thread.id, "cancelled")) ?? false;
      const cancelled = this.d.queue
        .activeForThread(thread.id)
        .flatMap((j) => this.d.queue.cancel(j.id, "cancelled by the user"));
      return { thread, cancelled, questionsClosed };
    }
    return undefined;
  }
  /** Cancels one job (and its dependents) if it belongs to the user. */
  async cancelJob(userId: string, jobId: number): Promise<number[]> {
    const job = this.d.queue.get(jobId);
    if (!job) throw new HermesError("NOT_FOUND", "There is no such job.");
    const thread = await this.d.threads.byId(job.thread_id);
    if (!thread || thread.user_id !== userId) throw new HermesError("NOT_FOUND", "There is no such job.");
    return this.d.queue.cancel(jobId, "cancelled by the user");
  }
  /** The user's threads that still have unfinished work, with those jobs. */
  async activeThreads(userId: string, limit = 20): Promise<{ thread: ThreadRecord; jobs: QueueJob[] }[]> {
    const recent = await this.d.threads.recentForUser(userId, limit);
    return recent
      .map((thread) => ({ thread, jobs: this.d.queue.activeForThread(thread.id) }))
      .filter((t) => t.jobs.length > 0);
  }
}
