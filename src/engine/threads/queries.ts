import type { QueueJob } from "../../store/jobs/repo.ts";
import type { ThreadRecord } from "../../store/threads/repo.ts";
import { cancelThread, queueRefine, storeExternalResult, threadJob, threadJobs } from "./jobs.ts";
import { applicablePatterns, learnedPatterns, questionTemplates } from "./learning-reads.ts";
import { estimateMinutes, threadProgress } from "./progress.ts";
import { addInformation } from "./questions.ts";
import type { JobRecord, ThreadProgress, ThreadQueriesDeps } from "./records.ts";

export type {
  JobRecord,
  ThreadProgress,
  ThreadQueriesDeps,
  ThreadQueuePort,
  ThreadStage,
} from "./records.ts";

/**
 * The read model of a thread that transports show (the HTTP API's status and result endpoints),
 * plus the few writes of the API that are not part of the conversation flow (ConversationPort
 * handles questions, answers and feedback): store volunteered information and queue a refined
 * draft with it, cancel a thread's jobs, store a result sent back by an external service.
 *
 * One object for the API's handlers; the work is done beside it: jobs.ts (jobs),
 * questions.ts (volunteered information), progress.ts (stage, estimate),
 * learning-reads.ts (patterns, templates), records.ts (the shapes).
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

  progress(thread: ThreadRecord, jobs: JobRecord[], pendingQuestions: number): ThreadProgress {
    return threadProgress(thread, jobs, pendingQuestions);
  }

  /** Minutes until a job queued now is likely done: recent average run time × work ahead ÷ slots. */
  estimateMinutes(slots = 1): Promise<number> {
    return estimateMinutes(this.d, slots);
  }

  /** Stores information the user volunteered as a conversation entry of the thread. */
  addInformation(threadId: number, text: string): Promise<number> {
    return addInformation(this.d, threadId, text);
  }

  /**
   * Queues a refined draft (prompts/refine.md) from the original idea and volunteered information,
   * when the conversation flow has not queued one. Returns the new job.
   */
  queueRefine(thread: ThreadRecord, additions: string[], userId?: string | null): Promise<QueueJob> {
    return queueRefine(this.d, thread, additions, userId);
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
