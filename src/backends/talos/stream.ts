import { setTimeout as sleep } from "node:timers/promises";
import type { ExecuteRequest, StatusResponse } from "../../../agent/protocol.ts";
import { HermesError } from "../../errors.ts";
import type { RunProgress, RunRequest, RunResult } from "../backend.ts";
import { CallGuard } from "../http/errors.ts";
import { POLL_BACKOFF, type Poll, type TalosClient } from "./client.ts";
import { describe, isUnreachable, type TalosErrors } from "./errors.ts";

/** Talos' answer as it arrives: submit the job, then poll its status until it is final. */

/** The agent's own deadline fires first; ours is a backstop for an agent that stopped answering. */
const DEADLINE_SLACK_MS = 5_000;

export interface TalosRunContext {
  client: TalosClient;
  errors: TalosErrors;
  pollMs: number;
  maxPollMs: number;
  graceMs: number;
  defaultTimeoutMs: number;
}

/**
 * One run on Talos: submit, poll with back-off until the status is final (reporting progress),
 * re-submit once when Talos lost the job (restart) or is shutting down, ride out a restart's
 * unreachable seconds, and cancel on the agent when our caller gives up.
 */
export async function runTalosJob(
  ctx: TalosRunContext,
  request: RunRequest,
  signal: AbortSignal,
  onProgress?: (p: RunProgress) => void,
): Promise<RunResult> {
  const timeoutMs = request.timeoutMs ?? ctx.defaultTimeoutMs;
  const guard = new CallGuard(signal, timeoutMs + DEADLINE_SLACK_MS);
  const job = new TalosJob(ctx, request, guard, timeoutMs, onProgress);
  try {
    return await guard.race(job.run());
  } catch (err) {
    throw job.failure(err);
  } finally {
    guard.dispose();
  }
}

/** The state of one job's submit-and-poll loop: what was received so far, back-off, resubmission. */
class TalosJob {
  private readonly ctx: TalosRunContext;
  private readonly request: RunRequest;
  private readonly guard: CallGuard;
  private readonly onProgress: ((p: RunProgress) => void) | undefined;
  private readonly jobId: string;
  private readonly body: ExecuteRequest;
  private readonly started = performance.now();
  private sent = false;
  private acceptedAt = 0;
  private resubmitted = false;
  private interval: number;
  private text = "";
  private tokens = 0;
  private downSince: number | undefined;

  constructor(
    ctx: TalosRunContext,
    request: RunRequest,
    guard: CallGuard,
    timeoutMs: number,
    onProgress: ((p: RunProgress) => void) | undefined,
  ) {
    this.ctx = ctx;
    this.request = request;
    this.guard = guard;
    this.onProgress = onProgress;
    this.jobId = String(request.jobId);
    this.body = executeBody(this.jobId, request, timeoutMs);
    this.interval = ctx.pollMs;
  }

  async run(): Promise<RunResult> {
    this.sent = !this.guard.signal.aborted;
    this.acceptedAt = await this.ctx.client.submit(this.body, this.guard.signal, false);
    for (;;) {
      await sleep(this.interval, undefined, { signal: this.guard.signal });
      this.interval = Math.min(this.ctx.maxPollMs, this.interval * POLL_BACKOFF);
      const poll = await this.pollRidingOutRestarts();
      if (poll === undefined) continue;
      if (poll.kind === "lost") {
        if (this.resubmitted) {
          const why = `lost job ${this.jobId} twice (${poll.why})`;
          throw this.ctx.errors.error("BACKEND_ERROR", why, { retryable: true });
        }
        await this.resubmit();
        continue;
      }
      const result = await this.onStatus(poll.status);
      if (result) return result;
    }
  }

