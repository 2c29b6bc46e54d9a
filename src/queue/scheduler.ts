import type { Clock, TimerHandle } from "../clock.ts";
import { HermesError, toHermesError } from "../errors.ts";
import type { JobsRepo, QueueJob } from "../store/jobs-repo.ts";
import { CompletionBatcher } from "./completion-batch.ts";
import type { QueueEvents } from "./events.ts";
import { ownerProcessIsDead } from "./lease-owner.ts";
import { decideRetry, type RetrySettings } from "./retry-policy.ts";

export { ownerId, ownerProcessIsDead } from "./lease-owner.ts";

export interface DispatchContext {
  job: QueueJob;
  signal: AbortSignal;
  progress(tokens: number, textSoFar: string): void;
}

export interface DispatchOutcome {
  text: string;
  summary: string;
  backend: string;
  model: string;
  costCents: number;
  executionMs: number;
  confidence?: number;
  /** Agreement of consensus samples, 0–1 (jobs.model_confidence). */
  modelConfidence?: number | undefined;
  fallbackUsed?: boolean;
}

/** Runs one claimed job; throws HermesError (with retryable set right) on failure. */
export type Dispatcher = (ctx: DispatchContext) => Promise<DispatchOutcome>;

export interface SchedulerOptions {
  repo: JobsRepo;
  events: QueueEvents;
  clock: Clock;
  dispatch: Dispatcher;
  /** This process's identity; leases carry it (see ownerId()). */
  owner: string;
  /** Whether the owner of a lease is certainly dead; default: same host and the pid is gone. */
  ownerIsDead?: (owner: string) => boolean;
  /** How many jobs may run at once right now (sum of the backends' free slots). */
  capacity: () => number;
  retrySettings: () => RetrySettings;
  leaseMs?: number;
  random?: () => number;
  /**
   * Group commit: claim ready jobs and settle completions in batches, one transaction per batch
   * (per event-loop turn). A completion is announced only after its batch committed.
   */
  groupCommit?: boolean;
  log?: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
}

interface Running {
  job: QueueJob;
  controller: AbortController;
  renewTimer: TimerHandle | undefined;
  done: Promise<void>;
  /** Why we aborted it ourselves: a user's cancel, or shutdown (→ requeue). */
  abortReason?: "cancel" | "shutdown";
}

/**
 * Moves jobs from the queue to the dispatcher. Enqueueing wakes it at once; one timer waits for
 * the next scheduled retry; leases are renewed while a job runs so that a crashed process's jobs
 * can be told from live ones.
 */
export class Scheduler {
  private readonly o: Required<Omit<SchedulerOptions, "log">> & Pick<SchedulerOptions, "log">;
  private readonly running = new Map<number, Running>();
  private readonly batcher: CompletionBatcher;
  private wakeTimer: TimerHandle | undefined;
  private wakeAt = Number.POSITIVE_INFINITY;
  private pumpQueued = false;
  private started = false;
  private stopping = false;

  constructor(options: SchedulerOptions) {
    // A short lease (renewed every third of it) bounds how long a crashed process's job waits: ≤ 1.5 × lease.
    this.o = {
      leaseMs: 6_000,
      random: Math.random,
      ownerIsDead: ownerProcessIsDead,
      groupCommit: false,
      ...options,
    };
    this.batcher = new CompletionBatcher(options.repo, options.clock, options.log);
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    // Jobs of a crashed process on this host come back at once; others when their (short) lease runs out.
    this.o.repo.recoverOrphans(
      this.o.clock.now(),
      (owner) => owner !== this.o.owner && this.o.ownerIsDead(owner),
    );
    this.o.repo.recoverExpired(this.o.clock.now());
    this.wake();
  }

  /** Schedules a pump on the microtask queue (coalescing bursts of enqueues). */
  wake(): void {
    if (!this.started || this.stopping || this.pumpQueued) return;
    this.pumpQueued = true;
    queueMicrotask(() => {
      this.pumpQueued = false;
      this.pump();
    });
  }

  runningCount(): number {
    return this.running.size;
  }

  isRunning(jobId: number): boolean {
    return this.running.has(jobId);
  }

  /** Cancels a job (and its dependents) in any unfinished state; a running one is aborted at once. */
  cancel(jobId: number, reason: string): number[] {
    const ids = this.o.repo.cancel(jobId, reason, this.o.clock.now());
    for (const id of ids) {
      const r = this.running.get(id);
      if (r) {
        r.abortReason = "cancel";
        r.controller.abort(new HermesError("CANCELLED", reason));
      }
      const job = this.o.repo.get(id);
      if (job)
        this.o.events.emit({
          type: "cancelled",
          job,
          reason: id === jobId ? reason : (job.error_message ?? reason),
        });
    }
    return ids;
  }

