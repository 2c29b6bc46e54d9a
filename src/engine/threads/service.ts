import { HermesError } from "../../errors.ts";
import type { Slot } from "../../learning/quick-analysis.ts";
import { ThreadJobsRepo } from "../../store/jobs/thread-jobs-repo.ts";
import { LearningListingRepo, type PatternFilter } from "../../store/learning/listing-repo.ts";
import { ConversationsRepo } from "../../store/threads/conversations-repo.ts";
import type { ThreadRecord } from "../../store/threads/repo.ts";
import type { UserExport } from "../../store/threads/user-data-repo.ts";
import type {
  AnswerInput,
  AnswerOutcome,
  Assumption,
  CorrectionOutcome,
  FeedbackInput,
  FeedbackOutcome,
  QuestionView,
} from "../conversation/types.ts";
import type { SubmitIdeaInput, SubmitIdeaResult } from "../ports.ts";
import { type Actor, actingUserId, mayAct } from "./actor.ts";
import { type CancelOutcome, cancelOneJob, cancelThread, hasWorkToCancel } from "./cancel.ts";
import {
  type ContinueInput,
  type ContinueOutcome,
  continueThread,
  type ReplyOutcome,
  replyToThread,
  requireConversation,
} from "./continue.ts";
import { storeExternalResult } from "./external.ts";
import { learnedPatterns } from "./learning-reads.ts";
import { EstimateInputs, estimateMinutes, threadProgress } from "./progress.ts";
import type {
  JobRecord,
  ThreadContext,
  ThreadDetails,
  ThreadProgress,
  ThreadServiceDeps,
} from "./records.ts";
import { answerInstead, newIdeaInstead, routeTypedText, type TypedOps, type TypedOutcome } from "./typed.ts";
import {
  activeThreads,
  openQuestionsOfUser,
  pendingQuestionOfUser,
  statusOfUser,
  threadDetails,
} from "./views.ts";

export type { ThreadRecord } from "../../store/threads/repo.ts";
export type { Actor } from "./actor.ts";
export type { CancelOutcome } from "./cancel.ts";
export type { ContinueInput, ContinueOutcome, ReplyOutcome } from "./continue.ts";
export type {
  IdeasPort,
  JobRecord,
  ThreadDetails,
  ThreadProgress,
  ThreadQueuePort,
  ThreadServiceDeps,
  ThreadStage,
} from "./records.ts";
export type { TypedOutcome } from "./typed.ts";

/**
 * The one thread service every transport calls — HTTP routes, the Telegram bot and the terminal
 * chat — with the acting user: submit an idea, answer, add information, cancel, rate, export and
 * forget, and the reads they show. Transports only translate input and output. Every call on an
 * existing thread checks that the actor may act on it (NOT_FOUND otherwise, no hint it exists).
 * The work is done beside it: continue.ts, cancel.ts, views.ts, progress.ts, external.ts.
 */
export class ThreadService {
  private readonly d: ThreadContext;
  private readonly estimateInputs: EstimateInputs;

  constructor({ db, ...deps }: ThreadServiceDeps) {
    this.d = {
      ...deps,
      jobs: new ThreadJobsRepo(db),
      conversations: new ConversationsRepo(db),
      listing: new LearningListingRepo(db),
      iso: () => new Date(deps.clock.now()).toISOString(),
    };
    this.estimateInputs = new EstimateInputs(this.d);
  }

  /** Saves the idea, queues draft 1 and asks the first question; a guest gets local backends and a quota. */
  async submit(
    actor: Actor,
    input: Omit<SubmitIdeaInput, "userId" | "guest" | "rateKey">,
  ): Promise<SubmitIdeaResult> {
    const result = await this.d.ideas.submitIdea({
      ...input,
      userId: actor.userId,
      ...(actor.rateKey ? { rateKey: actor.rateKey } : {}),
      ...(actor.role === "guest" ? { guest: true } : {}),
    });
    // Every assumption is shown with the first question, each with a one-tap correction (the
    // engine brings them along when the conversation opened with them: not read again).
    return { ...result, assumptions: result.assumptions ?? (await this.assumptions(result.thread)) };
  }

  /** What was assumed from the user's earlier conversations on this thread, still in force. */
  async assumptions(thread: ThreadRecord): Promise<Assumption[]> {
    return (await this.d.conversation?.assumptions?.(thread.id)) ?? [];
  }

  /** "Change" under an assumption: it no longer counts, and the pattern behind it counts a correction. */
  async correctAssumption(actor: Actor, threadId: number, slot: Slot): Promise<CorrectionOutcome> {
    const thread = await this.owned(actor, threadId);
    const port = requireConversation(this.d);
    if (!port.correctAssumption) throw new HermesError("NOT_FOUND", "Assumptions are not enabled.");
    return port.correctAssumption(threadId, slot, actingUserId(actor, thread));
  }

