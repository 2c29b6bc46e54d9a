import { randomUUID } from "node:crypto";
import type { RunProgress } from "../backends/backend.ts";
import type { BudgetSummary } from "../backends/budget.ts";
import type { BackendManager, ConsensusInfo, ConsensusResult } from "../backends/manager.ts";
import type { Clock } from "../clock.ts";
import type { SystemConfig } from "../config/system-config.ts";
import { HermesError } from "../errors.ts";
import { type QuickAnalysis, quickAnalyze } from "../learning/quick-analysis.ts";
import type { QueueEvent, QueueEvents } from "../queue/events.ts";
import type { JobQueue } from "../queue/job-queue.ts";
import type { DispatchContext, DispatchOutcome } from "../queue/scheduler.ts";
import type { QueueJob } from "../store/jobs-repo.ts";
import type { ThreadRecord, ThreadsRepo } from "../store/threads-repo.ts";
import { resolvePromptVariables } from "./conversation-flow.ts";
import type { ConversationPort, QuestionView } from "./conversation-types.ts";
import type { PromptLibrary } from "./prompts.ts";
import type { RateLimiter } from "./rate-limiter.ts";

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
}

/** Read-outs of the learning module for transports. */
export interface InsightsPort {
  patternsSummary?: () => Promise<string | undefined>;
}

/** Links between transport messages and threads (so a reply to any thread message continues it). */
export interface MessageLinksPort {
  record(chatId: string, messageId: number, threadId: number, kind: string): void;
  threadOf(chatId: string, messageId: number): { threadId: number; kind: string } | undefined;
}

export interface UserDataPort {
  export(userId: string, nowIso: string): import("../store/user-data-repo.ts").UserExport;
  forget(userId: string, chatId: string | undefined): Record<string, number>;
}

export interface SubmitIdeaResult {
  thread: ThreadRecord;
  shortId: string;
  job: QueueJob;
  analysis: QuickAnalysis;
  /** The backend and model the draft is expected to run on, and whether it looks reachable. */
  backend: { name: string; model: string; health: string; location: string } | undefined;
  /** The first front-loaded question, asked while draft 1 runs (none when nothing is worth asking). */
  question: QuestionView | undefined;
}

/** A queue event with the thread it belongs to: what transports turn into messages. */
export interface EngineEvent {
  event: QueueEvent;
  thread: ThreadRecord;
  shortId: string;
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

/**
 * The always-keep-moving flow, free of any transport: Telegram, HTTP and the terminal chat call
 * the same methods and receive the same events.
 */
export class Engine {
  private readonly d: EngineDeps;
  private readonly listeners = new Set<(e: EngineEvent) => void | Promise<void>>();

  constructor(deps: EngineDeps) {
    this.d = deps;
    deps.queueEvents.subscribe((event) => {
      void this.relay(event);
    });
  }

  onEvent(listener: (e: EngineEvent) => void | Promise<void>): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Saves the idea, queues draft 1 at once and returns within milliseconds. */
  async submitIdea(input: SubmitIdeaInput): Promise<SubmitIdeaResult> {
    const text = input.text.trim();
    if (text === "")
      throw new HermesError("INVALID_INPUT", "The idea is empty.", {
        userAction: "Send a few words about what you want.",
      });
    const max = this.d.config.number("hermes.web.max_input_length");
    if (text.length > max) {
      throw new HermesError(
        "INVALID_INPUT",
        `The idea is ${text.length} characters long; the limit is ${max}.`,
        {
          details: "text",
          userAction: `Shorten it to ${max} characters or fewer (or split it into several ideas).`,
        },
      );
    }
    const wait = this.d.rateLimiter.take(input.userId);
    if (wait > 0) {
      throw new HermesError("RATE_LIMITED", "You are sending ideas faster than Hermes takes them.", {
        retryAfter: wait,
        userAction: `Wait ${wait} s and send it again.`,
      });
    }
    if (input.guest) await this.checkGuestQuota(input.userId);
    const analysis = quickAnalyze(text);
    const now = new Date(this.d.clock.now()).toISOString();
    const priority = input.priority ?? 5;
    const thread = await this.d.threads.create({
      uuid: randomUUID(),
      title: analysis.title,
      originalRequest: text,
      ideaType: analysis.ideaType,
      complexity: analysis.complexity,
      priority,
      initialClarity: analysis.clarity,
      userId: input.userId,
      chatId: input.chatId ?? null,
      source: input.source,
      callbackUrl: input.callbackUrl ?? null,
      now,
    });
    const job = this.d.queue.enqueue({
      threadId: thread.id,
      jobSequence: 1,
      jobType: analysis.ideaType,
      jobSubtype: "draft",
      priority,
      promptTemplate: "draft",
      promptVariables: {
        idea: text,
        idea_type: analysis.ideaType,
        ...(input.validate ? { validate: "true" } : {}),
      },
      userId: input.userId,
      achievedClarity: analysis.clarity,
      requestedBackend: input.guest ? LOCAL_ONLY : null,
    });
    // Questions start at the same moment as the draft; a failure here never costs the draft.
    let question: QuestionView | undefined;
    if (this.d.conversation) {
      try {
        question = await this.d.conversation.start(thread.id, input.userId);
      } catch (error) {
        this.d.log.warn(
          { err: String(error), threadId: thread.id },
          "could not plan questions; drafting without",
        );
      }
    }
    return {
      thread,
      shortId: shortIdOf(thread.uuid),
      job,
      analysis,
      backend: this.d.backends.preview(),
      question,
    };
  }

