import type { SqliteHandle } from "../database.ts";
import { UnreadableRowError } from "../json-column.ts";
import { type JobRowFields, promptVariablesColumn, toJob } from "./rows.ts";
import { prepareStatements } from "./statements.ts";
import type { CompletionFields, Job, JobStatus, NewJob, RetryFields } from "./types.ts";

export type { CompletionFields, Job, JobStatus, NewJob, PromptVariables, RetryFields } from "./types.ts";
export { FINAL_STATUSES } from "./types.ts";

/**
 * The jobs table is the queue. This repository holds its SQL and nothing else. It runs on the
 * synchronous better-sqlite3 handle: each transition is one statement or one transaction, and a
 * synchronous transaction cannot interleave with another in this process, so claim and settle are
 * atomic without locks. (Kysely's async API would cost ~10× per job on this hot path.)
 *
 * Every read returns Job (rows.ts parses the JSON columns); an unreadable row throws
 * UnreadableRowError, except when claimed: then that job is failed in place and reported to
 * onUnreadable listeners, so one corrupt row cannot wedge the queue.
 *
 * Priority: 1–10, higher runs first; FIFO (by id) within a priority.
 * States: pending (waiting on dependencies) → queued → running → completed | failed | cancelled,
 * with retrying (waiting for scheduled_date) → running.
 */

const iso = (ms: number): string => new Date(ms).toISOString();

export class JobsRepo {
  private readonly s: ReturnType<typeof prepareStatements>;
  private readonly unreadableListeners = new Set<(error: UnreadableRowError) => void>();
  /**
   * Runs its argument in one transaction (a savepoint when nested). Made once: better-sqlite3
   * builds a transaction function's wrappers each time `transaction()` is called, which was most
   * of the cost of the queue's own code per transition.
   */
  private readonly atomically: <T>(work: () => T) => T;

  constructor(sqlite: SqliteHandle) {
    this.s = prepareStatements(sqlite);
    const tx = sqlite.transaction((work: () => unknown) => work());
    this.atomically = <T>(work: () => T) => tx(work) as T;
  }

  /** Called with each claimed job that could not be read (it has been failed). */
  onUnreadable(listener: (error: UnreadableRowError) => void): () => void {
    this.unreadableListeners.add(listener);
    return () => this.unreadableListeners.delete(listener);
  }

  /** Inserts a job; it is 'queued' unless a dependency is unfinished ('pending'). Fails at once if a dependency already failed. */
  enqueue(job: NewJob, nowMs: number): Job {
    return this.atomically(() => this.insertOne(job, nowMs));
  }

  /**
   * Runs `admit` (checks and the rows the job belongs to, e.g. its thread) and inserts the job it
   * returns, in one transaction: when either throws, nothing of it is written.
   */
  enqueueAfter(admit: () => NewJob, nowMs: number): Job {
    return this.atomically(() => this.insertOne(admit(), nowMs));
  }

  /** Group commit: many jobs in one transaction (one WAL commit instead of one per job). */
  enqueueMany(jobs: NewJob[], nowMs: number): Job[] {
    return this.atomically(() => jobs.map((job) => this.insertOne(job, nowMs)));
  }

  private insertOne(job: NewJob, nowMs: number): Job {
    const deps = job.dependencies ?? [];
    {
      let status: JobStatus = "queued";
      let failure: string | undefined;
      for (const depId of deps) {
        const dep = this.s.depStatus.get(depId) as
          | { id: number; status: JobStatus; error_message: string | null }
          | undefined;
        if (!dep) throw new Error(`dependency job ${depId} does not exist`);
        if (dep.status === "failed" || dep.status === "cancelled") {
          failure = `dependency job ${depId} ${dep.status}${dep.error_message ? `: ${dep.error_message}` : ""}`;
        } else if (dep.status !== "completed") status = "pending";
      }
      const row = this.s.insert.get({
        thread_id: job.threadId,
        parent_job_id: job.parentJobId ?? null,
        job_sequence: job.jobSequence ?? 1,
        job_type: job.jobType,
        job_subtype: job.jobSubtype ?? null,
        status,
        priority: job.priority,
        prompt_template_used: job.promptTemplate ?? null,
        prompt_variables: promptVariablesColumn(job.promptVariables),
        requested_backend: job.requestedBackend ?? null,
        max_retries: job.maxRetries ?? 999999,
        dependencies: deps.length > 0 ? JSON.stringify(deps) : null,
        user_id: job.userId ?? null,
        required_clarity_level: job.requiredClarity ?? 0.5,
        achieved_clarity_level: job.achievedClarity ?? 0,
        now: iso(nowMs),
      }) as JobRowFields;
      if (failure === undefined) return toJob(row);
      this.s.failAny.run(failure, iso(nowMs), row.id);
      return this.read(row.id) as Job;
    }
  }