  /** The thread by uuid or short prefix, if the actor may see it. */
  find(actor: Actor, ref: string): Promise<ThreadRecord | undefined> {
    return this.d.threads.byRef(ref, actor.role === "admin" ? undefined : actor.userId);
  }

  /** The thread by id, if the actor may act on it; NOT_FOUND otherwise. */
  async owned(actor: Actor, threadId: number): Promise<ThreadRecord> {
    const thread = await this.d.threads.byId(threadId);
    if (!thread || !mayAct(actor, thread)) throw new HermesError("NOT_FOUND", "There is no such thread.");
    return thread;
  }

  answer(actor: Actor, threadId: number, questionId: number, input: AnswerInput): Promise<AnswerOutcome> {
    return this.owned(actor, threadId).then((thread) =>
      requireConversation(this.d).answer(threadId, questionId, input, actingUserId(actor, thread)),
    );
  }

  /**
   * A plain typed message: the answer to the user's open question, or a new idea when it does not
   * read as an answer (the outcome says which, and which question was set aside).
   */
  typed(actor: Actor, input: Omit<SubmitIdeaInput, "userId" | "guest">): Promise<TypedOutcome> {
    return routeTypedText(this.typedOps(actor), input);
  }

  /** Undo of a text taken as a new idea: cancel that idea and answer the question with its text. */
  answerInstead(actor: Actor, ideaThreadId: number, questionThreadId: number, questionId: number) {
    return answerInstead(this.typedOps(actor), ideaThreadId, questionThreadId, questionId);
  }

  /**
   * Undo of a typed text taken as an answer ("It's a new idea"): the answer and everything learned
   * from it are undone, the question is open again, and the text starts a new idea.
   */
  newIdeaInstead(
    actor: Actor,
    threadId: number,
    questionId: number,
    input: Omit<SubmitIdeaInput, "userId" | "guest" | "text">,
  ) {
    return newIdeaInstead(this.typedOps(actor), threadId, questionId, input);
  }

  private typedOps(actor: Actor): TypedOps {
    return {
      open: () => openQuestionsOfUser(this.d, actor.userId),
      pendingOf: (threadId) => this.pendingQuestionOf(actor, threadId),
      submit: (input) => this.submit(actor, input),
      answer: (q, text) => this.answer(actor, q.threadId, q.id, { kind: "text", text }),
      ideaText: async (threadId) => (await this.owned(actor, threadId)).original_request,
      cancelIdea: async (threadId) =>
        cancelThread(this.d, await this.owned(actor, threadId), "the user said it was an answer"),
      withdraw: async (threadId, questionId) => {
        await this.owned(actor, threadId);
        const flow = requireConversation(this.d);
        if (!flow.withdraw) throw new HermesError("INTERNAL", "Undoing an answer is not available.");
        return flow.withdraw(threadId, questionId);
      },
      judge: this.d.judgeTypedText,
    };
  }

  /** Answers and/or volunteered information (POST /api/threads/:id/continue). */
  async continue(actor: Actor, threadId: number, body: ContinueInput): Promise<ContinueOutcome> {
    const thread = await this.owned(actor, threadId);
    return continueThread(this.d, thread, actingUserId(actor, thread), body);
  }

  /**
   * A message replying to one of the thread's messages (`repliedTo`: that message's kind). A reply
   * to the open question answers it; anything else is information for a refined draft.
   */
  async reply(actor: Actor, threadId: number, text: string, repliedTo?: string): Promise<ReplyOutcome> {
    const thread = await this.owned(actor, threadId);
    return replyToThread(this.d, thread, actingUserId(actor, thread), text, repliedTo);
  }

  /** The question a plain message answers: the open one asked last (views.ts). */
  pendingQuestion(actor: Actor): Promise<QuestionView | undefined> {
    return pendingQuestionOfUser(this.d, actor.userId);
  }

  async pendingQuestionOf(actor: Actor, threadId: number): Promise<QuestionView | undefined> {
    await this.owned(actor, threadId);
    return this.d.conversation?.pending(threadId);
  }

  /** A rating or "shorter"/"more detail" for a finished draft of the actor's thread. */
  async feedback(actor: Actor, jobId: number, input: FeedbackInput): Promise<FeedbackOutcome> {
    const job = this.d.queue.get(jobId);
    if (!job) throw new HermesError("NOT_FOUND", "There is no such draft.", { details: "job_id" });
    const thread = await this.owned(actor, job.thread_id);
    if (job.status !== "completed")
      throw new HermesError(
        "INVALID_INPUT",
        `Job ${job.id} has no result to give feedback on (it is ${job.status}).`,
        {
          details: "job_id",
        },
      );
    if (!this.d.conversation) throw new HermesError("NOT_FOUND", "Feedback is not enabled.");
    return this.d.conversation.feedback(thread.id, jobId, input, actingUserId(actor, thread));
  }

