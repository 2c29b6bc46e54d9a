import type { BudgetSummary } from "../backends/manager/budget.ts";
import { HermesError } from "../errors.ts";
import type { QueueEvent } from "../queue/events.ts";
import type { DispatchContext, DispatchOutcome } from "../queue/scheduler/scheduler.ts";
import type { Job } from "../store/jobs/types.ts";
import type { ThreadRecord } from "../store/threads/repo.ts";
import { dispatchJob } from "./dispatch.ts";
import { draftReady } from "./draft-ready.ts";
import { owedEvents, recordOwed } from "./outbox.ts";
import {
  type EngineDeps,
  type EngineEvent,
  type SubmitIdeaInput,
  type SubmitIdeaResult,
  shortIdOf,
} from "./ports.ts";
import { submitIdea } from "./threads/submit.ts";

export { summarise } from "./dispatch.ts";
export type {
  DraftReady,
  EngineDeps,
  EngineEvent,
  IdeaSource,
  InsightsPort,
  MessageLinksPort,
  SubmitIdeaInput,
  SubmitIdeaResult,
  UserDataPort,
} from "./ports.ts";
export { LOCAL_ONLY, shortIdOf } from "./ports.ts";

/** A job's thread as read at its first event (`thread` once the read is in), last progress sent. */
interface Running {
  thread: ThreadRecord | undefined;
  read: Promise<ThreadRecord | undefined>;
  progressAt: number;
}

/** Streamed progress goes to listeners at most this often per job. */
export const PROGRESS_INTERVAL_MS = 250;

/**
 * The always-keep-moving flow, free of any transport: Telegram, HTTP and the terminal chat call
 * the same methods and receive the same events. The submit path is in threads/submit.ts and the
 * scheduler's dispatcher in dispatch.ts; this class is the public face, relays queue
 * events to transports, and answers their read-outs.
 */
export class Engine {
  private readonly d: EngineDeps;
  private readonly listeners = new Set<(e: EngineEvent) => void | Promise<void>>();
  private readonly relaying = new Set<Promise<void>>();
  /** Per running job: its thread (so streamed progress does no database work), last progress sent. */
  private readonly running = new Map<number, Running>();

  constructor(deps: EngineDeps) {
    this.d = deps;
    deps.queueEvents.subscribe((event) => {
      // Most streamed tokens stop here, decided in memory: no promise, no bookkeeping.
      if (event.type === "progress" && !this.progressDue(event.job.id)) return;
      const relayed = this.relay(event, this.owe(event));
      this.relaying.add(relayed);
      void relayed.finally(() => this.relaying.delete(relayed));
    });
  }

  /**
   * Resolves once every queue event emitted so far has been relayed: owed messages in the
   * outbox, every listener called. An asynchronous listener's own work (a Telegram
   * send) is not waited for here: its owner bounds it (HermesBot.stop), so a hung Telegram never
   * holds the shutdown. Shutdown waits for this after the last job ends and before the database closes.
   */
  async settled(): Promise<void> {
    while (this.relaying.size > 0) await Promise.all([...this.relaying]);
  }

  onEvent(listener: (e: EngineEvent) => void | Promise<void>): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Messages still owed to Telegram chats (see outbox.ts), oldest first, to send again. */
  owed(limit = 100): Promise<EngineEvent[]> {
    return owedEvents(this.d, limit);
  }

  /** Whether an outbox entry is still owed (not delivered yet). */
  isOwed(outboxId: number): boolean {
    return this.d.outbox?.isPending(outboxId) ?? false;
  }

  /** Telegram accepted the owed message: it is not sent again. */
  delivered(outboxId: number): void {
    this.d.outbox?.delivered(outboxId, new Date(this.d.clock.now()).toISOString());
  }

  /** Sending the owed message failed: it stays owed (counted, so one Telegram keeps refusing is given up). */
  deliveryFailed(outboxId: number): void {
    this.d.outbox?.attempted(outboxId);
  }

  /** Saves the idea, queues draft 1 at once and returns within milliseconds. */
  submitIdea(input: SubmitIdeaInput): Promise<SubmitIdeaResult> {
    return submitIdea(this.d, input);
  }

