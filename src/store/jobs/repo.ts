import type BetterSqlite3 from "better-sqlite3";
import type { SqliteHandle } from "../database.ts";
import { GroupCommit } from "../group-commit.ts";
import { UnreadableRowError } from "../json-column.ts";
import { JobCounts } from "./counts.ts";
import { type JobRowFields, toJob } from "./rows.ts";
import { prepareInsertRows, prepareStatements } from "./statements.ts";
import type { CompletionFields, Job, JobStatus, NewJob, RetryFields } from "./types.ts";
import { completionRow, insertedJob, insertRow, iso } from "./values.ts";

export type { CompletionFields, Job, JobStatus, NewJob, PromptVariables, RetryFields } from "./types.ts";
export { FINAL_STATUSES } from "./types.ts";
export { completedJob } from "./values.ts";

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

/** Jobs per multi-row INSERT in enqueueMany (17 values each: well under SQLite's 32,766). */
const INSERT_CHUNK = 64;

export class JobsRepo {
  private readonly sqlite: SqliteHandle;
  private readonly s: ReturnType<typeof prepareStatements>;
  private readonly counts: JobCounts;
  private readonly unreadableListeners = new Set<(error: UnreadableRowError) => void>();
  private readonly insertRowsStatements = new Map<number, BetterSqlite3.Statement>();
  private rider: { flush(): void } | undefined;

  /**
   * Runs `fn` in a transaction (a savepoint when one is open). One wrapper for every call:
   * better-sqlite3's transaction() builds four wrapper functions each time it is called.
   */
  private readonly atomic: <T>(fn: () => T) => T;
  /** The connection's group commit: writes that join the turn's one transaction (GroupCommit). */
  readonly commits: GroupCommit;

  constructor(sqlite: SqliteHandle) {
    this.sqlite = sqlite;
    this.commits = GroupCommit.of(sqlite);
    this.s = prepareStatements(sqlite);
    this.counts = new JobCounts(sqlite);
    const run = sqlite.transaction((fn: () => unknown) => fn());
    this.atomic = <T>(fn: () => T) => run(fn) as T;
  }

  /**
   * Write-behind records (backend statistics: a WriteBatch) written inside each completion's
   * transaction instead of a commit of their own: the backend call's record is queued just before
   * its job completes. They must not make the completion fail: the rider reports its own errors.
   */
  rideAlong(rider: { flush(): void }): void {
    this.rider = rider;
  }

  /** Whether a transaction is open on the connection (after an error: whether it survived). */
  inTransaction(): boolean {
    return this.sqlite.inTransaction;
  }

  /** Called with each claimed job that could not be read (it has been failed). */
  onUnreadable(listener: (error: UnreadableRowError) => void): () => void {
    this.unreadableListeners.add(listener);
    return () => this.unreadableListeners.delete(listener);
  }

  /** Inserts a job; it is 'queued' unless a dependency is unfinished ('pending'). Fails at once if a dependency already failed. */
  enqueue(job: NewJob, nowMs: number): Job {
    // Without dependencies it is one statement, atomic by itself: no BEGIN/COMMIT around it.
    if ((job.dependencies?.length ?? 0) === 0) return this.insertOne(job, nowMs);
    return this.atomic(() => this.insertOne(job, nowMs));
  }

  /**
   * Runs `admit` (checks and the rows the job belongs to, e.g. its thread) and inserts the job it
   * returns, in one transaction: when either throws, nothing of it is written. `alongside` runs
   * after the insert, in the same transaction (the scheduler's claim: one commit instead of two).
   */
  enqueueAfter(admit: () => NewJob, nowMs: number, alongside?: () => void): Job {
    return this.atomic(() => {
      const job = this.insertOne(admit(), nowMs);
      alongside?.();
      return job;
    });
  }

  /**
   * Group commit: many jobs in one transaction (one WAL commit instead of one per job). Jobs
   * without dependencies (a burst of new work) go in multi-row INSERTs of up to INSERT_CHUNK jobs
   * (7 µs of CPU a job against 12 one by one); a batch with dependencies is inserted job by job,
   * each checked against its dependencies.
   */
  enqueueMany(jobs: NewJob[], nowMs: number): Job[] {
    if (jobs.length === 0) return [];
    if (jobs.some((job) => (job.dependencies?.length ?? 0) > 0))
      return this.atomic(() => jobs.map((job) => this.insertOne(job, nowMs)));
    const now = iso(nowMs);
    const ids = this.atomic(() => {
      const out: number[] = [];
      for (let i = 0; i < jobs.length; i += INSERT_CHUNK) {
        const chunk = jobs.slice(i, i + INSERT_CHUNK);
        const values = chunk.flatMap((job) => insertRow(job, "queued", now));
        out.push(...(this.insertRows(chunk.length).all(values) as number[]));
      }
      return out;
    });
    ids.sort((a, b) => a - b);
    return jobs.map((job, n) => insertedJob(ids[n] as number, job, "queued", now));
  }

  /** The multi-row insert for n jobs, prepared once per n (n ≤ INSERT_CHUNK). */
  private insertRows(n: number): BetterSqlite3.Statement {
    let statement = this.insertRowsStatements.get(n);
    if (!statement) {
      statement = prepareInsertRows(this.sqlite, n);
      this.insertRowsStatements.set(n, statement);
    }
    return statement;
  }