  /**
   * Cancels a thread's unfinished jobs and closes its questions: the thread given, or else the
   * actor's most recent one with something to cancel. Undefined when there is nothing to cancel.
   */
  async cancel(
    actor: Actor,
    options: { ref?: string | undefined; reason?: string | undefined } = {},
  ): Promise<CancelOutcome | undefined> {
    const candidates = options.ref
      ? [await this.find(actor, options.ref)].filter((t): t is ThreadRecord => t !== undefined)
      : await this.d.threads.recentForUser(actor.userId, 20);
    for (const thread of candidates) {
      if (!(await hasWorkToCancel(this.d, thread))) continue;
      return cancelThread(this.d, thread, options.reason ?? "cancelled by the user");
    }
    return undefined;
  }

  /**
   * Cancels one job (and its dependents) of the actor's thread; cancelling draft 1 (the button
   * under the acknowledgement) also closes the idea's questions.
   */
  async cancelJob(actor: Actor, jobId: number): Promise<CancelOutcome> {
    const job = this.d.queue.get(jobId);
    const thread = job ? await this.d.threads.byId(job.thread_id) : undefined;
    if (!thread || !mayAct(actor, thread)) throw new HermesError("NOT_FOUND", "There is no such job.");
    return cancelOneJob(this.d, thread, jobId, "cancelled by the user");
  }

  /** For /status: the actor's unfinished drafts with their place in line, and open questions. */
  status(actor: Actor) {
    return statusOfUser(this.d, actor.userId);
  }

  /**
   * The queue as the actor may see it, by job status: the whole queue for the owner and the admin,
   * a guest's own jobs only (others' work is none of theirs). `scope` says which.
   */
  async queueCounts(actor: Actor): Promise<{ scope: "all" | "own"; counts: Record<string, number> }> {
    if (actor.role === "guest")
      return { scope: "own", counts: await this.d.jobs.activeCountsOfUser(actor.userId) };
    return { scope: "all", counts: this.d.queue.countByStatus() };
  }

  /** The actor's threads that still have unfinished work, with those jobs. */
  activeThreads(actor: Actor, limit = 20) {
    return activeThreads(this.d, actor.userId, limit);
  }

  /** A thread with its drafts and the questions answered, for /thread. */
  threadDetails(actor: Actor, ref: string): Promise<ThreadDetails | undefined> {
    return this.find(actor, ref).then((t) => (t ? threadDetails(this.d, t) : undefined));
  }

  exportUserData(actor: Actor): UserExport {
    if (!this.d.userData) throw new HermesError("INTERNAL", "export is not available");
    return this.d.userData.export(actor.userId, this.d.iso());
  }

  /** Deletes everything stored about the actor, after cancelling their unfinished work. */
  async forget(actor: Actor, chatId?: string): Promise<Record<string, number>> {
    if (!this.d.userData) throw new HermesError("INTERNAL", "forget is not available");
    for (const { thread } of await activeThreads(this.d, actor.userId, 1000))
      await cancelThread(this.d, thread, "the user asked Hermes to forget their data");
    const deleted = this.d.userData.forget(actor.userId, chatId);
    // The rows are gone; what was learned from them in memory (remembered answers) goes too.
    this.d.conversation?.forgetInMemory?.();
    return deleted;
  }

  rememberMessage(chatId: string, messageId: number, threadId: number, kind: string): void {
    this.d.messageLinks?.record(chatId, messageId, threadId, kind);
  }

  threadOfMessage(chatId: string, messageId: number): { threadId: number; kind: string } | undefined {
    return this.d.messageLinks?.threadOf(chatId, messageId);
  }

  // Reads for status pages ------------------------------------------------------------------------

  jobs(thread: ThreadRecord): Promise<JobRecord[]> {
    return this.d.jobs.ofThread(thread.id);
  }

  job(thread: ThreadRecord, jobId: number): Promise<JobRecord | undefined> {
    return this.d.jobs.inThread(thread.id, jobId);
  }

  /** The open question of a thread, if any. */
  async openQuestion(thread: ThreadRecord): Promise<QuestionView | undefined> {
    return this.d.conversation?.pending(thread.id);
  }

  progress(thread: ThreadRecord, jobs: JobRecord[], pendingQuestions: number): ThreadProgress {
    return threadProgress(thread, jobs, pendingQuestions);
  }

  /** Minutes until a job queued now is likely done: recent average run time × work ahead ÷ slots. */
  estimateMinutes(slots = 1): Promise<number> {
    return estimateMinutes(this.estimateInputs, slots);
  }

  /** Learned patterns, most confident first, with the filters applied. */
  patterns(filter: PatternFilter = {}) {
    return learnedPatterns(this.d, filter);
  }

  /** Question templates with their measured effectiveness. */
  questionTemplates(limit = 100) {
    return this.d.listing.templates(limit);
  }

  /** Stores a result delivered by an external service as a finished job of the thread. */
  storeExternalResult(
    thread: ThreadRecord,
    input: { text: string; status: "completed" | "failed"; source: string; metadata?: unknown },
  ): Promise<number> {
    return storeExternalResult(this.d, thread, input);
  }
}
