// Shared core of the loopback fakes (fake-ollama.ts, fake-openai.ts): listen/stop with socket
// tracking, request bookkeeping, and one completion driver that applies faults, chunk timing and
// client-disconnect accounting. Each protocol only supplies its framing (CompletionFormat) and its
// error body shape (errorBody).

import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from "node:http";
import { createServer } from "node:http";
import type { Socket } from "node:net";

export interface FakeMessage {
  role: string;
  content: string;
}

export interface FakeChatRequest {
  /** URL path the request came in on, e.g. "/api/chat", "/api/generate", "/v1/chat/completions". */
  path: string;
  model: string;
  messages: FakeMessage[];
  /** /api/generate only: the prompt (also mirrored as the last user message). */
  prompt?: string;
  stream: boolean;
  /** Ollama: body.options. OpenAI: every body field except model/messages/stream. */
  options?: Record<string, unknown>;
  keep_alive?: unknown;
  headers: IncomingHttpHeaders;
  /** The whole parsed JSON body, for anything not lifted into the fields above. */
  body: Record<string, unknown>;
  /**
   * Structured output: the JSON schema the answer must match (Ollama `format` object, OpenAI
   * `response_format.json_schema.schema`). Such calls go to the structured responder.
   */
  schema?: Record<string, unknown>;
}

export type FakeFault = "http500" | "http429" | "malformed" | "cut" | "hang" | "slow";

export interface FakeReply {
  /** Whole answer; split into chunks of ~`chunkSize` code points when streaming. */
  text?: string;
  /** Explicit chunks instead of `text`. */
  chunks?: string[];
  /** Chunk size used to split `text` (default 8). */
  chunkSize?: number;
  /** Delay between chunks (real timers; default 0, or 200 with fault "slow"). */
  chunkDelayMs?: number;
  fault?: FakeFault;
  /** With http429 → Retry-After header (seconds). */
  retryAfterSeconds?: number;
  promptTokens?: number;
  evalTokens?: number;
  /** Wait this long (real timers) before the first byte of the answer. */
  delayMs?: number;
}

/** How the fake answers a structured-output call (one that carries a JSON schema). */
export interface StructuredReply {
  /** The answer, serialised with JSON.stringify (ignored when `text` is given). */
  json?: unknown;
  /** The raw answer text, e.g. malformed JSON. */
  text?: string;
  /** Answer after this many ms (real timers). */
  delayMs?: number;
  /** "hang": never answer (until the client goes away); the other faults as for any call. */
  fault?: FakeFault;
}

export type StructuredResponder = (req: FakeChatRequest) => StructuredReply | Promise<StructuredReply>;

/** By default a structured call gets an empty object: valid JSON that fits no real schema. */
export const defaultStructuredResponder: StructuredResponder = () => ({ text: "{}" });

export type FakeResponder = (req: FakeChatRequest) => FakeReply | Promise<FakeReply>;

/** Token counts and timing of one completion, handed to the protocol's framing. */
export interface CompletionStats {
  promptTokens: number;
  evalTokens: number;
  /** process.hrtime.bigint() when the request was accepted. */
  startedNs: bigint;
  /** process.hrtime.bigint() when the first content chunk was written (or the whole answer built). */
  firstChunkNs: bigint;
}

/** How one protocol frames a completion. Every string returned is written verbatim. */
export interface CompletionFormat {
  streamContentType: string;
  /** Written right after the stream's headers (OpenAI: the role chunk). */
  streamStart?(): string;
  streamChunk(text: string): string;
  /** The closing frame(s): Ollama's done line; OpenAI's finish chunk, usage chunk and [DONE]. */
  streamEnd(stats: CompletionStats): string;
  /** The non-streaming body. */
  whole(text: string, stats: CompletionStats): unknown;
  /** A framed line whose payload is not JSON (fault "malformed" while streaming). */
  garbageFrame: string;
  /** Called once the completion was delivered in full. */
  onDone?(): void;
}

