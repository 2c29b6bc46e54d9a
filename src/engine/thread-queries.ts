import type { QueueJob } from "../store/jobs-repo.ts";
import type { ThreadRecord } from "../store/threads-repo.ts";
import {
  cancelThread,
  queueRefine,
  queueRewrite,
  recordRating,
  storeExternalResult,
  threadJob,
  threadJobs,
} from "./thread-jobs.ts";
import { applicablePatterns, learnedPatterns, questionTemplates } from "./thread-learning-reads.ts";
import { estimateMinutes, threadProgress } from "./thread-progress.ts";
import { addInformation, answerQuestion, pendingQuestions, skipQuestions } from "./thread-questions.ts";
import type { JobRecord, QuestionRecord, ThreadProgress, ThreadQueriesDeps } from "./thread-records.ts";

export type {
  JobRecord,
  QuestionRecord,
  ThreadProgress,
  ThreadQueriesDeps,
  ThreadQueuePort,
  ThreadStage,
} from "./thread-records.ts";

/**
 * The read model of a thread that transports show (the HTTP API's status and result endpoints),
 * plus the small write paths the API needs while the conversation flow (ConversationPort) and the
 * learning module are not wired: store an answer or extra information, queue a refined draft,
 * record a rating, cancel a thread's jobs, store a result sent back by an external service.
 *
 * One object for the API's handlers; the work is done beside it: thread-jobs.ts (jobs),
 * thread-questions.ts (questions), thread-progress.ts (stage, estimate), thread-learning-reads.ts
 * (patterns, templates), thread-records.ts (the shapes).
 */
export class ThreadQueries {
  private readonly d: ThreadQueriesDeps;

  constructor(deps: ThreadQueriesDeps) {
    this.d = deps;
  }

  /** Any user's thread by uuid or short prefix (the API's caller is the owner). */
  async byRef(ref: string): Promise<ThreadRecord | undefined> {
    return this.d.threads.byRef(ref);
  }

  jobs(threadId: number): Promise<JobRecord[]> {
    return threadJobs(this.d, threadId);
  }

  job(threadId: number, jobId: number): Promise<JobRecord | undefined> {
    return threadJob(this.d, threadId, jobId);
  }

  /** Asked and not yet answered (nor skipped), oldest first. */
  pendingQuestions(threadId: number): Promise<QuestionRecord[]> {
    return pendingQuestions(this.d, threadId);
  }

  progress(thread: ThreadRecord, jobs: JobRecord[], pendingQuestions: number): ThreadProgress {
    return threadProgress(thread, jobs, pendingQuestions);
  }

  /** Minutes until a job queued now is likely done: recent average run time × work ahead ÷ slots. */
  estimateMinutes(slots = 1): Promise<number> {
    return estimateMinutes(this.d, slots);
  }

  /** Records an answer to a question of this thread (fallback when no ConversationPort is wired). */
  answerQuestion(threadId: number, questionId: number, answer: string): Promise<QuestionRecord> {
    return answerQuestion(this.d, threadId, questionId, answer);
  }

  /** Marks open questions as skipped: the given ones, or every open one of the thread ("enough"). */
  skipQuestions(threadId: number, which: number[] | "all"): Promise<number> {
    return skipQuestions(this.d, threadId, which);
  }

  /** Stores information the user volunteered as a conversation entry of the thread. */
  addInformation(threadId: number, text: string): Promise<number> {
    return addInformation(this.d, threadId, text);
  }

  /**
   * Queues a refined draft (prompts/refine.md) from the original idea and what was learned since
   * (answers and volunteered information), as the conversation flow does. Returns the new job.
   */
  queueRefine(thread: ThreadRecord, additions: string[], userId?: string | null): Promise<QueueJob> {
    return queueRefine(this.d, thread, additions, userId);
  }

  /** Queues a rewrite of a finished draft (prompts/rewrite.md): shorter, more detail. */
  queueRewrite(
    thread: ThreadRecord,
    job: JobRecord,
    instruction: string,
    userId?: string | null,
  ): Promise<QueueJob> {
    return queueRewrite(this.d, thread, job, instruction, userId);
  }

  /** A 1–5 rating of a job: kept on the job and as the thread's satisfaction. */
  recordRating(threadId: number, jobId: number, rating: number): Promise<void> {
    return recordRating(this.d, threadId, jobId, rating);
  }

  /** Cancels every unfinished job of the thread (and their dependents). Returns the ids cancelled. */
  cancelThread(threadId: number, reason: string): number[] {
    return cancelThread(this.d, threadId, reason);
  }

  /** Learned patterns, most confident first. */
  patterns(filter: { category?: string; minConfidence?: number; limit?: number } = {}) {
    return learnedPatterns(this.d, filter);
  }

  /** Question templates with their measured effectiveness. */
  questionTemplates(limit = 100) {
    return questionTemplates(this.d, limit);
  }

  /** Patterns whose trigger conditions mention the thread's idea type, at or above a confidence. */
  applicablePatterns(thread: ThreadRecord, minConfidence: number) {
    return applicablePatterns(this.d, thread, minConfidence);
  }

  /** Stores a result delivered by an external service as a completed job of the thread. */
  storeExternalResult(
    thread: ThreadRecord,
    input: { text: string; status: "completed" | "failed"; source: string; metadata?: unknown },
  ): Promise<number> {
    return storeExternalResult(this.d, thread, input);
  }
}
