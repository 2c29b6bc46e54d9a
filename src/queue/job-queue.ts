import type { Clock } from "../clock.ts";
import { HermesError } from "../errors.ts";
import type { Job, JobsRepo, NewJob } from "../store/jobs/repo.ts";
import type { QueueEvents } from "./events.ts";
import type { Scheduler } from "./scheduler/scheduler.ts";

export interface JobQueueOptions {
  repo: JobsRepo;
  scheduler: Scheduler;
  events: QueueEvents;
  clock: Clock;
  /** `hermes.web.max_queued_jobs`, read at every enqueue so a config change applies at once. */
  maxQueuedJobs: () => number;
  onQueueFull?: (active: number, limit: number) => void;
}

/** The queue as the engine sees it: enqueue (bounded), cancel, look. */
export class JobQueue {
  private readonly o: JobQueueOptions;
  /**
   * An upper bound on active jobs: the last exact count plus enqueues since (finishing only lowers
   * the true count). Counting is O(active jobs), so it runs only when the bound reaches the limit.
   */
  private activeUpperBound = Number.POSITIVE_INFINITY;

  constructor(options: JobQueueOptions) {
    this.o = options;
  }

  enqueue(job: NewJob): Job {
    this.refuseWhenFull();
    checkPriority(job);
    const saved = this.o.repo.enqueue(job, this.o.clock.now());
    this.activeUpperBound++;
    return this.accepted(saved);
  }

  /**
   * The capacity check, `prepare` (which writes what the job belongs to — a new thread — and
   * returns the job) and the job's insert, in one transaction: a full queue, or anything `prepare`
   * refuses, leaves nothing behind. `prepare` must be synchronous. The transaction is this turn's
   * group commit (GroupCommit), where the scheduler claims what its free slots take; the job is
   * announced once it is durable.
   */
  async enqueueWith(prepare: () => NewJob): Promise<Job> {
    let full: { active: number; limit: number } | undefined;
    let claimed: Job[] = [];
    let saved: Job;
    try {
      saved = await this.o.repo.commits.run(() =>
        this.o.repo.enqueueAfter(
          () => {
            full = this.fullness();
            if (full) throw queueFull(full.active, full.limit);
            const job = prepare();
            checkPriority(job);
            return job;
          },
          this.o.clock.now(),
          () => {
            // Counted as it is inserted: the next enqueue of the same group checks against it.
            this.activeUpperBound++;
            claimed = this.o.scheduler.claimInEnqueue();
          },
        ),
      );
    } catch (error) {
      this.o.scheduler.abandon(claimed);
      throw error;
    } finally {
      // Outside the transaction: the alert's own writes must not be rolled back with the intake.
      if (full) this.o.onQueueFull?.(full.active, full.limit);
    }
    return this.accepted(saved, claimed);
  }

  /** QUEUE_FULL when the active jobs reached `hermes.web.max_queued_jobs`. */
  private refuseWhenFull(): void {
    const full = this.fullness();
    if (!full) return;
    this.o.onQueueFull?.(full.active, full.limit);
    throw queueFull(full.active, full.limit);
  }

  private fullness(): { active: number; limit: number } | undefined {
    const limit = this.o.maxQueuedJobs();
    if (this.activeUpperBound >= limit) this.activeUpperBound = this.o.repo.countActive();
    const active = this.activeUpperBound;
    return active >= limit ? { active, limit } : undefined;
  }

  /**
   * After a job's insert committed (and was counted): announce it, and hand the scheduler what it
   * claimed in that commit (nothing: it is woken to claim).
   */
  private accepted(saved: Job, claimed: Job[] = []): Job {
    this.o.events.emit({ type: "queued", job: saved });
    if (saved.status === "failed") {
      this.o.events.emit({
        type: "failed",
        job: saved,
        error: { code: "CANCELLED", message: saved.error_message ?? "a dependency failed" },
      });
    }
    this.o.scheduler.adopt(claimed);
    return saved;
  }

  /** Many jobs in one transaction (bulk submissions): all or none are accepted. */
  enqueueMany(jobs: NewJob[]): Job[] {
    const limit = this.o.maxQueuedJobs();
    const active = this.o.repo.countActive();
    if (active + jobs.length > limit) {
      this.o.onQueueFull?.(active, limit);
      throw new HermesError(
        "QUEUE_FULL",
        `The queue cannot take ${jobs.length} more jobs (${active} of ${limit} in use).`,
        {
          retryAfter: 60,
        },
      );
    }
    for (const job of jobs) checkPriority(job);
    const saved = this.o.repo.enqueueMany(jobs, this.o.clock.now());
    this.activeUpperBound = active + saved.length;
    for (const job of saved) this.o.events.emit({ type: "queued", job });
    this.o.scheduler.wake();
    return saved;
  }

  cancel(jobId: number, reason = "cancelled by the user"): number[] {
    return this.o.scheduler.cancel(jobId, reason);
  }

  get(jobId: number): Job | undefined {
    return this.o.repo.get(jobId);
  }

  activeForThread(threadId: number): Job[] {
    return this.o.repo.activeForThread(threadId);
  }

  jobsOfThread(threadId: number): Job[] {
    return this.o.repo.jobsOfThread(threadId);
  }

  /** How many drafts (jobs) the thread has had, whatever their state. */
  countDrafts(threadId: number): number {
    return this.o.repo.jobsOfThread(threadId).length;
  }

  latestJobId(threadId: number): number | undefined {
    return this.o.repo.jobsOfThread(threadId).at(-1)?.id;
  }

  /** How many waiting jobs will be taken before this one. */
  aheadOf(jobId: number): number {
    return this.o.repo.aheadOf(jobId);
  }

  depth(): number {
    return this.o.repo.countActive();
  }

  countByStatus(): Record<string, number> {
    return this.o.repo.countByStatus();
  }

  /** A backend came back: retrying jobs try now instead of waiting out their backoff. */
  backendRecovered(): void {
    try {
      if (this.o.repo.pullRetriesForward(this.o.clock.now()) > 0) this.o.scheduler.wake();
    } catch {
      // Called from a health check's timer. The database refused the write (a full disk, reported
      // by the scheduler's own writes): the retries still run when their backoff ends.
      this.o.scheduler.wake();
    }
  }
}

function checkPriority(job: NewJob): void {
  if (!Number.isInteger(job.priority) || job.priority < 1 || job.priority > 10) {
    throw new HermesError("INVALID_INPUT", "Priority must be a whole number from 1 to 10.");
  }
}

function queueFull(active: number, limit: number): HermesError {
  return new HermesError("QUEUE_FULL", `The queue is full (${active} of ${limit} jobs waiting or running).`, {
    retryAfter: 60,
    userAction: "Try again in a few minutes, or cancel something with /cancel.",
  });
}
