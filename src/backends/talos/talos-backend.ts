/**
 * Talos, the execution agent beside Ollama on another machine (agent/), reached over Tailscale.
 * A run submits the job (POST /agent/execute, job_id = the Hermes job id), then polls its status
 * (250 ms, backing off ×1.5 to 2 s) until it is final, reporting progress on the way. The wire
 * format is agent/protocol.ts; every answer is checked against it.
 *
 * Failure rules (HermesError, see ../http-errors.ts for the shared helpers):
 * - cannot connect (refused, reset, DNS) or 503 busy/overloaded → TALOS_UNAVAILABLE, retryable
 *   (503: retryAfter from Retry-After / the body);
 * - 401 → BACKEND_ERROR, not retryable, "check TALOS_TOKEN" (the token is in no message);
 * - a job that timed out on the agent → TIMEOUT, retryable; failed because Ollama lacks the model →
 *   BACKEND_ERROR, not retryable; failed because Ollama is down → TALOS_UNAVAILABLE; any other
 *   failure → BACKEND_ERROR, retryable; an answer that breaks the protocol → BACKEND_ERROR, retryable.
 * - Talos restarted mid-job (status 404 for a job it had accepted, or cancelled with SHUTDOWN): the
 *   job is submitted once more rather than failed, riding out the restart's few seconds of
 *   "connection refused" (`reconnectGraceMs`).
 * - Our caller aborts → POST /agent/cancel (best effort) and CANCELLED.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { z } from "zod";
import {
  CancelResponseSchema,
  type ErrorBody,
  ErrorBodySchema,
  type ExecuteRequest,
  ExecuteResponseSchema,
  HealthResponseSchema,
  type JobError,
  ModelsResponseSchema,
  type StatusResponse,
  StatusResponseSchema,
} from "../../../agent/protocol.ts";
import { HermesError, type HermesErrorOptions } from "../../errors.ts";
import type { Backend, HealthReport, ModelInfo, RunProgress, RunRequest, RunResult } from "../backend.ts";
import { CallGuard, networkCode, parseRetryAfter, safeHost, scrub } from "../http-errors.ts";

export interface TalosBackendOptions {
  name: string;
  /** The agent's base URL, e.g. "http://100.101.102.103:8001" (its Tailscale address). */
  url: string;
  /** TALOS_TOKEN, the shared secret; sent as a bearer token, never logged or put in a message. */
  token: string;
  /** First delay between status polls (default 250 ms); grows ×1.5 per poll up to `maxPollIntervalMs`. */
  pollIntervalMs?: number;
  /** Longest delay between polls (default 2000 ms). */
  maxPollIntervalMs?: number;
  /** Deadline of one HTTP call to the agent (default 10 s). */
  requestTimeoutMs?: number;
  /** Deadline of a run when the request sets none (default 1 h, Talos' own default job timeout). */
  defaultTimeoutMs?: number;
  /** How long an accepted job rides out an unreachable agent (a restart) before failing (default 30 s). */
  reconnectGraceMs?: number;
}

const DEFAULT_POLL_MS = 250;
const MAX_POLL_MS = 2_000;
const POLL_BACKOFF = 1.5;
const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
const DEFAULT_TIMEOUT_MS = 60 * 60_000;
const DEFAULT_RECONNECT_GRACE_MS = 30_000;
/** The agent's own deadline fires first; ours is a backstop for an agent that stopped answering. */
const DEADLINE_SLACK_MS = 5_000;
const PROBE_TIMEOUT_MS = 5_000;
const CANCEL_TIMEOUT_MS = 5_000;
const TOKEN_ACTION =
  "check TALOS_TOKEN: Hermes and the Talos machine must use the same value (restart Talos after changing it)";

/** HermesErrors that mean "nothing reached the agent": a running job may ride these out. */
const unreachable = new WeakSet<HermesError>();

type Answer<T> = { status: number; data: T; headers: Headers };

/** What one status poll found. */
type Poll = { kind: "status"; status: StatusResponse } | { kind: "lost"; why: string };

export class TalosBackend implements Backend {
  readonly name: string;
  readonly kind = "talos" as const;
  readonly local = true;
  readonly #url: string;
  readonly #token: string;
  readonly #pollMs: number;
  readonly #maxPollMs: number;
  readonly #requestTimeoutMs: number;
  readonly #defaultTimeoutMs: number;
  readonly #graceMs: number;

