import type { TimerHandle } from "../../clock.ts";
import { HermesError } from "../../errors.ts";
import type { Job } from "../../store/jobs/repo.ts";
import { isStorageFull, writeBackoffMs } from "../../store/storage-fault.ts";
import { CompletionBatcher } from "../completion-batch.ts";
import { executeJob, keepLeaseAlive, messageOf } from "./execute.ts";
import { ownerProcessIsDead } from "./lease-owner.ts";
import type { ResolvedSchedulerOptions, Running, SchedulerOptions } from "./types.ts";

export { ownerId, ownerProcessIsDead } from "./lease-owner.ts";
export type { DispatchContext, Dispatcher, DispatchOutcome, SchedulerOptions } from "./types.ts";

/**
 * Moves jobs from the queue to the dispatcher. An idea's job is claimed in the transaction that
 * enqueues it (claimInEnqueue), any other enqueue wakes it at once; one timer waits for
 * the next scheduled retry; leases are renewed while a job runs so that a crashed process's jobs
 * can be told from live ones. This file is the dispatch loop (claim, launch, cancel, stop); a
 * launched job's lease, completion and retry/failure handling are in execute.ts.
 *
 * Nothing the database throws leaves a timer (that would end the process): a claim or sweep that
 * fails — a full disk above all — is reported, and the loop backs off and tries again.
 */
export class Scheduler {
  private readonly o: ResolvedSchedulerOptions;
  private readonly running = new Map<number, Running>();
  private readonly batcher: CompletionBatcher;
  private wakeTimer: TimerHandle | undefined;
  private wakeAt = Number.POSITIVE_INFINITY;
  private pumpQueued = false;
  private started = false;
  private stopping = false;
  /** Consecutive failed claims or sweeps: the backoff grows with them. */
  private writeFailures = 0;
  /** Jobs claimed in an enqueue's transaction, not launched yet (adopt), by id: they hold slots. */
  private readonly adopting = new Map<number, Job>();

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
    // A corrupt job row is failed by the repo when claimed; say so, with ids, never the value.
    options.repo.onUnreadable((error) =>
      this.o.log?.error(
        { err: error, jobId: error.rowId, column: error.column },
        "a queued job could not be read; it was failed",
      ),
    );
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    try {
      // Jobs of a crashed process on this host come back at once; others when their (short) lease runs out.
      this.o.repo.recoverOrphans(
        this.o.clock.now(),
        (owner) => owner !== this.o.owner && this.o.ownerIsDead(owner),
      );
      this.o.repo.recoverExpired(this.o.clock.now());
    } catch (error) {
      // The lease sweep of the timer brings them back once the database takes writes again.
      this.backOff(error, "lease sweep");
      return;
    }
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

  /**
   * Runs inside the transaction that enqueues a job (JobQueue.enqueueWith): claims what the free
   * slots take, so the claim rides that commit instead of one of its own. The claimed jobs hold
   * their slots from here: `adopt` launches them once the commit is done, `abandon` gives the slots
   * back when it is not (a transaction rolled back takes the claim with it). A claim that fails in
   * its own savepoint is left to the pump (which `adopt` then wakes); one that took the whole
   * transaction with it (a full disk) fails the enqueue, with its own error.
   */
  claimInEnqueue(): Job[] {
    if (!this.started || this.stopping || !this.o.groupCommit) return [];
    const free = this.freeSlots();
    if (free <= 0) return [];
    try {
      const claimed = this.o.repo.claimMany(this.o.clock.now(), this.o.owner, this.o.leaseMs, free);
      for (const job of claimed) this.adopting.set(job.id, job);
      return claimed;
    } catch (error) {
      if (isStorageFull(error) || !this.o.repo.inTransaction()) throw error;
      this.o.log?.warn({ err: messageOf(error) }, "claim with the enqueue failed; the pump claims it");
      return [];
    }
  }

  /**
   * After the enqueue committed: launches the jobs claimed in it, a microtask later — when the
   * pump that an enqueue used to wake would have — or, with none claimed, wakes the pump. Nothing
   * else was ready (the claim took all that the free slots could), so the pump has nothing to do.
   * A job cancelled in between is not launched (cancel() took it out of `adopting`).
   */
  adopt(claimed: Job[]): void {
    if (claimed.length === 0) {
      this.wake();
      return;
    }
    queueMicrotask(() => {
      for (const job of claimed) {
        if (!this.adopting.delete(job.id)) continue;
        if (this.stopping) this.release(job);
        else this.launch(job);
      }
    });
  }

