/**
 * Any OpenAI-compatible chat API through the `openai` package: OpenRouter, OpenAI itself, and
 * self-hosted servers (vLLM, llama.cpp server, LM Studio). Streaming chat completions with usage,
 * GET /models for health and the model list. Failures become HermesError in ../http/errors.ts;
 * the request body and the streamed answer are stream.ts.
 *
 * The package is configured so that Hermes owns every decision: no retries (`maxRetries: 0`), no
 * settings read from the environment (it would pick up OPENAI_API_KEY / OPENAI_ORG_ID and send them
 * to whatever server this backend points at), no console logging.
 */
import type OpenAI from "openai";
import type { ClientOptions } from "openai";

/** The SDK is loaded on first use: a Hermes without an OpenAI-compatible backend never pays its memory. */
type OpenAIModule = typeof import("openai");

import type { Backend, HealthReport, ModelInfo, RunProgress, RunRequest, RunResult } from "../backend.ts";
import {
  CallGuard,
  type CallState,
  cancelledError,
  classifyFailure,
  connectionError,
  type FailureContext,
  httpStatusError,
  timeoutError,
} from "../http/errors.ts";
import { completionBody, type OpenAIProvider, readCompletionStream } from "./stream.ts";

export type { OpenAIProvider } from "./stream.ts";

export interface OpenAIBackendOptions {
  name: string;
  /** API root, e.g. "https://openrouter.ai/api/v1", "http://gpu-box:8000/v1". */
  baseURL: string;
  /** Bearer key; omit for a self-hosted server without auth (no Authorization header is sent). */
  apiKey?: string;
  provider: OpenAIProvider;
  /** True for self-hosted vLLM / llama.cpp / LM Studio: calls cost nothing. */
  local?: boolean;
  /** OpenRouter attribution: `HTTP-Referer`. */
  appUrl?: string;
  /** OpenRouter attribution: `X-Title` (default "Hermes"). */
  appTitle?: string;
  /** Deadline of a run when the request sets none. */
  defaultTimeoutMs?: number;
  /** Transport override (tests, proxies). */
  fetch?: typeof fetch;
}

const DEFAULT_TIMEOUT_MS = 5 * 60_000;
const PROBE_TIMEOUT_MS = 5_000;

export class OpenAIBackend implements Backend {
  readonly name: string;
  readonly kind = "openai" as const;
  readonly local: boolean;
  readonly provider: OpenAIProvider;
  readonly #clientOptions: ClientOptions;
  #sdk: Promise<{ client: OpenAI; mod: OpenAIModule }> | undefined;
  #mod: OpenAIModule | undefined;
  readonly #baseURL: string;
  readonly #apiKey: string | undefined;
  readonly #defaultTimeoutMs: number;

  constructor(opts: OpenAIBackendOptions) {
    this.name = opts.name;
    this.provider = opts.provider;
    this.local = opts.local ?? false;
    this.#baseURL = opts.baseURL.replace(/\/+$/, "");
    this.#apiKey = opts.apiKey || undefined;
    this.#defaultTimeoutMs = opts.defaultTimeoutMs ?? DEFAULT_TIMEOUT_MS;

    const headers: Record<string, string | null> = {};
    if (opts.provider === "openrouter") {
      if (opts.appUrl) headers["HTTP-Referer"] = opts.appUrl;
      headers["X-Title"] = opts.appTitle ?? "Hermes";
    }
    // The package insists on a key; a keyless server gets a placeholder whose header is then removed.
    if (!this.#apiKey) headers.Authorization = null;
    this.#clientOptions = {
      apiKey: this.#apiKey ?? "no-key",
      adminAPIKey: null,
      organization: null,
      project: null,
      baseURL: this.#baseURL,
      maxRetries: 0,
      timeout: this.#defaultTimeoutMs,
      defaultHeaders: headers,
      logLevel: "off",
      ...(opts.fetch ? { fetch: opts.fetch } : {}),
    };
  }