  /**
   * Stops taking work; waits up to graceMs for running jobs, then aborts the rest and puts them
   * back in the queue so the next start runs them again.
   */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    if (this.wakeTimer) this.o.clock.clearTimeout(this.wakeTimer);
    const all = [...this.running.values()];
    if (all.length === 0) return;
    let graceTimer: TimerHandle | undefined;
    const grace = new Promise<void>((resolve) => {
      graceTimer = this.o.clock.setTimeout(resolve, graceMs);
    });
    await Promise.race([Promise.all(all.map((r) => r.done)), grace]);
    if (graceTimer) this.o.clock.clearTimeout(graceTimer);
    for (const r of this.running.values()) {
      r.abortReason = "shutdown";
      r.controller.abort(new HermesError("CANCELLED", "Hermes is shutting down"));
    }
    await Promise.all([...this.running.values()].map((r) => r.done));
  }

  private pump(): void {
    if (this.stopping) return;
    const now = this.o.clock.now();
    if (this.o.groupCommit) {
      const free = this.o.capacity() - this.running.size;
      for (const job of this.o.repo.claimMany(now, this.o.owner, this.o.leaseMs, free)) this.launch(job);
    } else {
      while (this.running.size < this.o.capacity()) {
        const job = this.o.repo.claimNext(now, this.o.owner, this.o.leaseMs);
        if (!job) break;
        this.launch(job);
      }
    }
    this.armTimer();
  }

  /** One timer for the earliest future scheduled job (retries), or a lease sweep. */
  private armTimer(): void {
    const now = this.o.clock.now();
    const due = this.o.repo.nextDueAt();
    // Also sweep for expired leases (a crashed process's jobs) twice per lease period.
    let at = now + this.o.leaseMs / 2;
    if (due !== undefined && this.running.size < this.o.capacity()) at = Math.min(at, Math.max(due, now + 1));
    if (this.wakeTimer && at >= this.wakeAt) return;
    if (this.wakeTimer) this.o.clock.clearTimeout(this.wakeTimer);
    this.wakeAt = at;
    this.wakeTimer = this.o.clock.setTimeout(() => {
      this.wakeTimer = undefined;
      this.wakeAt = Number.POSITIVE_INFINITY;
      if (this.stopping) return;
      this.o.repo.recoverExpired(this.o.clock.now());
      this.pump();
    }, at - now);
  }

  private launch(job: QueueJob): void {
    const controller = new AbortController();
    const entry: Running = { job, controller, renewTimer: undefined, done: Promise.resolve() };
    this.running.set(job.id, entry);
    this.o.events.emit({ type: "started", job });
    const renew = () => {
      entry.renewTimer = this.o.clock.setTimeout(() => {
        const now = this.o.clock.now();
        if (!this.o.repo.renewLease(job.id, job.attempt, now + this.o.leaseMs)) {
          // Someone else owns it now (or it was cancelled): stop working on a stale attempt.
          controller.abort(new HermesError("CANCELLED", "lease lost"));
          return;
        }
        renew();
      }, this.o.leaseMs / 3);
    };
    renew();
    entry.done = this.execute(entry).finally(() => {
      if (entry.renewTimer) this.o.clock.clearTimeout(entry.renewTimer);
      this.running.delete(job.id);
      this.wake();
    });
  }

  private async execute(entry: Running): Promise<void> {
    const { job, controller } = entry;
    const startedMs = this.o.clock.now();
    try {
      const outcome = await this.o.dispatch({
        job,
        signal: controller.signal,
        progress: (tokens, textSoFar) => this.o.events.emit({ type: "progress", job, tokens, textSoFar }),
      });
      if (controller.signal.aborted)
        throw controller.signal.reason ?? new HermesError("CANCELLED", "aborted");
      const now = this.o.clock.now();
      const createdMs = Date.parse(job.created_date ?? job.scheduled_date);
      const fields = {
        fullResult: outcome.text,
        resultSummary: outcome.summary,
        backendUsed: outcome.backend,
        modelUsed: outcome.model,
        costCents: outcome.costCents,
        executionSeconds: outcome.executionMs / 1000,
        processingSeconds: (now - createdMs) / 1000,
        queueSeconds: Math.max(0, startedMs - Date.parse(job.scheduled_date)) / 1000,
        backendConfidence: outcome.confidence ?? 0,
        modelConfidence: outcome.modelConfidence,
        fallbackUsed: outcome.fallbackUsed ?? false,
      };
      const ok = this.o.groupCommit
        ? await this.batcher.complete(job.id, job.attempt, fields)
        : this.o.repo.complete(job.id, job.attempt, fields, now);
      if (!ok) {
        this.o.log?.warn({ jobId: job.id, attempt: job.attempt }, "completion under a stale lease rejected");
        return;
      }
      this.o.events.emit({ type: "completed", job: this.o.repo.get(job.id) ?? job });
    } catch (thrown) {
      this.settleFailure(
        entry,
        toHermesError(controller.signal.aborted ? (controller.signal.reason ?? thrown) : thrown),
      );
    }
  }

  private settleFailure(entry: Running, error: HermesError): void {
    const { job } = entry;
    const now = this.o.clock.now();
    if (entry.abortReason === "cancel") return; // already cancelled and announced by cancel()
    if (entry.abortReason === "shutdown") {
      this.o.repo.requeue(job.id, job.attempt, now);
      return;
    }
    const info = { code: error.code, message: error.message, userAction: error.userAction };
    const decision = decideRetry(
      {
        retryCount: job.retry_count,
        maxRetries: job.max_retries,
        createdAtMs: Date.parse(job.created_date ?? job.scheduled_date),
      },
      error,
      now,
      this.o.retrySettings(),
      this.o.random,
    );
    if (decision.retry) {
      const at = now + decision.delayMs;
      const ok = this.o.repo.scheduleRetry(job.id, job.attempt, {
        at: new Date(at).toISOString(),
        reason: `${error.code}: ${error.message}`,
        errorMessage: error.message,
        strategy: decision.strategy,
      });
      if (ok) {
        this.o.events.emit({
          type: "retrying",
          job: this.o.repo.get(job.id) ?? job,
          retryCount: job.retry_count + 1,
          nextAttemptAt: at,
          error: info,
        });
      }
      return;
    }
    const message = error.retryable ? `${error.message} — ${decision.reason}` : error.message;
    const ids = this.o.repo.fail(job.id, job.attempt, message, now);
    for (const id of ids) {
      const failed = this.o.repo.get(id);
      if (!failed) continue;
      this.o.events.emit({
        type: "failed",
        job: failed,
        error:
          id === job.id
            ? { ...info, message }
            : { code: "CANCELLED", message: failed.error_message ?? message },
      });
    }
  }
}
