/**
 * The job table, in memory: which jobs run, what they produced, and for how long results are kept.
 *
 * - At most `maxConcurrent` jobs run; there is no queue — beyond the limit `submit` answers "busy"
 *   and Hermes (which owns the durable queue) tries again after `retryAfter`.
 * - Every job has its own AbortController: cancel, timeout and shutdown abort the Ollama stream.
 * - Execute is idempotent: the same job_id while it runs or after it completed is the same job, no
 *   second run. A job that failed, timed out or was cancelled is replaced by a fresh run (that is
 *   Hermes retrying it).
 * - Bounded: at most `maxResults` finished jobs are kept; each expires `resultTtlMs` after it
 *   finished, or `fetchedGraceMs` after a status call first saw it finished.
 *
 * Time comes from an injected clock, so timeouts and expiry are tested without sleeping.
 *
 * This is the public face; the table is table.ts, the Ollama run runner.ts, ETAs
 * estimates.ts, shapes types.ts, the result log ../result-log.ts.
 */
import { type AgentClock, systemClock } from "../agent-clock.ts";
import {
  type CancelResponse,
  type ExecuteRequest,
  type ExecuteResponse,
  isFinalStatus,
  type StatusResponse,
} from "../protocol.ts";
import { JobEstimates } from "./estimates.ts";
import { runJob } from "./runner.ts";
import { JobTable } from "./table.ts";
import {
  fingerprint,
  type Job,
  type JobManagerOptions,
  messagesOf,
  type SubmitOutcome,
  splitOptions,
} from "./types.ts";

export { type AgentClock, systemClock, type TimerHandle } from "../agent-clock.ts";
export { createResultLog } from "../result-log.ts";
export type { FinishedJob, JobManagerOptions, SubmitOutcome } from "./types.ts";
export { messagesOf } from "./types.ts";

const DEFAULT_FETCHED_GRACE_MS = 60_000;
/** Retry-After when no running job has an estimate. */
const DEFAULT_RETRY_AFTER_S = 5;
const MAX_RETRY_AFTER_S = 60;

export class JobManager {
  readonly maxConcurrent: number;
  readonly #o: JobManagerOptions;
  readonly #clock: AgentClock;
  readonly #table: JobTable;
  readonly #estimates = new JobEstimates();
  #closing = false;

  constructor(options: JobManagerOptions) {
    this.#o = options;
    this.maxConcurrent = Math.max(1, options.maxConcurrent);
    this.#clock = options.clock ?? systemClock;
    this.#table = new JobTable(options, this.#clock, options.fetchedGraceMs ?? DEFAULT_FETCHED_GRACE_MS);
  }

