/**
 * Talos' only collaborator: the Ollama server on this machine. Chat streams through the `ollama`
 * package; the cheap probes (version, loaded models, model list) are plain fetches with a short
 * deadline. Ollama failures become a job error code here, in one place.
 */
import { Ollama } from "ollama";
import type { JobError, ModelEntry, TalosMessage } from "./protocol.ts";

export interface ChatStreamRequest {
  model: string;
  messages: TalosMessage[];
  options?: Record<string, unknown> | undefined;
  keepAlive?: string | number | undefined;
  /** Structured output: a JSON schema, passed to Ollama as `format`. */
  format?: Record<string, unknown> | undefined;
}

/** One streamed piece of an answer; the last one has `done` and Ollama's counts. */
export interface ChatPart {
  text: string;
  done: boolean;
  model?: string | undefined;
  promptTokens?: number | undefined;
  evalTokens?: number | undefined;
}

export interface OllamaProbe {
  reachable: boolean;
  latency_ms: number;
  version?: string | undefined;
  loaded_models?: string[] | undefined;
  error?: string | undefined;
}

/** What the job table needs: a chat stream that stops when `signal` aborts. */
export interface ChatPort {
  chat(request: ChatStreamRequest, signal: AbortSignal): AsyncIterable<ChatPart>;
}

/** What the server needs besides chat. */
export interface OllamaInfoPort {
  readonly url: string;
  probe(signal?: AbortSignal): Promise<OllamaProbe>;
  models(signal?: AbortSignal): Promise<ModelEntry[]>;
}

const PROBE_TIMEOUT_MS = 3_000;
const SHOW_CONCURRENCY = 4;

export class OllamaGateway implements ChatPort, OllamaInfoPort {
  readonly url: string;
  /** /api/show answers by digest: a model's capabilities change only when its digest does. */
  readonly #capabilities = new Map<string, string[]>();

  constructor(url: string) {
    this.url = url.replace(/\/+$/, "");
  }

  async *chat(request: ChatStreamRequest, signal: AbortSignal): AsyncIterable<ChatPart> {
    // The package only creates its own AbortController once response headers arrive; a fetch that
    // carries the job's signal also stops a request Ollama never answers (model still loading).
    // The package's errors carry no headers: keep a busy Ollama's Retry-After for the job's error.
    let retryAfter: number | undefined;
    const client = new Ollama({
      host: this.url,
      fetch: async (input, init) => {
        const res = await fetch(input, {
          ...init,
          signal: init?.signal ? AbortSignal.any([init.signal, signal]) : signal,
        });
        if (res.status === 429 || res.status === 503) retryAfter = retryAfterSeconds(res.headers);
        return res;
      },
    });
    signal.throwIfAborted();
    const stream = await client
      .chat({
        model: request.model,
        messages: request.messages,
        stream: true,
        ...(request.options ? { options: request.options } : {}),
        ...(request.format ? { format: request.format } : {}),
        ...(request.keepAlive === undefined ? {} : { keep_alive: request.keepAlive }),
      })
      .catch((err: unknown) => {
        if (retryAfter !== undefined && typeof err === "object" && err !== null)
          Object.assign(err, { retry_after: retryAfter });
        throw err;
      });
    let finished = false;
    try {
      for await (const part of stream) {
        yield {
          text: part.message?.content ?? "",
          done: part.done === true,
          model: part.model,
          promptTokens: part.prompt_eval_count,
          evalTokens: part.eval_count,
        };
        if (part.done) finished = true;
      }
    } finally {
      if (!finished) stream.abort();
    }
  }