export const DEFAULT_SLOW_DELAY_MS = 200;
const DEFAULT_CHUNK_SIZE = 8;

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls `cond` every 5 ms until it holds; rejects after `timeoutMs`. Handy for server-side counters.
 * The default limit is generous: on a busy machine a slow condition must not look like a broken one.
 */
export async function waitUntil(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`waitUntil: condition not met within ${timeoutMs} ms`);
    await sleep(5);
  }
}

export function lastUserMessage(messages: FakeMessage[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (m && m.role === "user") return m.content;
  }
  return "";
}

export const defaultResponder: FakeResponder = (req) => ({ text: `Draft: ${lastUserMessage(req.messages)}` });

/** Splits text into pieces of `size` code points (never splits a surrogate pair). */
export function splitText(text: string, size = DEFAULT_CHUNK_SIZE): string[] {
  const points = Array.from(text);
  const out: string[] = [];
  const step = Math.max(1, Math.floor(size));
  for (let i = 0; i < points.length; i += step) out.push(points.slice(i, i + step).join(""));
  return out;
}

/** Rough token estimate (~4 characters a token), at least 1 for non-empty text. */
export function estimateTokens(text: string): number {
  return text.length === 0 ? 0 : Math.max(1, Math.ceil(text.length / 4));
}

