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
 */
import { createHash } from "node:crypto";
import { appendFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { type ChatPort, classifyOllamaError } from "./ollama.ts";
import {
  type CancelResponse,
  type ExecuteOptions,
  type ExecuteRequest,
  type ExecuteResponse,
  isFinalStatus,
  type JobError,
  type JobResult,
  type JobStatus,
  type StatusResponse,
  type TalosMessage,
} from "./protocol.ts";

export interface TimerHandle {
  readonly id: unknown;
}

/** Same shape as Hermes' Clock (src/clock.ts), declared here because the agent imports nothing from src/. */
export interface AgentClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export const systemClock: AgentClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, Math.max(0, ms));
    t.unref?.();
    return { id: t };
  },
  clearTimeout: (h) => clearTimeout(h.id as NodeJS.Timeout),
};

/** A finished job, handed to `onFinished` (the result log). */
export interface FinishedJob {
  job_id: string;
  status: JobStatus;
  model: string;
  created_at: string;
  finished_at: string;
  tokens: number;
  error?: JobError | undefined;
  result?: JobResult | undefined;
}

export interface JobManagerOptions {
  ollama: ChatPort;
  maxConcurrent: number;
  jobTimeoutMs: number;
  resultTtlMs: number;
  maxResults: number;
  /** How long a finished job stays after a status call first saw it finished (default 60 s). */
  fetchedGraceMs?: number;
  clock?: AgentClock;
  onFinished?: (job: FinishedJob) => void;
}

export type SubmitOutcome =
  /** A new job started (202). */
  | { kind: "accepted"; response: ExecuteResponse }
  /** The same job_id again: the job that already exists (200). */
  | { kind: "existing"; response: ExecuteResponse }
  /** Every slot taken (503 + Retry-After). */
  | { kind: "busy"; retryAfter: number; message: string }
  /** The job_id is in use by a different request (409). */
  | { kind: "conflict"; message: string }
  /** The agent is stopping (503). */
  | { kind: "closing"; retryAfter: number; message: string };

interface Job {
  id: string;
  fingerprint: string;
  model: string;
  messages: TalosMessage[];
  options: Record<string, unknown> | undefined;
  keepAlive: string | number | undefined;
  numPredict: number | undefined;
  timeoutMs: number;
  status: JobStatus;
  createdAt: number;
  startedAt: number;
  firstTokenAt: number | undefined;
  finishedAt: number | undefined;
  fetchedAt: number | undefined;
  tokens: number;
  text: string;
  error: JobError | undefined;
  result: JobResult | undefined;
  controller: AbortController;
  timer: TimerHandle | undefined;
  /** Settles when the Ollama call is over (after an abort: once the stream closed). */
  done: Promise<void>;
}

const DEFAULT_FETCHED_GRACE_MS = 60_000;
/** Retry-After when no running job has an estimate. */
const DEFAULT_RETRY_AFTER_S = 5;
const MAX_RETRY_AFTER_S = 60;
/** Weight of the newest duration in a model's moving average. */
const EMA_WEIGHT = 0.3;

/** The request's conversation: `prompt` is one user message. */
export function messagesOf(req: ExecuteRequest): TalosMessage[] {
  return req.messages ?? [{ role: "user", content: req.prompt ?? "" }];
}

function fingerprint(req: ExecuteRequest): string {
  const canonical = JSON.stringify([req.model, messagesOf(req), req.options ?? {}]);
  return createHash("sha256").update(canonical).digest("hex");
}

function splitOptions(options: ExecuteOptions | undefined): {
  options: Record<string, unknown> | undefined;
  keepAlive: string | number | undefined;
} {
  if (!options) return { options: undefined, keepAlive: undefined };
  const { keep_alive, ...rest } = options;
  return { options: Object.keys(rest).length > 0 ? rest : undefined, keepAlive: keep_alive };
}

export class JobManager {
  readonly maxConcurrent: number;
  readonly #o: JobManagerOptions;
  readonly #clock: AgentClock;
  readonly #graceMs: number;
  /** Every job held, running or finished. */
  readonly #jobs = new Map<string, Job>();
  /** Running jobs (they hold a slot). */
  readonly #active = new Set<Job>();
  /** Finished jobs, oldest first (insertion = finish order), for the size bound. */
  readonly #finished = new Map<string, Job>();
  /** Moving average of completed jobs' durations per model, ms. */
  readonly #durations = new Map<string, number>();
  #closing = false;