  /** One status poll; undefined while Talos is unreachable within the reconnect grace (a restart). */
  private async pollRidingOutRestarts(): Promise<Poll | undefined> {
    try {
      const poll = await this.ctx.client.poll(this.jobId, this.text.length, this.guard.signal);
      this.downSince = undefined;
      return poll;
    } catch (err) {
      if (!isUnreachable(err)) throw err;
      this.downSince ??= performance.now();
      if (performance.now() - this.downSince > this.ctx.graceMs) throw err;
      return undefined; // Talos restarting: keep polling until it is back
    }
  }

  /** Takes in the status' progress; the result when it is final, an error when the job failed. */
  private async onStatus(s: StatusResponse): Promise<RunResult | undefined> {
    if (s.progress.text !== undefined) this.text += s.progress.text;
    if (s.progress.tokens > this.tokens) {
      this.tokens = s.progress.tokens;
      this.guard.progress(this.onProgress, { tokens: this.tokens, textSoFar: this.text });
    }
    switch (s.status) {
      case "queued":
      case "running":
        return undefined;
      case "completed":
        return resultOf(this.ctx.errors, s, this.request, this.started, this.acceptedAt);
      case "cancelled":
        if (s.error?.code === "SHUTDOWN" && !this.resubmitted) {
          await this.resubmit(); // Talos is stopping and will be back: as if it had lost the job
          return undefined;
        }
        throw this.ctx.errors.jobFailure(s, this.request.model);
      default:
        throw this.ctx.errors.jobFailure(s, this.request.model);
    }
  }

  /** Talos lost the job (restarted) or is stopping: submit it once more, from scratch. */
  private async resubmit(): Promise<void> {
    this.resubmitted = true;
    this.acceptedAt = await this.ctx.client.submit(this.body, this.guard.signal, true);
    this.text = "";
    this.tokens = 0;
    this.interval = this.ctx.pollMs;
  }

  /** The error the run ends with; a cancelled or timed-out job is cancelled on the agent too. */
  failure(err: unknown): unknown {
    const { errors } = this.ctx;
    const { state } = this.guard;
    if (state.cancelled || state.timedOut) {
      if (this.sent) this.ctx.client.cancelQuietly(this.jobId);
      if (state.timedOut) {
        const message = `did not finish job ${this.jobId} within ${state.timeoutMs} ms`;
        return errors.error("TIMEOUT", message, { retryable: true });
      }
      return errors.error("CANCELLED", `job ${this.jobId} was cancelled`, { retryable: false });
    }
    if (err instanceof HermesError) return err;
    return errors.error("BACKEND_ERROR", `failed: ${describe(err)}`, { retryable: true, cause: err });
  }
}

function executeBody(jobId: string, request: RunRequest, timeoutMs: number): ExecuteRequest {
  const options: NonNullable<ExecuteRequest["options"]> = {};
  if (request.maxTokens !== undefined) options.num_predict = request.maxTokens;
  if (request.temperature !== undefined) options.temperature = request.temperature;
  return {
    job_id: jobId,
    model: request.model,
    messages: request.messages.map((m) => ({ role: m.role, content: m.content })),
    ...(Object.keys(options).length > 0 ? { options } : {}),
    ...(request.responseFormat ? { format: request.responseFormat.schema } : {}),
    timeout_seconds: Math.max(1, Math.ceil(timeoutMs / 1000)),
  };
}

function resultOf(
  errors: TalosErrors,
  s: StatusResponse,
  request: RunRequest,
  started: number,
  acceptedAt: number,
): RunResult {
  const r = s.result;
  if (!r)
    throw errors.error("BACKEND_ERROR", "sent a completed status without a result", { retryable: true });
  const latencyMs = performance.now() - started;
  const firstTokenMs =
    r.first_token_ms === undefined ? undefined : Math.min(latencyMs, acceptedAt - started + r.first_token_ms);
  return {
    text: r.text,
    model: r.model || request.model,
    usage: { inputTokens: r.usage.input_tokens, outputTokens: r.usage.output_tokens },
    latencyMs,
    firstTokenMs,
  };
}