  private insertOne(job: NewJob, nowMs: number): Job {
    let status: JobStatus = "queued";
    let failure: string | undefined;
    for (const depId of job.dependencies ?? []) {
      const dep = this.s.depStatus.get(depId) as
        | { id: number; status: JobStatus; error_message: string | null }
        | undefined;
      if (!dep) throw new Error(`dependency job ${depId} does not exist`);
      if (dep.status === "failed" || dep.status === "cancelled") {
        failure = `dependency job ${depId} ${dep.status}${dep.error_message ? `: ${dep.error_message}` : ""}`;
      } else if (dep.status !== "completed") status = "pending";
    }
    const now = iso(nowMs);
    const id = Number(this.s.insert.run(insertRow(job, status, now)).lastInsertRowid);
    if (failure === undefined) return insertedJob(id, job, status, now);
    this.s.failAny.run(failure, now, id);
    return this.read(id) as Job;
  }

  /**
   * Atomically takes the most urgent ready job and leases it to `owner`: one statement, so one
   * commit and no BEGIN/COMMIT around it.
   */
  claimNext(nowMs: number, owner: string, leaseMs: number): Job | undefined {
    const values = { owner, until: iso(nowMs + leaseMs), now: iso(nowMs) };
    for (;;) {
      const claimed = this.s.claimNext.get(values) as JobRowFields | undefined;
      if (claimed === undefined) return undefined;
      // An unreadable row was failed: the next ready job is taken instead.
      const job = this.readClaimed(claimed, nowMs);
      if (job) return job;
    }
  }

  /** A claimed row as a Job; undefined when it could not be read (then it has been failed). */
  private readClaimed(claimed: JobRowFields, nowMs: number): Job | undefined {
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
    this.atomic(() => {
      this.s.failAny.run(error.message, iso(nowMs), id);
      this.settleDependents(id, "failed", error.message, nowMs);
    });
    for (const listener of this.unreadableListeners) listener(error);
  }

  /**
   * Group commit: claims up to `max` ready jobs in one transaction. Whether anything is ready is
   * asked first, outside it: the scheduler pumps after every job ends, and most of those pumps find
   * nothing, which then costs one read instead of BEGIN, SELECT, COMMIT. The claim is then one
   * UPDATE of the next `max` ready jobs (8 µs of CPU a job against 13 one by one), which checks
   * they are still ready; the jobs come back in the order the scheduler takes them.
   */
  claimMany(nowMs: number, owner: string, leaseMs: number, max: number): Job[] {
    if (max <= 0) return [];
    const now = iso(nowMs);
    if (!this.s.nextReady.get(now)) return [];
    return this.atomic(() => {
      const rows = this.s.claimMany.all({
        owner,
        until: iso(nowMs + leaseMs),
        now,
        limit: Math.trunc(max),
      }) as JobRowFields[];
      rows.sort((a, b) => b.priority - a.priority || a.id - b.id);
      const out: Job[] = [];
      for (const row of rows) {
        const job = this.readClaimed(row, nowMs);
        if (job) out.push(job);
      }
      // An unreadable row was failed: its slot goes to the next ready job (rare, so one by one).
      while (out.length < rows.length) {
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
    return this.atomic(() => {
      this.rider?.flush();
      const ok = this.s.complete.run(completionRow(id, attempt, f, iso(nowMs))).changes === 1;
      if (ok) this.promoteReady(this.s.dependents.all(id) as { id: number }[], nowMs);
      return ok;
    });
  }

  /**
   * Group commit: settles many completions in one transaction; one boolean per item (false =
   * stale lease). Each is its own UPDATE (one UPDATE … FROM json_each for the batch measured
   * slower: 13 µs of CPU a job against 8); their dependents are looked up once for the batch.
   */
  completeMany(items: { id: number; attempt: number; fields: CompletionFields }[], nowMs: number): boolean[] {
    if (items.length === 0) return [];
    const now = iso(nowMs);
    return this.atomic(() => {
      this.rider?.flush();
      const results = items.map(
        (i) => this.s.complete.run(completionRow(i.id, i.attempt, i.fields, now)).changes === 1,
      );
      const done = items.filter((_, n) => results[n]).map((i) => i.id);
      if (done.length > 0)
        this.promoteReady(this.s.dependentsOfMany.all(JSON.stringify(done)) as { id: number }[], nowMs);
      return results;
    });
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
    return this.atomic(() => {
      if (this.s.fail.run(message, iso(nowMs), id, attempt).changes !== 1) return [];
      return [id, ...this.settleDependents(id, "failed", message, nowMs)];
    });
  }

  /** Cancels a job in any unfinished state and its dependents. Returns the ids cancelled. */
  cancel(id: number, reason: string, nowMs: number): number[] {
    return this.atomic(() => {
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
    return this.atomic(() => {
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
    return this.atomic(() => {
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

  /** Jobs pending, queued, retrying or running (see counts.ts). */
  countActive(): number {
    return this.counts.countActive();
  }

  countByStatus(): Record<string, number> {
    return this.counts.byStatus();
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

  /** Dependents whose dependencies have all completed are queued. */
  private promoteReady(dependents: { id: number }[], nowMs: number): void {
    for (const { id: depId } of dependents) {
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
