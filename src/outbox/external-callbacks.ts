import type { Clock, TimerHandle } from "../clock.ts";
import type { EngineEvent } from "../engine/engine.ts";
import { HermesError } from "../errors.ts";
import { SIGNATURE_HEADER, sign, TIMESTAMP_HEADER } from "../http/signature.ts";
import type { CallbackRow, ExternalCallbacksRepo } from "../store/system/external-callbacks-repo.ts";
import { type CheckedLookup, pinnedPost } from "./pinned-post.ts";

/**
 * Delivers results to external services: when a thread that came with a callback_url finishes a
 * job (completed or failed for good), the result JSON is written to the external_callbacks outbox
 * and POSTed, signed, to the URL. Failures are retried with exponential backoff (base × 2^(n-1),
 * capped) until `maxAttempts`, then the row is marked failed and an error is logged. The outbox
 * is durable: start() picks up what a previous run left pending. Each attempt is signed with its
 * own timestamp (see signature.ts), and its URL is checked again first (CallbackTargetPolicy).
 */
export interface CallbackLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface CallbackDispatcherOptions {
  repo: ExternalCallbacksRepo;
  clock: Clock;
  /** The signing key (see signature.ts); undefined while none is configured. */
  secret: () => string | undefined;
  /**
   * Checked at every delivery: the URL's host may have been re-pointed inside since submit. With
   * `addressOf`, the check is the socket's own lookup (pinnedPost), so there is no window between.
   */
  targets?: { check(url: string): Promise<void>; addressOf?: CheckedLookup } | undefined;
  maxAttempts: () => number;
  log: CallbackLog;
  baseDelayMs?: number;
  maxDelayMs?: number;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export interface CallbackPayload {
  event: "job.completed" | "job.failed";
  thread_id: string;
  short_id: string;
  job_id: number;
  draft: number;
  kind: string | null;
  status: string;
  title: string;
  summary: string | null;
  result: string | null;
  error: { code: string; message: string } | null;
  backend: string | null;
  model: string | null;
  completed_at: string | null;
  result_url: string;
  status_url: string;
}

function callbackPayload(e: EngineEvent): CallbackPayload | undefined {
  const { event, thread } = e;
  if (event.type !== "completed" && event.type !== "failed") return undefined;
  const job = event.job;
  return {
    event: event.type === "completed" ? "job.completed" : "job.failed",
    thread_id: thread.uuid,
    short_id: e.shortId,
    job_id: job.id,
    draft: job.job_sequence,
    kind: job.job_subtype,
    status: job.status,
    title: thread.title,
    summary: job.result_summary,
    result: job.full_result,
    error: event.type === "failed" ? { code: event.error.code, message: event.error.message } : null,
    backend: job.backend_used,
    model: job.model_used,
    completed_at: job.completed_date,
    result_url: `/api/threads/${thread.uuid}/jobs/${job.id}/result`,
    status_url: `/api/threads/${thread.uuid}/status`,
  };
}

export class CallbackDispatcher {
  private readonly o: Required<Omit<CallbackDispatcherOptions, "fetch" | "targets">> & {
    /** A test's fetch; production posts with pinnedPost (no undici, no DNS-rebinding window). */
    fetch: typeof fetch | undefined;
    targets: CallbackDispatcherOptions["targets"];
  };
  private timer: TimerHandle | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private pumping: Promise<number> | undefined;
  private again = false;
  private warnedNoSecret = false;
  private started = false;
  private stopped = false;

  constructor(options: CallbackDispatcherOptions) {
    this.o = {
      baseDelayMs: 10_000,
      maxDelayMs: 3_600_000,
      timeoutMs: 10_000,
      ...options,
      targets: options.targets,
      fetch: options.fetch,
    };
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    void this.pump();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
    await this.pumping?.catch(() => {});
  }

  /** The engine's event listener: queues a delivery for threads that asked for one. */
  readonly onThreadEvent = (e: EngineEvent): void => {
    const url = e.thread.callback_url;
    if (!url) return;
    const payload = callbackPayload(e);
    if (!payload) return;
    const row = this.o.repo.add({
      threadId: e.thread.id,
      jobId: payload.job_id,
      event: payload.event,
      url,
      body: JSON.stringify(payload),
      nowIso: new Date(this.o.clock.now()).toISOString(),
    });
    if (row && this.started) void this.pump();
  };

  /** After something that may unblock waiting callbacks (a signing key was set): try now, if running. */
  resume(): void {
    if (this.started) void this.pump();
  }

