import type { Kysely } from "kysely";
import type { Clock } from "../../clock.ts";
import type { Job, NewJob } from "../../store/jobs/repo.ts";
import type { JobRecord, ThreadJobsRepo } from "../../store/jobs/thread-jobs-repo.ts";
import type { LearningListingRepo } from "../../store/learning/listing-repo.ts";
import type { Database } from "../../store/schema.ts";
import type { ConversationsRepo } from "../../store/threads/conversations-repo.ts";
import type { ThreadsRepo } from "../../store/threads/repo.ts";
import type { TypedTextVerdict } from "../conversation/typed-text.ts";
import type { ConversationPort, QuestionView } from "../conversation/types.ts";
import type { MessageLinksPort, SubmitIdeaInput, SubmitIdeaResult, UserDataPort } from "../ports.ts";

/** The shapes of the thread service (service.ts) and what its parts share. */

export type { JobRecord } from "../../store/jobs/thread-jobs-repo.ts";

/** The part of JobQueue used here (JobQueue satisfies it). */
export interface ThreadQueuePort {
  enqueue(job: NewJob): Job;
  cancel(jobId: number, reason?: string): number[];
  get(jobId: number): Job | undefined;
  activeForThread(threadId: number): Job[];
  jobsOfThread(threadId: number): Job[];
  depth(): number;
  aheadOf(jobId: number): number;
  countByStatus(): Record<string, number>;
}

/** The Engine satisfies this: the submit path (checks, thread, draft 1, first question). */
export interface IdeasPort {
  submitIdea(input: SubmitIdeaInput): Promise<SubmitIdeaResult>;
}

export interface ThreadServiceDeps {
  db: Kysely<Database>;
  threads: ThreadsRepo;
  queue: ThreadQueuePort;
  config: { number(key: string): number };
  clock: Pick<Clock, "now">;
  ideas: IdeasPort;
  /** The question/answer flow; without it threads get no questions and no feedback. */
  conversation?: ConversationPort | undefined;
  messageLinks?: MessageLinksPort | undefined;
  userData?: UserDataPort | undefined;
  /**
   * Decides whether typed text answers the open question or is a new idea (default: the heuristic;
   * Hermes wires the model-assisted judge of src/engine/understanding/typed-judge.ts).
   */
  judgeTypedText?:
    | ((text: string, question: QuestionView) => TypedTextVerdict | Promise<TypedTextVerdict>)
    | undefined;
}

/** What the service's parts work with: the deps plus the repositories built over `db`. */
export interface ThreadContext extends Omit<ThreadServiceDeps, "db"> {
  jobs: ThreadJobsRepo;
  conversations: ConversationsRepo;
  listing: LearningListingRepo;
  iso(): string;
}

export type ThreadStage =
  | "queued"
  | "drafting"
  | "waiting_for_answers"
  | "refining"
  | "retrying"
  | "done"
  | "failed"
  | "cancelled";

export interface ThreadProgress {
  stage: ThreadStage;
  percent: number;
  jobs_total: number;
  jobs_completed: number;
  jobs_active: number;
  jobs_failed: number;
  jobs_cancelled: number;
  clarity: number;
  drafts: number;
}

/** A thread with its jobs (drafts) in order and the questions asked, for /thread. */
export interface ThreadDetails {
  thread: import("../../store/threads/repo.ts").ThreadRecord;
  jobs: JobRecord[];
  /** The questions asked in order, with the answers (null: not answered, or skipped). */
  answers: {
    position: number;
    question: string;
    answer: string | null;
    /** open: still waiting for an answer; closed: the questions stopped (enough, cancel) before it. */
    state: "answered" | "open" | "skipped" | "closed";
  }[];
  /** What the user added to the idea without being asked (replies to a draft, information). */
  information: string[];
}