  async probe(signal?: AbortSignal): Promise<OllamaProbe> {
    const started = performance.now();
    try {
      const [version, ps] = await Promise.all([
        this.#get("/api/version", signal) as Promise<{ version?: unknown }>,
        (this.#get("/api/ps", signal) as Promise<{ models?: { name?: unknown }[] }>).catch(() => undefined),
      ]);
      return {
        reachable: true,
        latency_ms: Math.round(performance.now() - started),
        version: typeof version.version === "string" ? version.version : undefined,
        loaded_models: ps?.models?.flatMap((m) => (typeof m.name === "string" ? [m.name] : [])),
      };
    } catch (err) {
      return {
        reachable: false,
        latency_ms: Math.round(performance.now() - started),
        error: describeOllamaError(err),
      };
    }
  }

  async models(signal?: AbortSignal): Promise<ModelEntry[]> {
    const tags = (await this.#get("/api/tags", signal)) as { models?: unknown };
    const list = Array.isArray(tags.models) ? (tags.models as RawModel[]) : [];
    const entries = list.filter((m) => typeof m.name === "string");
    const out: ModelEntry[] = entries.map((m) => ({
      name: m.name as string,
      size_bytes: typeof m.size === "number" ? m.size : 0,
      family: typeof m.details?.family === "string" ? m.details.family : "",
      parameter_size: typeof m.details?.parameter_size === "string" ? m.details.parameter_size : "",
      capabilities: [],
    }));
    // Capabilities come from /api/show, one call per model: cached by digest, a few at a time, and
    // a model whose show fails simply lists none.
    for (let i = 0; i < entries.length; i += SHOW_CONCURRENCY) {
      await Promise.all(
        entries.slice(i, i + SHOW_CONCURRENCY).map(async (m, j) => {
          const entry = out[i + j];
          if (entry) entry.capabilities = await this.#capabilitiesOf(m, signal);
        }),
      );
    }
    return out;
  }

  async #capabilitiesOf(m: RawModel, signal?: AbortSignal): Promise<string[]> {
    const key = `${String(m.name)}@${typeof m.digest === "string" ? m.digest : ""}`;
    const cached = this.#capabilities.get(key);
    if (cached) return cached;
    try {
      const show = (await this.#post("/api/show", { model: m.name }, signal)) as { capabilities?: unknown };
      const caps = Array.isArray(show.capabilities)
        ? show.capabilities.filter((c): c is string => typeof c === "string")
        : [];
      this.#capabilities.set(key, caps);
      return caps;
    } catch {
      return [];
    }
  }

  #get(path: string, signal?: AbortSignal): Promise<unknown> {
    return this.#request(path, { method: "GET" }, signal);
  }

  #post(path: string, body: unknown, signal?: AbortSignal): Promise<unknown> {
    return this.#request(
      path,
      { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } },
      signal,
    );
  }

  async #request(path: string, init: RequestInit, signal?: AbortSignal): Promise<unknown> {
    const deadline = AbortSignal.timeout(PROBE_TIMEOUT_MS);
    const res = await fetch(`${this.url}${path}`, {
      ...init,
      signal: signal ? AbortSignal.any([signal, deadline]) : deadline,
    });
    if (!res.ok) {
      const text = await res.text().catch(() => "");
      throw Object.assign(new Error(ollamaErrorText(text) || `HTTP ${res.status}`), {
        status_code: res.status,
      });
    }
    return res.json();
  }
}

interface RawModel {
  name?: unknown;
  size?: unknown;
  digest?: unknown;
  details?: { family?: unknown; parameter_size?: unknown };
}

function ollamaErrorText(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: unknown };
    if (typeof parsed.error === "string") return parsed.error;
  } catch {
    // not JSON
  }
  return body.slice(0, 200);
}

// ---- failures ----------------------------------------------------------------------------------

const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EPIPE",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
]);

function networkCode(err: unknown): string | undefined {
  let cur: unknown = err;
  for (let depth = 0; depth < 6 && typeof cur === "object" && cur !== null; depth++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === "string" && NETWORK_CODES.has(code)) return code;
    const errors = (cur as { errors?: unknown }).errors;
    if (Array.isArray(errors)) for (const e of errors) if (networkCode(e)) return networkCode(e);
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}

function describeOllamaError(err: unknown): string {
  const code = networkCode(err);
  if (code) return `cannot reach Ollama (${code})`;
  if (err instanceof Error && err.name === "TimeoutError") return "Ollama did not answer in time";
  if (err instanceof Error)
    return err.cause instanceof Error ? `${err.message}: ${err.cause.message}` : err.message;
  return String(err);
}

/** Retry-After in seconds (delta-seconds or an HTTP date), or undefined. */
function retryAfterSeconds(headers: Headers): number | undefined {
  const raw = headers.get("retry-after")?.trim();
  if (!raw) return undefined;
  if (/^\d+$/.test(raw)) return Number(raw);
  const at = Date.parse(raw);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

/** Anything the Ollama call threw → the job's error. */
export function classifyOllamaError(err: unknown): JobError {
  const { status_code: status, retry_after: retryAfter } =
    typeof err === "object" && err !== null
      ? (err as { status_code?: unknown; retry_after?: unknown })
      : { status_code: undefined, retry_after: undefined };
  const message = describeOllamaError(err).slice(0, 500);
  if (typeof status === "number") {
    if (status === 404 || (status === 400 && /model .*not found/i.test(message))) {
      return { code: "MODEL_NOT_FOUND", message };
    }
    if (status === 429 || status === 503)
      return {
        code: "OLLAMA_BUSY",
        message,
        ...(typeof retryAfter === "number" ? { retry_after: retryAfter } : {}),
      };
    return { code: "OLLAMA_ERROR", message: `Ollama answered HTTP ${status}: ${message}` };
  }
  if (networkCode(err) !== undefined) return { code: "OLLAMA_UNAVAILABLE", message };
  if (err instanceof TypeError && /fetch failed/i.test(err.message)) {
    return { code: "OLLAMA_UNAVAILABLE", message: `cannot reach Ollama (${message})` };
  }
  return { code: "OLLAMA_ERROR", message };
}