  /** Delivers every due callback; resolves with how many attempts were made. Never rejects. */
  pump(): Promise<number> {
    if (this.stopped) return Promise.resolve(0);
    if (this.pumping) {
      this.again = true;
      return this.pumping;
    }
    // `.finally` runs as a microtask, so `pumping` is always set before it is cleared.
    const run = this.drain().finally(() => {
      this.pumping = undefined;
      this.arm();
    });
    this.pumping = run;
    return run;
  }

  private async drain(): Promise<number> {
    let attempts = 0;
    // Without a key nothing can be signed: the results wait (no attempt is spent) until one is set.
    if (!this.o.secret()) {
      if (this.o.repo.nextDueAt() !== undefined && !this.warnedNoSecret)
        this.o.log.warn({}, "callbacks wait: no signing secret (set hermes.api.callback_secret)");
      this.warnedNoSecret = true;
      return 0;
    }
    this.warnedNoSecret = false;
    try {
      do {
        this.again = false;
        const due = this.o.repo.due(new Date(this.o.clock.now()).toISOString());
        for (const row of due) {
          if (this.stopped) break;
          await this.deliver(row);
          attempts++;
        }
        if (due.length === 20) this.again = true;
      } while (this.again && !this.stopped);
    } catch (error) {
      this.o.log.error(
        { err: error instanceof Error ? error.message : String(error) },
        "callback pump failed",
      );
    }
    return attempts;
  }

  private arm(): void {
    if (this.stopped || !this.started) return;
    const due = this.o.repo.nextDueAt();
    if (due === undefined) return;
    const at = Math.max(due, this.o.clock.now() + 1);
    if (this.timer && at >= this.timerAt) return;
    if (this.timer) this.o.clock.clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = this.o.clock.setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Number.POSITIVE_INFINITY;
      void this.pump();
    }, at - this.o.clock.now());
  }

  /** One signed POST; resolves with the HTTP status. */
  private async send(row: CallbackRow, secret: string): Promise<number> {
    const timestamp = String(Math.floor(this.o.clock.now() / 1000));
    const headers = {
      "Content-Type": "application/json",
      "User-Agent": "Hermes-Callback/1",
      [TIMESTAMP_HEADER]: timestamp,
      [SIGNATURE_HEADER]: sign(row.body, secret, timestamp),
      "X-Hermes-Event": row.event,
      "X-Hermes-Delivery": String(row.id),
    };
    const targets = this.o.targets;
    if (!this.o.fetch && targets?.addressOf) {
      const lookup = targets.addressOf.bind(targets);
      return (await pinnedPost(row.url, { headers, body: row.body, timeoutMs: this.o.timeoutMs }, lookup))
        .status;
    }
    await targets?.check(row.url);
    const res = await (this.o.fetch ?? globalThis.fetch)(row.url, {
      method: "POST",
      headers,
      body: row.body,
      redirect: "manual",
      signal: AbortSignal.timeout(this.o.timeoutMs),
    });
    await res.body?.cancel().catch(() => {});
    return res.status;
  }

  private async deliver(row: CallbackRow): Promise<void> {
    let status: number | null = null;
    let error: string | undefined;
    let final = false;
    try {
      status = await this.send(row, this.o.secret() ?? "");
      if (status < 200 || status >= 300) error = `HTTP ${status}`;
    } catch (thrown) {
      // A refused target is policy, not a passing fault: retrying will not change it.
      final = thrown instanceof HermesError && thrown.code === "INVALID_INPUT";
      error = thrown instanceof Error ? `${thrown.name}: ${thrown.message}` : String(thrown);
    }
    const now = this.o.clock.now();
    const base = {
      callbackId: row.id,
      threadId: row.thread_id,
      jobId: row.job_id,
      attempt: row.attempts + 1,
    };
    if (error === undefined) {
      this.o.repo.markDelivered(row.id, status ?? 0, new Date(now).toISOString());
      this.o.log.info({ ...base, status }, "callback delivered");
      return;
    }
    const attempts = row.attempts + 1;
    if (final || attempts >= Math.max(1, this.o.maxAttempts())) {
      this.o.repo.markFailed(row.id, status, error);
      this.o.log.error(
        { ...base, status, error },
        `callback gave up after ${attempts} attempts; the result stays available at its result_url`,
      );
      return;
    }
    const delay = Math.min(this.o.maxDelayMs, this.o.baseDelayMs * 2 ** (attempts - 1));
    this.o.repo.scheduleRetry(row.id, status, error, new Date(now + delay).toISOString());
    this.o.log.warn({ ...base, status, error, retryInMs: delay }, "callback failed; will retry");
  }
}
