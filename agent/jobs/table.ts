import type { AgentClock } from "../agent-clock.ts";
import { isFinalStatus, type JobError, type JobResult, type JobStatus } from "../protocol.ts";
import type { Job, JobManagerOptions } from "./types.ts";

/**
 * The jobs held in memory: running ones (each holds a slot) and finished ones, bounded by count
 * (`maxResults`) and age (`resultTtlMs`, or `fetchedGraceMs` after a status call saw it finished).
 */
export class JobTable {
  /** Every job held, running or finished. */
  readonly #jobs = new Map<string, Job>();
  /** Running jobs (they hold a slot). */
  readonly #active = new Set<Job>();
  /** Finished jobs, oldest first (insertion = finish order), for the size bound. */
  readonly #finished = new Map<string, Job>();
  readonly #o: JobManagerOptions;
  readonly #clock: AgentClock;
  readonly #graceMs: number;

  constructor(options: JobManagerOptions, clock: AgentClock, graceMs: number) {
    this.#o = options;
    this.#clock = clock;
    this.#graceMs = graceMs;
  }

  get(id: string): Job | undefined {
    return this.#jobs.get(id);
  }

  /** Jobs held in memory, running and finished. */
  size(): number {
    return this.#jobs.size;
  }

  /** The running jobs (a copy: aborting one while iterating is safe). */
  running(): Job[] {
    return [...this.#active];
  }

  runningCount(): number {
    return this.#active.size;
  }

  /** Holds a new running job (it takes a slot until it finishes). */
  add(job: Job): void {
    this.#jobs.set(job.id, job);
    this.#active.add(job);
  }

  /** Stops a running job; undefined when it had already finished. Returns what was cleaned up. */
  abort(job: Job, why: "cancel" | "timeout" | "shutdown"): string[] | undefined {
    if (isFinalStatus(job.status)) return undefined;
    const seconds = Math.round(job.timeoutMs / 1000);
    if (why === "timeout") {
      this.finish(job, "timeout", {
        error: { code: "TIMEOUT", message: `the job did not finish within ${seconds} s` },
      });
    } else if (why === "shutdown") {
      this.finish(job, "cancelled", { error: { code: "SHUTDOWN", message: "Talos is shutting down" } });
    } else {
      this.finish(job, "cancelled", { error: { code: "CANCELLED", message: "cancelled on request" } });
    }
    job.controller.abort(new DOMException(why, "AbortError"));
    return [
      job.firstTokenAt === undefined ? "aborted the Ollama request" : "aborted the Ollama stream",
      "released the job slot",
    ];
  }

  finish(job: Job, status: JobStatus, fields: { error?: JobError; result?: JobResult }): void {
    if (isFinalStatus(job.status)) return;
    const now = this.#clock.now();
    job.status = status;
    job.finishedAt = now;
    job.error = fields.error;
    job.result = fields.result;
    if (job.timer) this.#clock.clearTimeout(job.timer);
    job.timer = undefined;
    this.#active.delete(job);
    this.#finished.set(job.id, job);
    this.sweep();
    try {
      this.#o.onFinished?.({
        job_id: job.id,
        status,
        model: job.model,
        created_at: new Date(job.createdAt).toISOString(),
        finished_at: new Date(now).toISOString(),
        tokens: job.tokens,
        error: job.error,
        result: job.result,
      });
    } catch {
      // the result log is best effort
    }
  }

  forget(job: Job): void {
    this.#jobs.delete(job.id);
    this.#finished.delete(job.id);
    this.#active.delete(job);
  }

  /** Drops expired finished jobs and the oldest ones beyond `maxResults`. */
  sweep(): void {
    const now = this.#clock.now();
    for (const job of this.#finished.values()) {
      const finishedAt = job.finishedAt ?? now;
      const expired =
        now - finishedAt >= this.#o.resultTtlMs ||
        (job.fetchedAt !== undefined && now - job.fetchedAt >= this.#graceMs);
      if (expired) this.forget(job);
    }
    while (this.#finished.size > this.#o.maxResults) {
      const oldest = this.#finished.values().next().value;
      if (!oldest) break;
      this.forget(oldest);
    }
  }
}
