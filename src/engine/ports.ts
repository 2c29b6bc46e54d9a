import type { BackendManager } from "../backends/manager/manager.ts";
import type { Clock } from "../clock.ts";
import type { SystemConfig } from "../config/system-config.ts";
import type { QuickAnalysis } from "../learning/quick-analysis.ts";
import type { QueueEvent, QueueEvents } from "../queue/events.ts";
import type { JobQueue } from "../queue/job-queue.ts";
import type { Job } from "../store/jobs/types.ts";
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
}

export interface EngineDeps {
  threads: ThreadsRepo;
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
}

export const shortIdOf = (uuid: string): string => uuid.slice(0, 8);

/** requested_backend of a job that may only run on a local (free) backend: guests' jobs. */
export const LOCAL_ONLY = "@local";