  /** The scheduler's dispatcher: renders the job's prompt and runs it through the backend manager. */
  readonly dispatch = async (ctx: DispatchContext): Promise<DispatchOutcome> => {
    const { job } = ctx;
    const vars = resolvePromptVariables(job, parseVars(job.prompt_variables), (id) => this.d.queue.get(id));
    const template = job.prompt_template_used ?? "draft";
    const messages = [
      { role: "system" as const, content: this.d.prompts.template("system") },
      { role: "user" as const, content: this.d.prompts.render(template, vars) },
    ];
    const started = this.d.clock.now();
    const request = {
      jobId: job.id,
      jobType: job.job_type,
      threadId: job.thread_id,
      messages,
      preferBackend:
        job.requested_backend && job.requested_backend !== LOCAL_ONLY ? job.requested_backend : undefined,
      localOnly: job.requested_backend === LOCAL_ONLY,
    };
    const progress = (p: RunProgress) => ctx.progress(p.tokens, p.textSoFar);
    // A job that asked for validation runs k samples across backends and is flagged when they disagree.
    const result =
      vars.validate === "true"
        ? await this.d.backends.executeWithConsensus(request, ctx.signal, progress)
        : await this.d.backends.execute(request, ctx.signal, progress);
    let text = result.text.trim();
    if (text === "")
      throw new HermesError("BACKEND_ERROR", `${result.backend} returned an empty answer`, {
        retryable: true,
      });
    const consensus: ConsensusInfo | undefined =
      "consensus" in result ? (result as ConsensusResult).consensus : undefined;
    if (consensus?.flagged) {
      text = `⚠ Not validated: ${consensus.succeeded} samples agreed ${Math.round(consensus.agreement * 100)}% (needed ${Math.round(consensus.threshold * 100)}%). Check this answer before relying on it.\n\n${text}`;
    }
    return {
      text,
      summary: summarise(text),
      backend: result.backend,
      model: result.model,
      costCents: result.costCents ?? 0,
      executionMs: result.latencyMs || this.d.clock.now() - started,
      fallbackUsed: result.fallbackUsed,
      confidence: result.confidence,
      modelConfidence: consensus?.agreement,
    };
  };

  budgetSummary(): BudgetSummary {
    return this.d.backends.budgetSummary();
  }

  async patternsSummary(): Promise<string | undefined> {
    return this.d.insights?.patternsSummary?.();
  }

  private async checkGuestQuota(userId: string): Promise<void> {
    const quota = this.d.config.number("hermes.guests.daily_quota");
    const dayStart = new Date(this.d.clock.now());
    dayStart.setUTCHours(0, 0, 0, 0);
    const used = await this.d.threads.countForUserSince(userId, dayStart.toISOString());
    if (used >= quota) {
      throw new HermesError("RATE_LIMITED", `Guests may send ${quota} idea(s) a day, and today's are used.`, {
        retryAfter: Math.ceil((dayStart.getTime() + 86_400_000 - this.d.clock.now()) / 1000),
        userAction: "Try again tomorrow.",
      });
    }
  }

  /** Turns a backend on or off at runtime (persisted); NOT_FOUND for an unknown name. */
  setBackendEnabled(name: string, enabled: boolean) {
    if (!this.d.backends.status().some((b) => b.name === name)) {
      throw new HermesError("NOT_FOUND", `There is no backend called ${name}.`);
    }
    return this.d.backends.setEnabled(name, enabled);
  }

  backendStatus() {
    return this.d.backends.status();
  }

  queueCounts(): Record<string, number> {
    return this.d.queue.countByStatus();
  }

  async threadByRef(ref: string, userId?: string): Promise<ThreadRecord | undefined> {
    return this.d.threads.byRef(ref, userId);
  }

  async recentThreads(userId: string, limit = 10): Promise<ThreadRecord[]> {
    return this.d.threads.recentForUser(userId, limit);
  }

  private async relay(event: QueueEvent): Promise<void> {
    try {
      let thread = await this.d.threads.byId(event.job.thread_id);
      if (!thread) return;
      if (event.type === "completed") {
        const now = new Date(this.d.clock.now()).toISOString();
        await this.d.threads.recordDraft(thread.id, event.job.result_summary ?? "", now);
        thread = (await this.d.threads.byId(thread.id)) ?? thread;
      }
      if (this.listeners.size === 0) return;
      const enriched: EngineEvent = { event, thread, shortId: shortIdOf(thread.uuid) };
      await Promise.all([...this.listeners].map(async (l) => l(enriched)));
    } catch (error) {
      this.d.log.error({ err: error, jobId: event.job.id, event: event.type }, "event listener failed");
    }
  }
}

function parseVars(raw: string | null): Record<string, string> {
  if (!raw) return {};
  try {
    const parsed = JSON.parse(raw) as Record<string, unknown>;
    return Object.fromEntries(
      Object.entries(parsed).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]),
    );
  } catch {
    return {};
  }
}

/** The first paragraph, cut at a word boundary: what lists and notifications show. */
export function summarise(text: string, max = 280): string {
  const para =
    text
      .split(/\n\s*\n/)
      .find((p) => p.trim() !== "")
      ?.trim() ?? text.trim();
  const flat = para.replace(/\s+/g, " ").replace(/^#+\s*/, "");
  return flat.length <= max ? flat : `${flat.slice(0, max - 1).replace(/\s+\S*$/, "")}…`;
}
