import type { BackendManager } from "../backends/manager/manager.ts";
import type { Clock } from "../clock.ts";
import type { SystemConfig } from "../config/system-config.ts";
import type { QuickAnalysis } from "../learning/quick-analysis.ts";
import type { JobErrorInfo, QueueEvent, QueueEvents } from "../queue/events.ts";
import type { JobQueue } from "../queue/job-queue.ts";
import type { Job } from "../store/jobs/types.ts";
import type { StorageFault } from "../store/storage-fault.ts";
import type { IntakeRepo } from "../store/threads/intake-repo.ts";
import type { ThreadRecord, ThreadsRepo } from "../store/threads/repo.ts";
import type { Assumption, ConversationPort, QuestionView } from "./conversation/types.ts";
import type { PromptLibrary } from "./prompts.ts";
import type { RateLimiter } from "./rate-limiter.ts";

/** The engine's inputs, outputs, ports and collaborators; engine.ts re-exports them for transports. */
export type IdeaSource = "telegram" | "api" | "cli" | "external";

export interface SubmitIdeaInput {
  userId: string;
  chatId?: string | null;
  text: string;
  source: IdeaSource;
  priority?: number;
  callbackUrl?: string | null;
  /** A guest in limited mode: local backends only, and a daily quota of ideas. */
  guest?: boolean;
  /** Validate the draft by consensus of several samples (hermes.execution.k_sample_count). */
  validate?: boolean;
  /** The hermes.web.ideas_per_minute bucket, when not userId (a label the client may choose). */
  rateKey?: string;
  /** Images sent with the idea, base64; seen by draft 1 when a vision backend is configured (./threads/vision.ts). */
  images?: readonly string[] | undefined;
}

/** Read-outs of the learning module for transports. */
export interface InsightsPort {
  /** What Hermes has learned (patterns, and the user's preferences when a user is given), for /patterns. */
  patternsSummary?: (userId?: string) => Promise<string | undefined>;
  /** The `preferences` prompt text for a user, as of now (filled into draft and refine prompts when they run). */
  preferencesFor?: (userId: string) => Promise<string>;
}

/** Links between transport messages and threads (so a reply to any thread message continues it). */
export interface MessageLinksPort {
  record(chatId: string, messageId: number, threadId: number, kind: string): void;
  threadOf(chatId: string, messageId: number): { threadId: number; kind: string } | undefined;
}

export interface UserDataPort {
  export(userId: string, nowIso: string): import("../store/threads/user-data-repo.ts").UserExport;
  forget(userId: string, chatId: string | undefined): Record<string, number>;
}

export interface SubmitIdeaResult {
  thread: ThreadRecord;
  shortId: string;
  job: Job;
  analysis: QuickAnalysis;
  /** The backend and model the draft is expected to run on, and whether it looks reachable. */
  backend: { name: string; model: string; health: string; location: string } | undefined;
  /** Backends configured but turned off (/backends disable): the remedy when none is left to draft on. */
  disabledBackends?: string[];
  /** Backends turned on but failing their health checks (name and where Hermes looks for them). */
  unreachableBackends?: { name: string; location: string }[];
  /** The first front-loaded question, asked while draft 1 runs (none when nothing is worth asking). */
  question: QuestionView | undefined;
  /**
   * Set when there is no first question: why, in words for the user (the idea is clear enough, the
   * idea was cancelled meanwhile, the questions could not be prepared). Never a silent gap.
   */
  noQuestion?: string | undefined;
  /** Where the idea's images go (draft 1 sees them); undefined when none came or none will be read. */
  vision?: { backend: string; model: string } | undefined;
  /** What was assumed from the user's earlier conversations instead of asking (ThreadService fills it). */
  assumptions?: Assumption[];
}

/** The domain event "a draft is ready" (see draft-ready.ts): what transports show for a finished job. */
export interface DraftReady {
  threadId: number;
  jobId: number;
  /** 1 for the first draft; refinements and rewrites count on (the job's sequence in its thread). */
  draftNumber: number;
  text: string;
  backend: string | undefined;
  model: string | undefined;
  /** One line on what this draft changed from the ones before; none for a first draft. */
  whatChanged: string | undefined;
}

/** A queue event with the thread it belongs to: what transports turn into messages. */
export interface EngineEvent {
  event: QueueEvent;
  thread: ThreadRecord;
  shortId: string;
  /** Set when the event completed a job: the draft to show. */
  draft?: DraftReady | undefined;
  /**
   * Set when the chat is owed this message (a draft or a failure notice in a Telegram thread): the
   * outbox entry the transport marks delivered once the message is accepted (Engine.delivered).
   */
  outboxId?: number | undefined;
}

/** The outbox of messages owed to push transports (Telegram): written when a job ends, kept until delivered. */
export interface OutboxPort {
  owe(
    entry: { threadId: number; jobId: number; kind: "draft" | "failed"; error?: JobErrorInfo | undefined },
    nowIso: string,
  ): number | undefined;
  pending(limit?: number): {
    id: number;
    threadId: number;
    jobId: number;
    kind: "draft" | "failed";
    error: JobErrorInfo | undefined;
  }[];
  isPending(id: number): boolean;
  delivered(id: number, nowIso: string): void;
  attempted(id: number): void;
  pruneDelivered(nowMs: number): void;
}

export interface EngineDeps {
  threads: ThreadsRepo;
  /** The synchronous intake writes (thread, guest quota ledger) that share the job's transaction. */
  intake: IntakeRepo;
  /** Where intake reports a full database (and that it stores again). */
  storage?: StorageFault | undefined;
  queue: JobQueue;
  queueEvents: QueueEvents;
  backends: BackendManager;
  config: SystemConfig;
  prompts: PromptLibrary;
  clock: Clock;
  rateLimiter: RateLimiter;
  log: { error(obj: object, msg: string): void; warn(obj: object, msg: string): void };
  /** The question/answer flow; without it Hermes drafts without asking. */
  conversation?: ConversationPort | undefined;
  insights?: InsightsPort | undefined;
  /** Where owed Telegram messages are recorded; without it a message not sent live is lost. */
  outbox?: OutboxPort | undefined;
}

export const shortIdOf = (uuid: string): string => uuid.slice(0, 8);

/** requested_backend of a job that may only run on a local (free) backend: guests' jobs. */
export const LOCAL_ONLY = "@local";