  #load(): Promise<{ client: OpenAI; mod: OpenAIModule }> {
    this.#sdk ??= import("openai").then((mod) => {
      this.#mod = mod;
      return { client: new mod.default(this.#clientOptions), mod };
    });
    return this.#sdk;
  }

  async run(
    request: RunRequest,
    signal: AbortSignal,
    onProgress?: (p: RunProgress) => void,
  ): Promise<RunResult> {
    // Loaded before the deadline starts: a cold import (~400 ms) is start-up, not the server's time.
    const { client } = await this.#load();
    const started = performance.now();
    const ctx = this.#ctx(request.model);
    const timeoutMs = request.timeoutMs ?? this.#defaultTimeoutMs;
    const guard = new CallGuard(signal, timeoutMs);
    const body = completionBody(this.provider, request);
    const work = async (): Promise<RunResult> => {
      const stream = await client.chat.completions.create(body, {
        signal: guard.signal,
        timeout: timeoutMs,
      });
      guard.state.responseStarted = true;
      return readCompletionStream(stream, request, ctx, guard, started, onProgress);
    };

    try {
      return await guard.race(work());
    } catch (err) {
      throw this.#fail(ctx, err, guard.state);
    } finally {
      guard.dispose();
    }
  }

  async health(signal?: AbortSignal): Promise<HealthReport> {
    const { client } = await this.#load();
    const started = performance.now();
    const guard = new CallGuard(signal, PROBE_TIMEOUT_MS);
    try {
      await guard.race(client.models.list({ signal: guard.signal, timeout: PROBE_TIMEOUT_MS }));
      return { status: "healthy", latencyMs: performance.now() - started };
    } catch (err) {
      const error = this.#fail(this.#ctx(), err, guard.state);
      return { status: "unhealthy", latencyMs: performance.now() - started, detail: error.message };
    } finally {
      guard.dispose();
    }
  }

  async models(signal?: AbortSignal): Promise<ModelInfo[]> {
    const { client } = await this.#load();
    const guard = new CallGuard(signal, PROBE_TIMEOUT_MS);
    try {
      const page = await guard.race(client.models.list({ signal: guard.signal, timeout: PROBE_TIMEOUT_MS }));
      return page.data.map((m) => ({ name: m.id, capabilities: capabilitiesOf(m) }));
    } catch (err) {
      throw this.#fail(this.#ctx(), err, guard.state);
    } finally {
      guard.dispose();
    }
  }

  #ctx(model?: string): FailureContext {
    return { backend: this.name, kind: this.kind, host: this.#baseURL, model, secrets: [this.#apiKey] };
  }

  /** The package's error classes → the shared mapping (its APIError objects are never kept as cause). */
  #fail(ctx: FailureContext, err: unknown, state: CallState) {
    const mod = this.#mod;
    if (!mod) return classifyFailure(ctx, err, state);
    const { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } = mod;
    if (!state.cancelled && !state.timedOut && err instanceof APIError) {
      if (err instanceof APIConnectionTimeoutError) return timeoutError(ctx, state.timeoutMs);
      if (err instanceof APIUserAbortError) return cancelledError(ctx);
      if (err instanceof APIConnectionError) return connectionError(ctx, err, state.responseStarted);
      const serverMessage = (err.error as { message?: unknown } | undefined)?.message;
      const message = typeof serverMessage === "string" ? serverMessage : err.message;
      if (typeof err.status === "number")
        return httpStatusError(ctx, err.status, { message, headers: err.headers });
      // An error event inside the stream (status undefined): the server gave up mid-answer.
      return classifyFailure(ctx, new Error(message), state);
    }
    return classifyFailure(ctx, err, state);
  }
}

/** What OpenRouter's model list tells about a model; plain OpenAI lists say nothing. */
function capabilitiesOf(model: object): string[] | undefined {
  const m = model as { supported_parameters?: unknown; architecture?: { input_modalities?: unknown } };
  const params = Array.isArray(m.supported_parameters) ? m.supported_parameters : [];
  const inputs = Array.isArray(m.architecture?.input_modalities) ? m.architecture.input_modalities : [];
  const caps: string[] = [];
  if (params.includes("tools")) caps.push("tools");
  if (params.includes("reasoning")) caps.push("reasoning");
  if (inputs.includes("image")) caps.push("vision");
  return caps.length > 0 ? caps : undefined;
}
