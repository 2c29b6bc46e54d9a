import { setTimeout as sleep } from "node:timers/promises";
import type { ExecuteRequest, StatusResponse } from "../../../agent/protocol.ts";
import { HermesError } from "../../errors.ts";
import type { RunProgress, RunRequest, RunResult } from "../backend.ts";
import { CallGuard } from "../http/errors.ts";
import { POLL_BACKOFF, type Poll, type TalosClient } from "./client.ts";
import { describe, isUnreachable, type TalosErrors } from "./errors.ts";

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
  const { client, errors } = ctx;
  const started = performance.now();
  const timeoutMs = request.timeoutMs ?? ctx.defaultTimeoutMs;
  const guard = new CallGuard(signal, timeoutMs + DEADLINE_SLACK_MS);
  const jobId = String(request.jobId);
  const body = executeBody(jobId, request, timeoutMs);
  let sent = false;

  const work = async (): Promise<RunResult> => {
    sent = !guard.signal.aborted;
    let acceptedAt = await client.submit(body, guard.signal, false);
    let resubmitted = false;
    let interval = ctx.pollMs;
    let text = "";
    let tokens = 0;
    let downSince: number | undefined;
    /** Talos lost the job (restarted) or is stopping: submit it once more, from scratch. */
    const resubmit = async () => {
      resubmitted = true;
      acceptedAt = await client.submit(body, guard.signal, true);
      text = "";
      tokens = 0;
      interval = ctx.pollMs;
    };
    for (;;) {
      await sleep(interval, undefined, { signal: guard.signal });
      interval = Math.min(ctx.maxPollMs, interval * POLL_BACKOFF);
      let poll: Poll;
      try {
        poll = await client.poll(jobId, text.length, guard.signal);
        downSince = undefined;
      } catch (err) {
        if (!isUnreachable(err)) throw err;
        downSince ??= performance.now();
        if (performance.now() - downSince > ctx.graceMs) throw err;
        continue; // Talos restarting: keep polling until it is back
      }

      if (poll.kind === "lost") {
        if (resubmitted) {
          throw errors.error("BACKEND_ERROR", `lost job ${jobId} twice (${poll.why})`, { retryable: true });
        }
        await resubmit();
        continue;
      }

      const s = poll.status;
      if (s.progress.text !== undefined) text += s.progress.text;
      if (s.progress.tokens > tokens) {
        tokens = s.progress.tokens;
        guard.progress(onProgress, { tokens, textSoFar: text });
      }
      switch (s.status) {
        case "queued":
        case "running":
          break;
        case "completed":
          return resultOf(errors, s, request, started, acceptedAt);
        case "cancelled":
          if (s.error?.code === "SHUTDOWN" && !resubmitted) {
            await resubmit(); // Talos is stopping and will be back: as if it had lost the job
            break;
          }
          throw errors.jobFailure(s, request.model);
        default:
          throw errors.jobFailure(s, request.model);
      }
    }
  };

  try {
    return await guard.race(work());
  } catch (err) {
    if (guard.state.cancelled || guard.state.timedOut) {
      if (sent) client.cancelQuietly(jobId);
      if (guard.state.timedOut) {
        throw errors.error("TIMEOUT", `did not finish job ${jobId} within ${guard.state.timeoutMs} ms`, {
          retryable: true,
        });
      }
      throw errors.error("CANCELLED", `job ${jobId} was cancelled`, { retryable: false });
    }
    if (err instanceof HermesError) throw err;
    throw errors.error("BACKEND_ERROR", `failed: ${describe(err)}`, { retryable: true, cause: err });
  } finally {
    guard.dispose();
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