  /** The enqueue that claimed these did not commit: they are ready again, and their slots free. */
  abandon(claimed: Job[]): void {
    if (claimed.length === 0) return;
    for (const job of claimed) this.adopting.delete(job.id);
    this.wake();
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
      // Claimed with its enqueue and not launched yet: it never will be, and its slot is free.
      if (this.adopting.delete(id)) this.wake();
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
    try {
      this.claimReady();
      this.armTimer();
    } catch (error) {
      this.backOff(error, "queue claim");
      return;
    }
    this.writeSucceeded("queue claim");
  }

  private claimReady(): void {
    const now = this.o.clock.now();
    if (this.o.groupCommit) {
      const free = this.freeSlots();
      for (const job of this.o.repo.claimMany(now, this.o.owner, this.o.leaseMs, free)) this.launch(job);
    } else {
      while (this.freeSlots() > 0) {
        const job = this.o.repo.claimNext(now, this.o.owner, this.o.leaseMs);
        if (!job) break;
        this.launch(job);
      }
    }
  }

  private freeSlots(): number {
    return this.o.capacity() - this.running.size - this.adopting.size;
  }

  /** A job claimed but not launched because Hermes is stopping goes back to the queue at once. */
  private release(job: Job): void {
    try {
      this.o.repo.requeue(job.id, job.attempt, this.o.clock.now());
    } catch (error) {
      // Its lease runs out, or the next start sees this process gone: it is queued again then.
      this.o.log?.warn(
        { jobId: job.id, err: messageOf(error) },
        "a claimed job could not be put back; it runs after the restart",
      );
    }
  }

  /** A claim or sweep failed: say so, and try again after a pause that grows to a minute. */
  private backOff(error: unknown, writer: string): void {
    this.writeFailures++;
    const full = this.o.storage?.report(error, writer) ?? false;
    const delay = writeBackoffMs(this.writeFailures);
    this.o.log?.error(
      { err: messageOf(error), writer, retryInMs: delay },
      full ? "database full: the queue waits and tries again" : "queue write failed; trying again",
    );
    this.setWakeTimer(this.o.clock.now() + delay, true);
  }

  private writeSucceeded(writer: string): void {
    if (this.writeFailures === 0) return;
    this.writeFailures = 0;
    this.o.storage?.stored(writer);
    this.o.storage?.stored("lease sweep");
  }

  /** One timer for the earliest future scheduled job (retries), or a lease sweep. */
  private armTimer(): void {
    const now = this.o.clock.now();
    // Also sweep for expired leases (a crashed process's jobs) twice per lease period.
    let at = now + this.o.leaseMs / 2;
    // At capacity a due retry could not start anyway: the job that frees a slot pumps again, so
    // the next retry's time is not read (one query per job while the queue is busy).
    if (this.freeSlots() > 0) {
      const due = this.o.repo.nextDueAt();
      if (due !== undefined) at = Math.min(at, Math.max(due, now + 1));
    }
    this.setWakeTimer(at, false);
  }

  /** Wakes at `at` (sweep, then pump); unless forced (a backoff), an earlier wake-up is kept. */
  private setWakeTimer(at: number, force: boolean): void {
    if (this.stopping) return;
    if (this.wakeTimer && at >= this.wakeAt && !force) return;
    if (this.wakeTimer) this.o.clock.clearTimeout(this.wakeTimer);
    this.wakeAt = at;
    this.wakeTimer = this.o.clock.setTimeout(() => {
      this.wakeTimer = undefined;
      this.wakeAt = Number.POSITIVE_INFINITY;
      if (this.stopping) return;
      try {
        this.o.repo.recoverExpired(this.o.clock.now());
      } catch (error) {
        this.backOff(error, "lease sweep");
        return;
      }
      this.pump();
    }, at - this.o.clock.now());
  }

  private launch(job: Job): void {
    const controller = new AbortController();
    const entry: Running = { job, controller, renewTimer: undefined, done: Promise.resolve() };
    this.running.set(job.id, entry);
    this.o.events.emit({ type: "started", job });
    keepLeaseAlive(this.o, entry);
    entry.done = executeJob(this.o, this.batcher, entry)
      .catch((error) =>
        // Only when a settling write was given up on (shutdown on a full disk): the job stays
        // 'running' in the database and is queued again at the next start.
        this.o.log?.error(
          { jobId: job.id, err: messageOf(error) },
          "a job's outcome could not be stored; it runs again after the restart",
        ),
      )
      .finally(() => {
        if (entry.renewTimer) this.o.clock.clearTimeout(entry.renewTimer);
        this.running.delete(job.id);
        this.wake();
      });
  }
}