  constructor(options: JobManagerOptions) {
    this.#o = options;
    this.maxConcurrent = Math.max(1, options.maxConcurrent);
    this.#clock = options.clock ?? systemClock;
    this.#graceMs = options.fetchedGraceMs ?? DEFAULT_FETCHED_GRACE_MS;
  }

  /**
   * The answer to an execute that needs no new work: the same job again, or a conflicting id.
   * Undefined when the request would start a job (after the caller's resource checks, `submit`).
   */
  existing(req: ExecuteRequest): SubmitOutcome | undefined {
    this.#sweep();
    const job = this.#jobs.get(req.job_id);
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
    if (this.#active.size >= this.maxConcurrent) {
      return {
        kind: "busy",
        retryAfter: this.retryAfterSeconds(),
        message: `all ${this.maxConcurrent} job slot(s) are busy`,
      };
    }
    const previous = this.#jobs.get(req.job_id);
    if (previous) this.#forget(previous);

    const now = this.#clock.now();
    const { options, keepAlive } = splitOptions(req.options);
    const requested = req.timeout_seconds === undefined ? Infinity : req.timeout_seconds * 1000;
    const job: Job = {
      id: req.job_id,
      fingerprint: fingerprint(req),
      model: req.model,
      messages: messagesOf(req),
      options,
      keepAlive,
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
    this.#jobs.set(job.id, job);
    this.#active.add(job);
    job.timer = this.#clock.setTimeout(() => this.#abort(job, "timeout"), job.timeoutMs);
    job.done = this.#run(job);
    return { kind: "accepted", response: this.#executeResponse(job) };
  }

  /** The job's status; a finished job counts as fetched from here on (it expires after the grace). */
  status(jobId: string, textFrom?: number): StatusResponse | undefined {
    this.#sweep();
    const job = this.#jobs.get(jobId);
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
      eta_seconds: this.#eta(job, now),
    };
    if (job.error) response.error = job.error;
    if (job.result) response.result = job.result;
    return response;
  }

  cancel(jobId: string): CancelResponse | undefined {
    this.#sweep();
    const job = this.#jobs.get(jobId);
    if (!job) return undefined;
    const actions = this.#abort(job, "cancel");
    return {
      job_id: job.id,
      cancelled: actions !== undefined,
      status: job.status,
      cleanup_actions: actions ?? [],
    };
  }

  counts(): { running: number; queued: number; max_concurrent: number } {
    this.#sweep();
    let queued = 0;
    for (const j of this.#active) if (j.status === "queued") queued++;
    return { running: this.#active.size - queued, queued, max_concurrent: this.maxConcurrent };
  }

  /** Jobs held in memory (running and finished). */
  size(): number {
    this.#sweep();
    return this.#jobs.size;
  }

  /** Seconds until a slot is likely free: the soonest estimate among running jobs. */
  retryAfterSeconds(): number {
    const now = this.#clock.now();
    let best: number | undefined;
    for (const job of this.#active) {
      const eta = this.#eta(job, now);
      if (eta !== null && (best === undefined || eta < best)) best = eta;
    }
    if (best === undefined) return DEFAULT_RETRY_AFTER_S;
    return Math.min(MAX_RETRY_AFTER_S, Math.max(1, Math.ceil(best)));
  }

  /** Settles once the job's Ollama call is over (tests, shutdown). */
  async settled(jobId: string): Promise<void> {
    await this.#jobs.get(jobId)?.done;
  }

  /** Refuses new work, cancels every running job (error SHUTDOWN) and waits for their streams to close. */
  async shutdown(waitMs = 3_000): Promise<number> {
    this.#closing = true;
    const running = [...this.#active];
    for (const job of running) this.#abort(job, "shutdown");
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

  // ---- internals ------------------------------------------------------------------------------

  async #run(job: Job): Promise<void> {
    const signal = job.controller.signal;
    let final: { model?: string | undefined; promptTokens?: number; evalTokens?: number } | undefined;
    try {
      const stream = this.#o.ollama.chat(
        { model: job.model, messages: job.messages, options: job.options, keepAlive: job.keepAlive },
        signal,
      );
      for await (const part of stream) {
        if (isFinalStatus(job.status)) return;
        if (part.text) {
          job.firstTokenAt ??= this.#clock.now();
          job.text += part.text;
          job.tokens++;
        }
        if (part.done) {
          final = { model: part.model, promptTokens: part.promptTokens, evalTokens: part.evalTokens };
          break;
        }
      }
      if (isFinalStatus(job.status)) return;
      if (!final) throw new Error("Ollama's stream ended before its final message");
      const now = this.#clock.now();
      const latency = Math.max(0, now - job.startedAt);
      this.#remember(job.model, latency);
      this.#finish(job, "completed", {
        result: {
          text: job.text,
          model: final.model || job.model,
          usage: {
            input_tokens: final.promptTokens ?? 0,
            output_tokens: final.evalTokens ?? job.tokens,
          },
          latency_ms: latency,
          ...(job.firstTokenAt === undefined
            ? {}
            : { first_token_ms: Math.max(0, job.firstTokenAt - job.startedAt) }),
        },
      });
    } catch (err) {
      if (isFinalStatus(job.status)) return; // cancelled or timed out: the abort made this error
      this.#finish(job, "failed", { error: classifyOllamaError(err) });
    }
  }

  /** Stops a running job; undefined when it had already finished. Returns what was cleaned up. */
  #abort(job: Job, why: "cancel" | "timeout" | "shutdown"): string[] | undefined {
    if (isFinalStatus(job.status)) return undefined;
    const seconds = Math.round(job.timeoutMs / 1000);
    if (why === "timeout") {
      this.#finish(job, "timeout", {
        error: { code: "TIMEOUT", message: `the job did not finish within ${seconds} s` },
      });
    } else if (why === "shutdown") {
      this.#finish(job, "cancelled", { error: { code: "SHUTDOWN", message: "Talos is shutting down" } });
    } else {
      this.#finish(job, "cancelled", { error: { code: "CANCELLED", message: "cancelled on request" } });
    }
    job.controller.abort(new DOMException(why, "AbortError"));
    return [
      job.firstTokenAt === undefined ? "aborted the Ollama request" : "aborted the Ollama stream",
      "released the job slot",
    ];
  }

  #finish(job: Job, status: JobStatus, fields: { error?: JobError; result?: JobResult }): void {
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
    this.#sweep();
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

  #forget(job: Job): void {
    this.#jobs.delete(job.id);
    this.#finished.delete(job.id);
    this.#active.delete(job);
  }

  #replaceable(job: Job): boolean {
    return job.status === "failed" || job.status === "cancelled" || job.status === "timeout";
  }

  /** Drops expired finished jobs and the oldest ones beyond `maxResults`. */
  #sweep(): void {
    const now = this.#clock.now();
    for (const job of this.#finished.values()) {
      const finishedAt = job.finishedAt ?? now;
      const expired =
        now - finishedAt >= this.#o.resultTtlMs ||
        (job.fetchedAt !== undefined && now - job.fetchedAt >= this.#graceMs);
      if (expired) this.#forget(job);
    }
    while (this.#finished.size > this.#o.maxResults) {
      const oldest = this.#finished.values().next().value;
      if (!oldest) break;
      this.#forget(oldest);
    }
  }

  #remember(model: string, ms: number): void {
    const prev = this.#durations.get(model);
    this.#durations.set(model, prev === undefined ? ms : prev * (1 - EMA_WEIGHT) + ms * EMA_WEIGHT);
  }

  #executeResponse(job: Job): ExecuteResponse {
    return { job_id: job.id, status: job.status, estimated_time: this.#eta(job, this.#clock.now()) };
  }

  /** Seconds left: from the token rate when num_predict bounds the answer, else the model's average. */
  #eta(job: Job, now: number): number | null {
    if (isFinalStatus(job.status)) return 0;
    if (
      job.numPredict !== undefined &&
      job.numPredict > 0 &&
      job.tokens > 0 &&
      job.firstTokenAt !== undefined
    ) {
      const streamingMs = now - job.firstTokenAt;
      if (streamingMs > 0) {
        const perToken = streamingMs / job.tokens;
        return round1((Math.max(0, job.numPredict - job.tokens) * perToken) / 1000);
      }
    }
    const average = this.#durations.get(job.model);
    if (average === undefined) return null;
    return round1(Math.max(0, average - (now - job.startedAt)) / 1000);
  }
}

const round1 = (n: number): number => Math.round(n * 10) / 10;

/**
 * TALOS_LOG_DIR: every finished job as one JSON line in `<dir>/talos-results.jsonl` (the text only
 * for completed jobs). Writes are queued so lines never interleave; a failed write is reported to
 * `onError` and does not affect the job.
 */
export function createResultLog(dir: string, onError: (err: unknown) => void): (job: FinishedJob) => void {
  const file = join(dir, "talos-results.jsonl");
  let chain: Promise<void> = mkdir(dir, { recursive: true }).then(
    () => undefined,
    (err: unknown) => onError(err),
  );
  return (job) => {
    const line = `${JSON.stringify(job)}\n`;
    chain = chain.then(() => appendFile(file, line, "utf8")).catch(onError);
  };
}