  constructor(opts: TalosBackendOptions) {
    this.name = opts.name;
    this.#url = opts.url.replace(/\/+$/, "");
    this.#token = opts.token;
    this.#pollMs = Math.max(1, opts.pollIntervalMs ?? DEFAULT_POLL_MS);
    this.#maxPollMs = Math.max(this.#pollMs, opts.maxPollIntervalMs ?? MAX_POLL_MS);
    this.#requestTimeoutMs = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.#defaultTimeoutMs = opts.defaultTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#graceMs = opts.reconnectGraceMs ?? DEFAULT_RECONNECT_GRACE_MS;
  }

  async run(
    request: RunRequest,
    signal: AbortSignal,
    onProgress?: (p: RunProgress) => void,
  ): Promise<RunResult> {
    const started = performance.now();
    const timeoutMs = request.timeoutMs ?? this.#defaultTimeoutMs;
    const guard = new CallGuard(signal, timeoutMs + DEADLINE_SLACK_MS);
    const jobId = String(request.jobId);
    const body = this.#executeBody(jobId, request, timeoutMs);
    let sent = false;

    const work = async (): Promise<RunResult> => {
      sent = !guard.signal.aborted;
      let acceptedAt = await this.#submit(body, guard.signal, false);
      let resubmitted = false;
      let interval = this.#pollMs;
      let text = "";
      let tokens = 0;
      let downSince: number | undefined;
      /** Talos lost the job (restarted) or is stopping: submit it once more, from scratch. */
      const resubmit = async () => {
        resubmitted = true;
        acceptedAt = await this.#submit(body, guard.signal, true);
        text = "";
        tokens = 0;
        interval = this.#pollMs;
      };
      for (;;) {
        await sleep(interval, undefined, { signal: guard.signal });
        interval = Math.min(this.#maxPollMs, interval * POLL_BACKOFF);
        let poll: Poll;
        try {
          poll = await this.#poll(jobId, text.length, guard.signal);
          downSince = undefined;
        } catch (err) {
          if (!(err instanceof HermesError && unreachable.has(err))) throw err;
          downSince ??= performance.now();
          if (performance.now() - downSince > this.#graceMs) throw err;
          continue; // Talos restarting: keep polling until it is back
        }

        if (poll.kind === "lost") {
          if (resubmitted) {
            throw this.#error("BACKEND_ERROR", `lost job ${jobId} twice (${poll.why})`, { retryable: true });
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
            return this.#result(s, request, started, acceptedAt);
          case "cancelled":
            if (s.error?.code === "SHUTDOWN" && !resubmitted) {
              await resubmit(); // Talos is stopping and will be back: as if it had lost the job
              break;
            }
            throw this.#jobFailure(s, request.model);
          default:
            throw this.#jobFailure(s, request.model);
        }
      }
    };

    try {
      return await guard.race(work());
    } catch (err) {
      if (guard.state.cancelled || guard.state.timedOut) {
        if (sent) this.#cancelQuietly(jobId);
        if (guard.state.timedOut) {
          throw this.#error("TIMEOUT", `did not finish job ${jobId} within ${guard.state.timeoutMs} ms`, {
            retryable: true,
          });
        }
        throw this.#error("CANCELLED", `job ${jobId} was cancelled`, { retryable: false });
      }
      if (err instanceof HermesError) throw err;
      throw this.#error("BACKEND_ERROR", `failed: ${describe(err)}`, { retryable: true, cause: err });
    } finally {
      guard.dispose();
    }
  }

  async health(signal?: AbortSignal): Promise<HealthReport> {
    const started = performance.now();
    try {
      const { data } = await this.#request("GET", "/agent/health", HealthResponseSchema, {
        signal,
        timeoutMs: PROBE_TIMEOUT_MS,
      });
      const latencyMs = performance.now() - started;
      const warmModels = data.ollama.loaded_models;
      if (data.status === "ok") return { status: "healthy", latencyMs, warmModels };
      const why =
        data.reasons?.join("; ") || (data.ollama.reachable ? "degraded" : "Ollama is not reachable");
      return { status: "degraded", latencyMs, detail: `${this.#where()}: ${why}`, warmModels };
    } catch (err) {
      const error = err instanceof HermesError ? err : this.#error("TALOS_UNAVAILABLE", describe(err));
      return {
        status: "unhealthy",
        latencyMs: performance.now() - started,
        detail: error.userAction ? `${error.message} (${error.userAction})` : error.message,
      };
    }
  }

  async models(signal?: AbortSignal): Promise<ModelInfo[]> {
    let data: z.infer<typeof ModelsResponseSchema>;
    try {
      ({ data } = await this.#request("GET", "/agent/models", ModelsResponseSchema, {
        signal,
        timeoutMs: PROBE_TIMEOUT_MS,
      }));
    } catch (err) {
      if (err instanceof HermesError) throw err;
      throw this.#error("CANCELLED", "model listing was cancelled", { retryable: false, cause: err });
    }
    return data.models.map((m) => ({
      name: m.name,
      sizeBytes: m.size_bytes,
      family: m.family || undefined,
      capabilities: m.capabilities,
    }));
  }

  // ---- one run's steps -----------------------------------------------------------------------

  #executeBody(jobId: string, request: RunRequest, timeoutMs: number): ExecuteRequest {
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

  /**
   * POST /agent/execute; returns when the job was accepted (performance.now()). `tolerateDown`: the
   * agent is known to be restarting, so connection failures are retried within the grace period.
   */
  async #submit(body: ExecuteRequest, signal: AbortSignal, tolerateDown: boolean): Promise<number> {
    const since = performance.now();
    let wait = this.#pollMs;
    for (;;) {
      try {
        await this.#request("POST", "/agent/execute", ExecuteResponseSchema, { signal, body });
        return performance.now();
      } catch (err) {
        const transient = err instanceof HermesError && unreachable.has(err);
        if (!tolerateDown || !transient || performance.now() - since > this.#graceMs) throw err;
        await sleep(wait, undefined, { signal });
        wait = Math.min(this.#maxPollMs, wait * POLL_BACKOFF);
      }
    }
  }

  async #poll(jobId: string, textFrom: number, signal: AbortSignal): Promise<Poll> {
    const path = `/agent/status/${encodeURIComponent(jobId)}?text_from=${textFrom}`;
    const answer = await this.#request("GET", path, StatusResponseSchema, { signal, allow404: true });
    if (answer.status === 404) return { kind: "lost", why: "Talos no longer knows it (restarted?)" };
    return { kind: "status", status: answer.data as StatusResponse };
  }

  #result(s: StatusResponse, request: RunRequest, started: number, acceptedAt: number): RunResult {
    const r = s.result;
    if (!r)
      throw this.#error("BACKEND_ERROR", "sent a completed status without a result", { retryable: true });
    const latencyMs = performance.now() - started;
    const firstTokenMs =
      r.first_token_ms === undefined
        ? undefined
        : Math.min(latencyMs, acceptedAt - started + r.first_token_ms);
    return {
      text: r.text,
      model: r.model || request.model,
      usage: { inputTokens: r.usage.input_tokens, outputTokens: r.usage.output_tokens },
      latencyMs,
      firstTokenMs,
    };
  }

  /** A job that ended on the agent without a result → the error Hermes' queue acts on. */
  #jobFailure(s: StatusResponse, model: string): HermesError {
    const e: JobError = s.error ?? { code: "UNKNOWN", message: `job ended as ${s.status}` };
    const what = `job ${s.job_id}: ${e.message}`;
    if (s.status === "timeout" || e.code === "TIMEOUT") {
      return this.#error("TIMEOUT", `timed out ${what}`, { retryable: true, details: e.code });
    }
    switch (e.code) {
      case "MODEL_NOT_FOUND":
        return this.#error("BACKEND_ERROR", `does not have the model "${model}" (${e.message})`, {
          retryable: false,
          details: e.code,
          userAction: `run \`ollama pull ${model}\` on the Talos machine, or pick an installed model`,
        });
      case "OLLAMA_UNAVAILABLE":
        return this.#error("TALOS_UNAVAILABLE", `cannot reach its Ollama (${e.message})`, {
          retryable: true,
          details: e.code,
          userAction: "start Ollama on the Talos machine (`ollama serve` or the Ollama app)",
        });
      case "SHUTDOWN":
        return this.#error("TALOS_UNAVAILABLE", `is shutting down (${what})`, {
          retryable: true,
          details: e.code,
        });
      default:
        return this.#error("BACKEND_ERROR", `failed ${what}`, { retryable: true, details: e.code });
    }
  }

  #cancelQuietly(jobId: string): void {
    this.#request("POST", `/agent/cancel/${encodeURIComponent(jobId)}`, CancelResponseSchema, {
      timeoutMs: CANCEL_TIMEOUT_MS,
      allow404: true,
    }).catch(() => undefined); // best effort: the agent's own job timeout ends it otherwise
  }

  // ---- transport -----------------------------------------------------------------------------

  /**
   * One HTTP call with its own deadline. Connection-level failures are TALOS_UNAVAILABLE (marked
   * `unreachable`); HTTP errors are mapped from the agent's error body; a 2xx body must match
   * `schema`. With `allow404` a 404 returns `{status: 404, data: undefined}`.
   */
  async #request<S extends z.ZodType>(
    method: "GET" | "POST",
    path: string,
    schema: S,
    opts: { signal?: AbortSignal | undefined; body?: unknown; timeoutMs?: number; allow404?: boolean },
  ): Promise<Answer<z.infer<S>>> {
    const deadline = AbortSignal.timeout(opts.timeoutMs ?? this.#requestTimeoutMs);
    const signal = opts.signal ? AbortSignal.any([opts.signal, deadline]) : deadline;
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.#token}`,
      accept: "application/json",
    };
    if (opts.body !== undefined) headers["content-type"] = "application/json";
    let res: Response;
    let text: string;
    try {
      res = await fetch(`${this.#url}${path}`, {
        method,
        headers,
        ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }),
        signal,
      });
      text = await res.text();
    } catch (err) {
      if (opts.signal?.aborted) throw err; // the run's guard decides what that means
      if (deadline.aborted) {
        throw this.#unreachable(
          `did not answer ${method} ${stripQuery(path)} within ${opts.timeoutMs ?? this.#requestTimeoutMs} ms`,
          err,
        );
      }
      const code = networkCode(err);
      throw this.#unreachable(`cannot be reached (${code ?? describe(err)})`, err);
    }

    if (res.ok) {
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch (err) {
        throw this.#malformed(`${method} ${stripQuery(path)} answered with invalid JSON`, err);
      }
      const parsed = schema.safeParse(json);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const where = issue ? `${issue.path.join(".") || "body"}: ${issue.message}` : "invalid body";
        throw this.#malformed(
          `${method} ${stripQuery(path)} answered out of protocol (${where})`,
          parsed.error,
        );
      }
      return { status: res.status, data: parsed.data as z.infer<S>, headers: res.headers };
    }

    if (res.status === 404 && opts.allow404) {
      return { status: 404, data: undefined as z.infer<S>, headers: res.headers };
    }
    throw this.#httpError(res, text, `${method} ${stripQuery(path)}`);
  }

  #httpError(res: Response, text: string, what: string): HermesError {
    let body: ErrorBody["error"] | undefined;
    try {
      const parsed = ErrorBodySchema.safeParse(JSON.parse(text));
      if (parsed.success) body = parsed.data.error;
    } catch {
      // not our error body (a proxy in between?)
    }
    const said = body
      ? `${body.code}: ${body.message}${body.field ? ` (field ${body.field})` : ""}`
      : `HTTP ${res.status}`;
    const details = `HTTP ${res.status} on ${what}: ${said}`;
    if (res.status === 401 || res.status === 403) {
      return this.#error("BACKEND_ERROR", `refused our token (HTTP ${res.status})`, {
        retryable: false,
        details,
        userAction: TOKEN_ACTION,
      });
    }
    if (res.status === 503 || res.status === 502) {
      const retryAfter = parseRetryAfter(res.headers) ?? body?.retry_after;
      const why = body?.message ?? `HTTP ${res.status}`;
      const error = this.#error("TALOS_UNAVAILABLE", `cannot take the job now (${why})`, {
        retryable: true,
        retryAfter: retryAfter === undefined ? undefined : Math.ceil(retryAfter),
        details,
      });
      // A stopping agent is about to be unreachable; a job already accepted waits for it like one.
      if (body?.code === "SHUTDOWN") unreachable.add(error);
      return error;
    }
    if (res.status >= 500) {
      return this.#error("BACKEND_ERROR", `failed with HTTP ${res.status} on ${what}`, {
        retryable: true,
        details,
      });
    }
    return this.#error("BACKEND_ERROR", `rejected ${what} (${said})`, { retryable: false, details });
  }

  #unreachable(reason: string, cause: unknown): HermesError {
    const error = this.#error("TALOS_UNAVAILABLE", reason, {
      retryable: true,
      cause,
      userAction: `check that Talos is running (pm2 or launchd) and that ${safeHost(this.#url)} is reachable over Tailscale`,
    });
    unreachable.add(error);
    return error;
  }

  #malformed(reason: string, cause: unknown): HermesError {
    return this.#error("BACKEND_ERROR", `sent a broken answer: ${reason}`, { retryable: true, cause });
  }

  #where(): string {
    return `${this.name} at ${safeHost(this.#url)}`;
  }

  /** Every message names the backend and its host, and never contains the token. */
  #error(code: HermesError["code"], message: string, opts: HermesErrorOptions = {}): HermesError {
    const secrets = [this.#token];
    return new HermesError(code, scrub(`${this.#where()} ${message}`, secrets), {
      ...opts,
      details: opts.details === undefined ? undefined : scrub(opts.details, secrets),
    });
  }
}

function stripQuery(path: string): string {
  const i = path.indexOf("?");
  return i === -1 ? path : path.slice(0, i);
}

function describe(err: unknown): string {
  if (err instanceof Error)
    return err.cause instanceof Error ? `${err.message}: ${err.cause.message}` : err.message;
  return String(err);
}