  /** The scheduler's dispatcher: renders the job's prompt and runs it through the backend manager. */
  readonly dispatch = (ctx: DispatchContext): Promise<DispatchOutcome> => dispatchJob(this.d, ctx);

  budgetSummary(): BudgetSummary {
    return this.d.backends.budgetSummary();
  }

  async patternsSummary(userId?: string): Promise<string | undefined> {
    return this.d.insights?.patternsSummary?.(userId);
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

  /** The draft a rewrite worked on (its parent), so the length it reports is measured. */
  private sourceOf(job: Job): Job | undefined {
    return job.job_subtype === "rewrite" && job.parent_job_id !== null
      ? this.d.queue.get(job.parent_job_id)
      : undefined;
  }

  /** Records what a Telegram chat is owed for this event (outbox.ts); a failure is logged, never thrown at the queue. */
  private owe(event: QueueEvent): number | undefined {
    // A thread known (from its running job) to be from elsewhere than Telegram is owed nothing: the
    // outbox's own check would say so too, at two statements per job end (API ideas, terminal chat).
    const known = this.running.get(event.job.id)?.thread;
    if (known && known.source !== "telegram") return undefined;
    try {
      return recordOwed(this.d, event);
    } catch (error) {
      this.d.log.error({ err: error, jobId: event.job.id }, "owed message not recorded");
      return undefined;
    }
  }

  private async relay(event: QueueEvent, outboxId: number | undefined): Promise<void> {
    try {
      const thread = await this.threadForEvent(event);
      // Owed (if so) before this: with no listener (a stopping bot) it is sent at the next start.
      if (!thread || this.listeners.size === 0) return;
      const enriched: EngineEvent = {
        event,
        thread,
        shortId: shortIdOf(thread.uuid),
        draft: event.type === "completed" ? draftReady(event.job, this.sourceOf(event.job)) : undefined,
        outboxId,
      };
      for (const listener of [...this.listeners]) {
        try {
          const pending = listener(enriched);
          if (pending) void pending.catch((error: unknown) => this.listenerFailed(error, event));
        } catch (error) {
          this.listenerFailed(error, event);
        }
      }
    } catch (error) {
      this.listenerFailed(error, event);
    }
  }

  private listenerFailed(error: unknown, event: QueueEvent): void {
    this.d.log.error({ err: error, jobId: event.job.id, event: event.type }, "event listener failed");
  }

  /**
   * Streamed tokens arrive one event each; listeners get at most one per PROGRESS_INTERVAL_MS per
   * job (each carries all the text so far, so a skipped one loses nothing), decided in memory.
   */
  private progressDue(jobId: number): boolean {
    const entry = this.running.get(jobId);
    if (!entry) return true;
    const now = this.d.clock.now();
    if (now - entry.progressAt < PROGRESS_INTERVAL_MS) return false;
    entry.progressAt = now;
    return true;
  }

  /**
   * The event's thread, read at the job's first event and reused until it ends (started, progress,
   * retrying): what listeners take from it meanwhile (ids, chat, source, title, callback URL) does
   * not change while a job waits and runs. The end reads the row again and drops the entry: a
   * completed draft is already counted on its thread, in the completion's own write (migration
   * 025's trigger), and the row read here shows it. With no listener nothing is read.
   */
  private threadForEvent(event: QueueEvent): Promise<ThreadRecord | undefined> {
    const jobId = event.job.id;
    const ended = event.type === "completed" || event.type === "failed" || event.type === "cancelled";
    if (ended) this.running.delete(jobId);
    const entry = this.running.get(jobId);
    if (this.listeners.size === 0) return Promise.resolve(entry?.thread);
    // A read still under way (the job was claimed as soon as it was queued) is shared, not repeated.
    if (entry) return entry.read;
    const read = this.d.threads.byId(event.job.thread_id);
    if (ended) return read;
    const progressAt = event.type === "progress" ? this.d.clock.now() : Number.NEGATIVE_INFINITY;
    const added: Running = { thread: undefined, read, progressAt };
    this.running.set(jobId, added);
    // A thread not found (or not read) is not kept: the job's next event reads it again.
    const forget = () => {
      if (this.running.get(jobId) === added) this.running.delete(jobId);
    };
    read.then((thread) => {
      if (thread) added.thread = thread;
      else forget();
    }, forget);
    return read;
  }
}
