/**
 * A local Ollama server through the `ollama` package: streaming /api/chat, /api/version + /api/ps
 * for health, /api/tags for models. Failures become HermesError in ../http/errors.ts;
 * the streamed answer is read in stream.ts.
 *
 * Each call gets its own (cheap) client whose `fetch` carries the call's abort signal: the package
 * only creates its stream's AbortController after the response headers arrive, so without this a
 * server that never answers could not be interrupted. The same fetch keeps the headers of error
 * responses (the package's ResponseError drops them; Retry-After lives there) and checks every
 * NDJSON line, because the package skips unparseable lines with a console warning. Underneath is
 * ../http/node-fetch.ts (node:http, keep-alive, one per backend) rather than the global fetch:
 * undici's per-call and per-chunk machinery cost about as much CPU as the rest of a call, and the
 * line check runs as the bytes arrive instead of in a TransformStream behind them.
 */
import { type AbortableAsyncIterator, type ChatResponse, Ollama } from "ollama";
import type { Backend, HealthReport, ModelInfo, RunProgress, RunRequest, RunResult } from "../backend.ts";
import {
  CallGuard,
  type CallState,
  classifyFailure,
  type FailureContext,
  type HeaderLookup,
  protocolError,
} from "../http/errors.ts";
import { type NodeFetch, nodeFetch } from "../http/node-fetch.ts";
import { chatOptions, malformedLine, ndjsonLineShape, readChatStream } from "./stream.ts";

export interface OllamaBackendOptions {
  name: string;
  /** e.g. "http://127.0.0.1:11434". */
  host: string;
  /** How long Ollama keeps the model loaded after a call: seconds, or a duration like "10m"; -1 = forever. */
  keepAlive?: string | number;
  /** Deadline of a run when the request sets none. */
  defaultTimeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 5 * 60_000;
/** Health and model-list calls: a reachability probe, not work. */
const PROBE_TIMEOUT_MS = 5_000;

interface Transport {
  client: Ollama;
  /** Headers of the last non-2xx response, which the package's ResponseError does not keep. */
  errorHeaders(): HeaderLookup | undefined;
  /** The non-blank lines of the streamed answer so far: readChatStream gets one part for each. */
  lines(): number;
}

export class OllamaBackend implements Backend {
  readonly name: string;
  readonly kind = "ollama" as const;
  readonly local = true;
  readonly #host: string;
  readonly #keepAlive: string | number | undefined;
  readonly #defaultTimeoutMs: number;
  /** One per backend: its keep-alive connections serve every call. */
  readonly #fetch: NodeFetch = nodeFetch();

  constructor(opts: OllamaBackendOptions) {
    this.name = opts.name;
    this.#host = opts.host.replace(/\/+$/, "");
    this.#keepAlive = opts.keepAlive;
    this.#defaultTimeoutMs = opts.defaultTimeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  async run(
    request: RunRequest,
    signal: AbortSignal,
    onProgress?: (p: RunProgress) => void,
  ): Promise<RunResult> {
    const started = performance.now();
    const ctx = this.#ctx(request.model);
    const guard = new CallGuard(signal, request.timeoutMs ?? this.#defaultTimeoutMs);
    const transport = this.#transport(ctx, guard.signal);
    let stream: AbortableAsyncIterator<ChatResponse> | undefined;
    const stopStream = () => stream?.abort();
    guard.signal.addEventListener("abort", stopStream, { once: true });

    const work = async (): Promise<RunResult> => {
      stream = await transport.client.chat({
        model: request.model,
        messages: request.messages.map((m) => ({
          role: m.role,
          content: m.content,
          ...(m.images?.length ? { images: [...m.images] } : {}),
        })),
        stream: true,
        options: chatOptions(request),
        ...(request.responseFormat ? { format: request.responseFormat.schema } : {}),
        ...(this.#keepAlive === undefined ? {} : { keep_alive: this.#keepAlive }),
      });
      guard.state.responseStarted = true;
      if (guard.signal.aborted) stream.abort();
      return readChatStream(stream, request, { ctx, guard, started, lines: transport.lines }, onProgress);
    };

    try {
      return await guard.race(work());
    } catch (err) {
      throw this.#fail(ctx, err, guard.state, transport);
    } finally {
      guard.signal.removeEventListener("abort", stopStream);
      guard.dispose();
    }
  }

  async health(signal?: AbortSignal): Promise<HealthReport> {
    const started = performance.now();
    const ctx = this.#ctx();
    const guard = new CallGuard(signal, PROBE_TIMEOUT_MS);
    const transport = this.#transport(ctx, guard.signal);
    try {
      const reachable = transport.client.version().then(() => performance.now() - started);
      // /api/ps is a nicety (which models answer fastest); reachability is /api/version's job.
      const loaded = transport.client.ps().then(
        (ps) => ps.models.map((m) => m.name),
        () => undefined,
      );
      const [latencyMs, warmModels] = await guard.race(Promise.all([reachable, loaded]));
      return { status: "healthy", latencyMs, warmModels };
    } catch (err) {
      const error = this.#fail(ctx, err, guard.state, transport);
      return { status: "unhealthy", latencyMs: performance.now() - started, detail: error.message };
    } finally {
      guard.dispose();
    }
  }

  async models(signal?: AbortSignal): Promise<ModelInfo[]> {
    const ctx = this.#ctx();
    const guard = new CallGuard(signal, PROBE_TIMEOUT_MS);
    const transport = this.#transport(ctx, guard.signal);
    try {
      const list = await guard.race(transport.client.list());
      return list.models.map((m) => {
        const caps = (m as { capabilities?: unknown }).capabilities; // newer servers list them
        return {
          name: m.name,
          sizeBytes: m.size,
          family: m.details?.family || undefined,
          capabilities: Array.isArray(caps)
            ? caps.filter((c): c is string => typeof c === "string")
            : undefined,
        };
      });
    } catch (err) {
      throw this.#fail(ctx, err, guard.state, transport);
    } finally {
      guard.dispose();
    }
  }

  #ctx(model?: string): FailureContext {
    return { backend: this.name, kind: this.kind, host: this.#host, model };
  }

  #fail(ctx: FailureContext, err: unknown, state: CallState, transport: Transport) {
    // The package's own words for a stream without its final `done` line.
    if (
      !state.cancelled &&
      !state.timedOut &&
      err instanceof Error &&
      /did not receive done/i.test(err.message)
    ) {
      return protocolError(ctx, "stream ended early", err);
    }
    return classifyFailure(ctx, err, state, transport.errorHeaders());
  }

  #transport(ctx: FailureContext, signal: AbortSignal): Transport {
    let errorHeaders: Headers | undefined;
    let lines = 0;
    const checkNdjsonLine = (line: string) => {
      const shape = ndjsonLineShape(line);
      if (shape === "object") lines++;
      return shape === "bad" ? malformedLine(ctx) : undefined;
    };
    const guardedFetch: typeof fetch = async (input, init) => {
      const res = await this.#fetch(input, init, { signal, checkNdjsonLine });
      if (!res.ok) errorHeaders = res.headers;
      return res;
    };
    return {
      client: new Ollama({ host: this.#host, fetch: guardedFetch }),
      errorHeaders: () => errorHeaders,
      lines: () => lines,
    };
  }
}
