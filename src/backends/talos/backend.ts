/**
 * Talos, the execution agent beside Ollama on another machine (agent/), reached over Tailscale.
 * A run submits the job (POST /agent/execute, job_id = the Hermes job id), then polls its status
 * (250 ms, backing off ×1.5 to 2 s) until it is final, reporting progress on the way. The wire
 * format is agent/protocol.ts; every answer is checked against it.
 *
 * Failure rules (HermesError, see ../http/errors.ts for the shared helpers):
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
import type { z } from "zod";
import type { ModelsResponseSchema } from "../../../agent/protocol.ts";
import { HermesError } from "../../errors.ts";
import type { Backend, HealthReport, ModelInfo, RunProgress, RunRequest, RunResult } from "../backend.ts";
import { TalosClient } from "./client.ts";
import { describe, TalosErrors } from "./errors.ts";
import { runTalosJob, type TalosRunContext } from "./stream.ts";

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
const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
const DEFAULT_TIMEOUT_MS = 60 * 60_000;
const DEFAULT_RECONNECT_GRACE_MS = 30_000;
const PROBE_TIMEOUT_MS = 5_000;

/**
 * The Backend face of Talos; the submit-and-poll loop (its streamed answer) is stream.ts, HTTP
 * client.ts, errors errors.ts.
 */
export class TalosBackend implements Backend {
  readonly name: string;
  readonly kind = "talos" as const;
  readonly local = true;
  readonly #errors: TalosErrors;
  readonly #client: TalosClient;
  readonly #run: TalosRunContext;

  constructor(opts: TalosBackendOptions) {
    this.name = opts.name;
    const url = opts.url.replace(/\/+$/, "");
    const pollMs = Math.max(1, opts.pollIntervalMs ?? DEFAULT_POLL_MS);
    const maxPollMs = Math.max(pollMs, opts.maxPollIntervalMs ?? MAX_POLL_MS);
    const graceMs = opts.reconnectGraceMs ?? DEFAULT_RECONNECT_GRACE_MS;
    this.#errors = new TalosErrors(opts.name, url, opts.token);
    this.#client = new TalosClient({
      url,
      token: opts.token,
      requestTimeoutMs: opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
      pollMs,
      maxPollMs,
      graceMs,
      errors: this.#errors,
    });
    this.#run = {
      client: this.#client,
      errors: this.#errors,
      pollMs,
      maxPollMs,
      graceMs,
      defaultTimeoutMs: opts.defaultTimeoutMs ?? DEFAULT_TIMEOUT_MS,
    };
  }

  run(request: RunRequest, signal: AbortSignal, onProgress?: (p: RunProgress) => void): Promise<RunResult> {
    return runTalosJob(this.#run, request, signal, onProgress);
  }

  async health(signal?: AbortSignal): Promise<HealthReport> {
    const started = performance.now();
    try {
      const { data } = await this.#client.request("GET", "/agent/health", (p) => p.HealthResponseSchema, {
        signal,
        timeoutMs: PROBE_TIMEOUT_MS,
      });
      const latencyMs = performance.now() - started;
      const warmModels = data.ollama.loaded_models;
      if (data.status === "ok") return { status: "healthy", latencyMs, warmModels };
      const why =
        data.reasons?.join("; ") || (data.ollama.reachable ? "degraded" : "Ollama is not reachable");
      return { status: "degraded", latencyMs, detail: `${this.#errors.where()}: ${why}`, warmModels };
    } catch (err) {
      const error = err instanceof HermesError ? err : this.#errors.error("TALOS_UNAVAILABLE", describe(err));
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
      ({ data } = await this.#client.request("GET", "/agent/models", (p) => p.ModelsResponseSchema, {
        signal,
        timeoutMs: PROBE_TIMEOUT_MS,
      }));
    } catch (err) {
      if (err instanceof HermesError) throw err;
      throw this.#errors.error("CANCELLED", "model listing was cancelled", { retryable: false, cause: err });
    }
    return data.models.map((m) => ({
      name: m.name,
      sizeBytes: m.size_bytes,
      family: m.family || undefined,
      capabilities: m.capabilities,
    }));
  }
}
