import { Readable } from "node:stream";
import { nodeFetch } from "../../src/backends/http/node-fetch.ts";

/**
 * grammY's Bot API calls without its default node-fetch@2, which brings whatwg-url and tr46's
 * Unicode tables (about 14 MB of resident memory for an idle bot); the bundle leaves node-fetch
 * out (rolldown.config.ts).
 *
 * Every call but an upload (a JSON body: long polling, messages, edits) goes over node:http(s)
 * with a keep-alive agent, as the Ollama backend's calls do (src/backends/http/node-fetch.ts):
 * Node's fetch (undici) kept ~3 MB more resident in an idle bot, its Request and connection
 * machinery compiled by every long poll. An upload goes through Node's fetch, which streams a body.
 *
 * grammY was written for node-fetch, so its requests are adapted:
 * - `agent` (grammY's keep-alive http.Agent) is dropped: both paths keep connections alive;
 * - an upload's `connection` header is dropped: fetch manages it and refuses to be told;
 * - a file upload's body is a Node stream: it becomes a web stream, sent as it is produced (with
 *   `duplex: "half"`, which Node 22's fetch demands for a streamed body);
 * - the abort signal comes from grammY's AbortController polyfill, which Node's fetch rejects:
 *   a native signal follows it.
 */
export const telegramFetch = ((url: string | URL | Request, init?: RequestInit) => {
  const {
    agent: _agent,
    compress: _compress,
    signal,
    body,
    headers,
    ...rest
  } = (init ?? {}) as RequestInit & { agent?: unknown; compress?: unknown };
  const native = signal ? nativeSignal(signal) : undefined;
  if (!(body instanceof Readable)) {
    // Headers pass as grammY gives them (a plain object): node:http takes its `connection` header,
    // and no Headers object is built and validated on every long poll.
    const call = { ...rest, ...(headers ? { headers } : {}), ...(native ? { signal: native } : {}) };
    return viaNodeHttp(url, body === undefined ? call : { ...call, body });
  }
  return upload(url, rest, headers, body, native);
}) as typeof fetch;

/** Idle Bot API connections are closed after a minute (they cross NATs and load balancers). */
const viaNodeHttp = nodeFetch({ idleSocketMs: 60_000 });

function upload(
  url: string | URL | Request,
  rest: RequestInit,
  headers: RequestInit["headers"],
  source: Readable,
  native: AbortSignal | undefined,
): Promise<Response> {
  const h = new Headers(headers);
  h.delete("connection");
  const stream = Readable.toWeb(source) as ReadableStream<Uint8Array>;
  // node-fetch destroyed an upload's source when the request ended early; Node's fetch does not,
  // and a file or download behind it would go on being read.
  native?.addEventListener("abort", () => source.destroy(), { once: true });
  const pending = fetch(url, {
    ...rest,
    headers: h,
    body: stream,
    duplex: "half",
    ...(native ? { signal: native } : {}),
  } as RequestInit);
  return pending.catch((err: unknown) => {
    source.destroy();
    throw err;
  });
}

interface SignalLike {
  aborted: boolean;
  addEventListener(type: "abort", listener: () => void, options?: { once?: boolean }): void;
}

function nativeSignal(signal: AbortSignal | SignalLike): AbortSignal {
  if (signal instanceof AbortSignal) return signal;
  const controller = new AbortController();
  if (signal.aborted) controller.abort();
  else signal.addEventListener("abort", () => controller.abort(), { once: true });
  return controller.signal;
}