  /** Atomically takes the most urgent ready job and leases it to `owner`. */
  claimNext(nowMs: number, owner: string, leaseMs: number): Job | undefined {
    const now = iso(nowMs);
    for (;;) {
      const row = this.s.nextReady.get(now) as { id: number } | undefined;
      if (!row) return undefined;
      const job = this.claimId(row.id, nowMs, owner, leaseMs);
      if (job) return job;
    }
  }

  /** Leases one ready job; undefined when it was taken meanwhile, or could not be read (then failed). */
  private claimId(id: number, nowMs: number, owner: string, leaseMs: number): Job | undefined {
    const now = iso(nowMs);
    const claimed = this.s.claim.get(owner, iso(nowMs + leaseMs), now, id) as JobRowFields | undefined;
    if (!claimed) return undefined;
    try {
      return toJob(claimed);
    } catch (error) {
      if (!(error instanceof UnreadableRowError)) throw error;
      this.failUnreadable(claimed.id, error, nowMs);
      return undefined;
    }
  }

  /** A claimed row that cannot be read fails (with its dependents) instead of being claimed again. */
  private failUnreadable(id: number, error: UnreadableRowError, nowMs: number): void {
    this.atomically(() => {
      this.s.failAny.run(error.message, iso(nowMs), id);
      this.settleDependents(id, "failed", error.message, nowMs);
    });
    for (const listener of this.unreadableListeners) listener(error);
  }

  /**
   * Group commit: claims up to `max` ready jobs in one transaction. Which jobs are ready is asked
   * first, outside it: the scheduler pumps after every job ends and most of those pumps find
   * nothing, which then costs one read instead of BEGIN, SELECT, COMMIT; and when fewer than `max`
   * are ready, no second look is needed. Each claim checks its job is still ready; a job taken
   * meanwhile (another process) or unreadable (failed) leaves its slot to the next ready one.
   */
  claimMany(nowMs: number, owner: string, leaseMs: number, max: number): Job[] {
    if (max <= 0) return [];
    const ready = this.s.readyIds.all(iso(nowMs), max) as { id: number }[];
    if (ready.length === 0) return [];
    return this.atomically(() => {
      const out: Job[] = [];
      for (const { id } of ready) {
        const job = this.claimId(id, nowMs, owner, leaseMs);
        if (job) out.push(job);
      }
      while (out.length < ready.length) {
        const next = this.claimNext(nowMs, owner, leaseMs);
        if (!next) break;
        out.push(next);
      }
      return out;
    });
  }

  renewLease(id: number, attempt: number, untilMs: number): boolean {
    return this.s.renew.run(iso(untilMs), id, attempt).changes === 1;
  }

  /** Settles a running job; false when the lease is stale (a newer attempt owns the job). */
  complete(id: number, attempt: number, f: CompletionFields, nowMs: number): boolean {
    return this.atomically(() => this.completeOne(id, attempt, f, nowMs));
  }

  /** Group commit: settles many completions in one transaction; one boolean per item (false = stale lease). */
  completeMany(items: { id: number; attempt: number; fields: CompletionFields }[], nowMs: number): boolean[] {
    return this.atomically(() => items.map((i) => this.completeOne(i.id, i.attempt, i.fields, nowMs)));
  }

  private completeOne(id: number, attempt: number, f: CompletionFields, nowMs: number): boolean {
    {
      const ok =
        this.s.complete.run({
          id,
          attempt,
          full_result: f.fullResult,
          result_summary: f.resultSummary,
          backend_used: f.backendUsed,
          model_used: f.modelUsed,
          cost_cents: Math.round(f.costCents),
          execution: f.executionSeconds,
          processing: f.processingSeconds,
          queue: f.queueSeconds,
          confidence: f.backendConfidence ?? 0,
          model_confidence: f.modelConfidence ?? 0,
          fallback: f.fallbackUsed ? 1 : 0,
          now: iso(nowMs),
        }).changes === 1;
      if (ok) this.promoteDependents(id, nowMs);
      return ok;
    }
  }

  scheduleRetry(id: number, attempt: number, r: RetryFields): boolean {
    return (
      this.s.retry.run({
        id,
        attempt,
        at: r.at,
        reason: r.reason,
        message: r.errorMessage,
        strategy: r.strategy,
      }).changes === 1
    );
  }