  /**
   * The answer to an execute that needs no new work: the same job again, or a conflicting id.
   * Undefined when the request would start a job (after the caller's resource checks, `submit`).
   */
  existing(req: ExecuteRequest): SubmitOutcome | undefined {
    this.#table.sweep();
    const job = this.#table.get(req.job_id);
    if (!job || this.#replaceable(job)) return undefined;
    if (job.fingerprint !== fingerprint(req)) {
      return {
        kind: "conflict",
        message: `job ${job.id} already exists with a different model, conversation or options`,
      };
    }
    return { kind: "existing", response: this.#executeResponse(job) };
  }

  submit(req: ExecuteRequest): SubmitOutcome {
    const known = this.existing(req);
    if (known) return known;
    if (this.#closing) {
      return { kind: "closing", retryAfter: DEFAULT_RETRY_AFTER_S, message: "Talos is shutting down" };
    }
    if (this.#table.runningCount() >= this.maxConcurrent) {
      return {
        kind: "busy",
        retryAfter: this.retryAfterSeconds(),
        message: `all ${this.maxConcurrent} job slot(s) are busy`,
      };
    }
    const previous = this.#table.get(req.job_id);
    if (previous) this.#table.forget(previous);

    const job = this.#newJob(req);
    this.#table.add(job);
    job.timer = this.#clock.setTimeout(() => this.#table.abort(job, "timeout"), job.timeoutMs);
    job.done = runJob(
      { ollama: this.#o.ollama, clock: this.#clock, table: this.#table, estimates: this.#estimates },
      job,
    );
    return { kind: "accepted", response: this.#executeResponse(job) };
  }

  /** The job's status; a finished job counts as fetched from here on (it expires after the grace). */
  status(jobId: string, textFrom?: number): StatusResponse | undefined {
    this.#table.sweep();
    const job = this.#table.get(jobId);
    if (!job) return undefined;
    const now = this.#clock.now();
    if (isFinalStatus(job.status)) job.fetchedAt ??= now;
    const response: StatusResponse = {
      job_id: job.id,
      status: job.status,
      model: job.model,
      progress: {
        tokens: job.tokens,
        elapsed_ms: Math.max(0, (job.finishedAt ?? now) - job.startedAt),
        chars: job.text.length,
        ...(textFrom === undefined ? {} : { text: job.text.slice(textFrom) }),
      },
      eta_seconds: this.#estimates.eta(job, now),
    };
    if (job.error) response.error = job.error;
    if (job.result) response.result = job.result;
    return response;
  }

  cancel(jobId: string): CancelResponse | undefined {
    this.#table.sweep();
    const job = this.#table.get(jobId);
    if (!job) return undefined;
    const actions = this.#table.abort(job, "cancel");
    return {
      job_id: job.id,
      cancelled: actions !== undefined,
      status: job.status,
      cleanup_actions: actions ?? [],
    };
  }

  counts(): { running: number; queued: number; max_concurrent: number } {
    this.#table.sweep();
    let queued = 0;
    const running = this.#table.running();
    for (const j of running) if (j.status === "queued") queued++;
    return { running: running.length - queued, queued, max_concurrent: this.maxConcurrent };
  }

  /** Jobs held in memory (running and finished). */
  size(): number {
    this.#table.sweep();
    return this.#table.size();
  }

  /** Seconds until a slot is likely free: the soonest estimate among running jobs. */
  retryAfterSeconds(): number {
    const now = this.#clock.now();
    let best: number | undefined;
    for (const job of this.#table.running()) {
      const eta = this.#estimates.eta(job, now);
      if (eta !== null && (best === undefined || eta < best)) best = eta;
    }
    if (best === undefined) return DEFAULT_RETRY_AFTER_S;
    return Math.min(MAX_RETRY_AFTER_S, Math.max(1, Math.ceil(best)));
  }

  /** Settles once the job's Ollama call is over (tests, shutdown). */
  async settled(jobId: string): Promise<void> {
    await this.#table.get(jobId)?.done;
  }

  /** Refuses new work, cancels every running job (error SHUTDOWN) and waits for their streams to close. */
  async shutdown(waitMs = 3_000): Promise<number> {
    this.#closing = true;
    const running = this.#table.running();
    for (const job of running) this.#table.abort(job, "shutdown");
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled(running.map((j) => j.done)),
      new Promise<void>((r) => {
        timer = setTimeout(r, waitMs);
      }),
    ]);
    clearTimeout(timer);
    return running.length;
  }

  /** A running job for the request, its deadline the shorter of the request's and Talos' own. */
  #newJob(req: ExecuteRequest): Job {
    const now = this.#clock.now();
    const { options, keepAlive } = splitOptions(req.options);
    const requested = req.timeout_seconds === undefined ? Infinity : req.timeout_seconds * 1000;
    return {
      id: req.job_id,
      fingerprint: fingerprint(req),
      model: req.model,
      messages: messagesOf(req),
      options,
      keepAlive,
      format: req.format,
      numPredict: req.options?.num_predict,
      timeoutMs: Math.min(requested, this.#o.jobTimeoutMs),
      status: "running",
      createdAt: now,
      startedAt: now,
      firstTokenAt: undefined,
      finishedAt: undefined,
      fetchedAt: undefined,
      tokens: 0,
      text: "",
      error: undefined,
      result: undefined,
      controller: new AbortController(),
      timer: undefined,
      done: Promise.resolve(),
    };
  }

  #replaceable(job: Job): boolean {
    return job.status === "failed" || job.status === "cancelled" || job.status === "timeout";
  }

  #executeResponse(job: Job): ExecuteResponse {
    return {
      job_id: job.id,
      status: job.status,
      estimated_time: this.#estimates.eta(job, this.#clock.now()),
    };
  }
}