function structuredToReply(r: StructuredReply): FakeReply {
  return {
    text: r.text ?? JSON.stringify(r.json ?? {}),
    ...(r.delayMs === undefined ? {} : { delayMs: r.delayMs }),
    ...(r.fault === undefined ? {} : { fault: r.fault }),
  };
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** One accepted completion request: tracks whether the client went away before we finished. */
interface Exchange {
  closed: boolean;
  /** Resolves when the response closes (finished, client gone, or socket destroyed by us). */
  whenClosed: Promise<void>;
  /** Mark that we are closing the connection on purpose (cut fault), so it is not an abort. */
  serverClosing: boolean;
}

export interface ListenOptions {
  port?: number;
  host?: string;
}

export abstract class FakeServer {
  /** Completion requests without a schema (drafts and the like), in arrival order. */
  readonly requests: FakeChatRequest[] = [];
  /** Structured-output requests (with a schema), kept apart so they never shift `requests`. */
  readonly structuredRequests: FakeChatRequest[] = [];
  #server: Server | undefined;
  #sockets = new Set<Socket>();
  #port = 0;
  #host = "127.0.0.1";
  #responder: FakeResponder = defaultResponder;
  #structured: StructuredResponder = defaultStructuredResponder;
  #inFlight = 0;
  #aborted = 0;
  #stopping = false;
  #open = new Set<Exchange>();

  get port(): number {
    return this.#port;
  }

  /** "http://127.0.0.1:<port>" (no trailing slash). */
  protected get origin(): string {
    const host = this.#host === "0.0.0.0" || this.#host === "::" ? "127.0.0.1" : this.#host;
    return `http://${host.includes(":") ? `[${host}]` : host}:${this.#port}`;
  }

  /** Route one request; `body` is the raw request body. */
  protected abstract handle(req: IncomingMessage, res: ServerResponse, body: Buffer): void | Promise<void>;

  /** The protocol's error body; `message` undefined → the protocol's usual text for that status. */
  protected abstract errorBody(status: number, message?: string): unknown;

  setResponder(fn: FakeResponder): void {
    this.#responder = fn;
  }

  /** How structured-output calls are answered: JSON after N ms, a hang, malformed text… */
  setStructuredResponder(fn: StructuredResponder): void {
    this.#structured = fn;
  }

  /** Records a completion request in `requests`, or in `structuredRequests` when it has a schema. */
  protected record(chat: FakeChatRequest): void {
    (chat.schema ? this.structuredRequests : this.requests).push(chat);
  }

  /** Completion requests accepted and not yet finished or closed. */
  inFlight(): number {
    return this.#inFlight;
  }

  /** Completion requests whose client disconnected before the answer was complete. */
  abortedCount(): number {
    return this.#aborted;
  }

  protected async listen(opts: ListenOptions): Promise<void> {
    this.#host = opts.host ?? "127.0.0.1";
    const server = createServer((req, res) => {
      const parts: Buffer[] = [];
      req.on("data", (c: Buffer) => parts.push(c));
      req.on("error", () => {});
      req.on("end", () => {
        Promise.resolve(this.handle(req, res, Buffer.concat(parts))).catch((err: unknown) => {
          if (!res.headersSent && !res.destroyed) {
            this.sendJson(res, 500, this.errorBody(500, `fake server error: ${String(err)}`));
          } else {
            res.destroy();
          }
        });
      });
    });
    server.on("connection", (socket) => {
      this.#sockets.add(socket);
      socket.on("close", () => this.#sockets.delete(socket));
    });
    server.on("clientError", (_err, socket) => socket.destroy());
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(opts.port ?? 0, this.#host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    const addr = server.address();
    if (addr === null || typeof addr === "string") throw new Error("fake server: no TCP address");
    this.#port = addr.port;
    this.#server = server;
  }

  /** Closes the server and destroys every open socket (streams in progress die at once). */
  async stop(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    this.#stopping = true;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of this.#sockets) s.destroy();
    this.#sockets.clear();
    await closed;
    // Let every in-progress exchange see its 'close' so inFlight() is 0 once stop() resolves.
    await Promise.all([...this.#open].map((ex) => ex.whenClosed));
  }

  protected sendJson(
    res: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ): void {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      "content-type": "application/json; charset=utf-8",
      "content-length": Buffer.byteLength(text),
      ...headers,
    });
    res.end(text);
  }

  protected sendText(res: ServerResponse, status: number, text: string): void {
    res.writeHead(status, {
      "content-type": "text/plain; charset=utf-8",
      "content-length": Buffer.byteLength(text),
    });
    res.end(text);
  }

  /** Parses a JSON object body; on failure answers 400 in the protocol's shape and returns undefined. */
  protected parseBody(res: ServerResponse, body: Buffer): Record<string, unknown> | undefined {
    try {
      const parsed: unknown = JSON.parse(body.toString("utf8") || "null");
      if (isRecord(parsed)) return parsed;
      this.sendJson(res, 400, this.errorBody(400, "request body must be a JSON object"));
    } catch (err) {
      this.sendJson(res, 400, this.errorBody(400, `invalid JSON body: ${(err as Error).message}`));
    }
    return undefined;
  }

  #track(res: ServerResponse): Exchange {
    this.#inFlight++;
    let resolveClosed!: () => void;
    const ex: Exchange = {
      closed: false,
      serverClosing: false,
      whenClosed: new Promise<void>((r) => {
        resolveClosed = r;
      }),
    };
    this.#open.add(ex);
    res.once("close", () => {
      this.#open.delete(ex);
      ex.closed = true;
      this.#inFlight--;
      if (!res.writableFinished && !ex.serverClosing && !this.#stopping) this.#aborted++;
      resolveClosed();
    });
    return ex;
  }

  /** Waits `ms`, or less if the exchange closes first. */
  async #pause(ex: Exchange, ms: number): Promise<void> {
    if (ms <= 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([ex.whenClosed, new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
    clearTimeout(timer);
  }

  #write(res: ServerResponse, data: string): Promise<void> {
    return new Promise<void>((resolve) => {
      if (data === "" || res.destroyed) return resolve();
      res.write(data, () => resolve());
    });
  }

  /** Kills the connection without finishing the response (fault "cut"). */
  #cut(res: ServerResponse, ex: Exchange): void {
    ex.serverClosing = true;
    res.socket?.destroy();
    res.destroy();
  }

  /**
   * Answers one (already recorded and validated) completion request: asks the responder, then
   * applies its fault or streams / returns the answer in the protocol's framing.
   */
  protected async complete(
    res: ServerResponse,
    chat: FakeChatRequest,
    format: CompletionFormat,
  ): Promise<void> {
    const startedNs = process.hrtime.bigint();
    const ex = this.#track(res);
    let reply: FakeReply;
    try {
      reply = chat.schema ? structuredToReply(await this.#structured(chat)) : await this.#responder(chat);
    } catch (err) {
      if (!ex.closed) this.sendJson(res, 500, this.errorBody(500, `responder threw: ${String(err)}`));
      return;
    }
    if (ex.closed) return;
    if (reply.delayMs !== undefined && reply.fault !== "hang") await this.#pause(ex, reply.delayMs);
    if (ex.closed) return;

    const fault = reply.fault;
    if (fault === "http500") return this.sendJson(res, 500, this.errorBody(500));
    if (fault === "http429") {
      const headers: Record<string, string> =
        reply.retryAfterSeconds === undefined ? {} : { "retry-after": String(reply.retryAfterSeconds) };
      return this.sendJson(res, 429, this.errorBody(429), headers);
    }
    if (fault === "hang") return ex.whenClosed;

    const chunks = reply.chunks ?? splitText(reply.text ?? "", reply.chunkSize);
    const text = chunks.join("");
    const delay = reply.chunkDelayMs ?? (fault === "slow" ? DEFAULT_SLOW_DELAY_MS : 0);
    const stats: CompletionStats = {
      promptTokens:
        reply.promptTokens ?? Math.max(1, estimateTokens(chat.messages.map((m) => m.content).join("\n"))),
      evalTokens: reply.evalTokens ?? estimateTokens(text),
      startedNs,
      firstChunkNs: startedNs,
    };

    if (!chat.stream) {
      await this.#pause(ex, delay * Math.max(0, chunks.length - 1));
      if (ex.closed) return;
      stats.firstChunkNs = process.hrtime.bigint();
      if (fault === "malformed") {
        const garbage = '{"model": "fake", "message": {"role": "assistant", "content": "trunc';
        res.writeHead(200, { "content-type": "application/json; charset=utf-8" });
        res.end(garbage);
        return;
      }
      const body = JSON.stringify(format.whole(text, stats));
      if (fault === "cut") {
        res.writeHead(200, {
          "content-type": "application/json; charset=utf-8",
          "content-length": Buffer.byteLength(body),
        });
        await this.#write(res, body.slice(0, Math.floor(body.length / 2)));
        return this.#cut(res, ex);
      }
      res.writeHead(200, {
        "content-type": "application/json; charset=utf-8",
        "content-length": Buffer.byteLength(body),
      });
      res.end(body);
      format.onDone?.();
      return;
    }

    res.writeHead(200, {
      "content-type": format.streamContentType,
      "cache-control": "no-cache",
      connection: "keep-alive",
    });
    res.flushHeaders();
    await this.#write(res, format.streamStart?.() ?? "");
    // "cut": deliver about half the chunks (at least one), then drop the connection.
    const cutAfter = fault === "cut" ? Math.max(1, Math.floor(chunks.length / 2)) : Number.POSITIVE_INFINITY;
    for (let i = 0; i < chunks.length; i++) {
      if (i > 0) await this.#pause(ex, delay);
      if (ex.closed) return;
      if (i >= cutAfter) return this.#cut(res, ex);
      if (i === 0) stats.firstChunkNs = process.hrtime.bigint();
      await this.#write(res, format.streamChunk(chunks[i] ?? ""));
      if (fault === "malformed") {
        await this.#write(res, format.garbageFrame);
        res.end();
        return;
      }
    }
    if (ex.closed) return;
    if (fault === "cut") return this.#cut(res, ex);
    if (fault === "malformed") {
      // No chunks at all: the garbage frame is the whole stream.
      await this.#write(res, format.garbageFrame);
      res.end();
      return;
    }
    res.end(format.streamEnd(stats));
    format.onDone?.();
  }
}