  /** Fails a running job and, transitively, everything that depends on it. Returns the ids failed. */
  fail(id: number, attempt: number, message: string, nowMs: number): number[] {
    return this.atomically(() => {
      if (this.s.fail.run(message, iso(nowMs), id, attempt).changes !== 1) return [];
      return [id, ...this.settleDependents(id, "failed", message, nowMs)];
    });
  }

  /** Cancels a job in any unfinished state and its dependents. Returns the ids cancelled. */
  cancel(id: number, reason: string, nowMs: number): number[] {
    return this.atomically(() => {
      if (this.s.cancel.run(reason, iso(nowMs), id).changes !== 1) return [];
      return [id, ...this.settleDependents(id, "cancelled", reason, nowMs)];
    });
  }

  /** Puts a running job back in the queue (shutdown before it finished). */
  requeue(id: number, attempt: number, nowMs: number): boolean {
    return this.s.requeue.run(iso(nowMs), id, attempt).changes === 1;
  }

  /** Running jobs whose lease expired (their process died or hung) go back to the queue. Returns how many. */
  recoverExpired(nowMs: number): number {
    return this.atomically(() => {
      const rows = this.s.expired.all(iso(nowMs)) as { id: number; attempt: number }[];
      let n = 0;
      for (const r of rows) n += this.s.requeue.run(iso(nowMs), r.id, r.attempt).changes;
      return n;
    });
  }

  /**
   * Running jobs whose owner is known to be dead (a process on this host that no longer exists) go
   * back to the queue at once, without waiting for their lease to run out.
   */
  recoverOrphans(nowMs: number, isDead: (owner: string) => boolean): number {
    return this.atomically(() => {
      const rows = this.s.leases.all() as { id: number; attempt: number; lease_owner: string | null }[];
      let n = 0;
      for (const r of rows) {
        if (r.lease_owner !== null && isDead(r.lease_owner))
          n += this.s.requeue.run(iso(nowMs), r.id, r.attempt).changes;
      }
      return n;
    });
  }

  /** Retrying jobs wait no longer: a backend came back. */
  pullRetriesForward(nowMs: number): number {
    const now = iso(nowMs);
    return this.s.pullForward.run(now, now).changes;
  }

  get(id: number): Job | undefined {
    return this.read(id);
  }

  private read(id: number): Job | undefined {
    const row = this.s.get.get(id) as JobRowFields | undefined;
    return row === undefined ? undefined : toJob(row);
  }

  nextDueAt(): number | undefined {
    const row = this.s.nextDue.get() as { at: string | null };
    return row.at === null ? undefined : Date.parse(row.at);
  }

  /** How many waiting jobs the scheduler will take before this one. */
  aheadOf(jobId: number): number {
    return (this.s.ahead.get(jobId) as { n: number }).n;
  }

  countActive(): number {
    return (this.s.countActive.get() as { n: number }).n;
  }

  countByStatus(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const r of this.s.countByStatus.all() as { status: string; n: number }[]) out[r.status] = r.n;
    return out;
  }

  activeForThread(threadId: number): Job[] {
    return (this.s.activeForThread.all(threadId) as JobRowFields[]).map(toJob);
  }

  jobsOfThread(threadId: number): Job[] {
    return (this.s.ofThread.all(threadId) as JobRowFields[]).map(toJob);
  }

  running(): Job[] {
    return (this.s.running.all() as JobRowFields[]).map(toJob);
  }

  private promoteDependents(id: number, nowMs: number): void {
    for (const { id: depId } of this.s.dependents.all(id) as { id: number }[]) {
      const deps = this.read(depId)?.dependencies ?? [];
      const allDone = deps.every(
        (d) => (this.s.depStatus.get(d) as { status: string } | undefined)?.status === "completed",
      );
      if (allDone) this.s.promote.run(iso(nowMs), depId);
    }
  }

  private settleDependents(id: number, how: "failed" | "cancelled", why: string, nowMs: number): number[] {
    const out: number[] = [];
    for (const { id: depId } of this.s.dependents.all(id) as { id: number }[]) {
      const reason = `dependency job ${id} ${how}: ${why}`;
      const changed =
        how === "failed"
          ? this.s.failAny.run(reason, iso(nowMs), depId).changes
          : this.s.cancel.run(reason, iso(nowMs), depId).changes;
      if (changed === 1) out.push(depId, ...this.settleDependents(depId, how, why, nowMs));
    }
    return out;
  }
}
