import { Readable } from "node:stream";

/**
 * grammY's Bot API calls through Node's own fetch instead of its default node-fetch@2. node-fetch
 * brings whatwg-url and tr46's Unicode tables, about 14 MB of resident memory for an idle bot;
 * with this adapter the bundle leaves node-fetch out (rolldown.config.ts).
 *
 * grammY was written for node-fetch, so its requests are adapted:
 * - `agent` (a keep-alive http.Agent) is dropped: Node's fetch keeps connections alive itself;
 * - the `connection` header is dropped: fetch manages it and refuses to be told;
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
  const h = new Headers(headers);
  h.delete("connection");
  const source = body instanceof Readable ? body : undefined;
  const stream = source ? (Readable.toWeb(source) as ReadableStream<Uint8Array>) : undefined;
  const native = signal ? nativeSignal(signal) : undefined;
  // node-fetch destroyed an upload's source when the request ended early; Node's fetch does not,
  // and a file or download behind it would go on being read.
  if (source) native?.addEventListener("abort", () => source.destroy(), { once: true });
  const pending = fetch(url, {
    ...rest,
    headers: h,
    ...(stream ? { body: stream, duplex: "half" } : body === undefined ? {} : { body }),
    ...(native ? { signal: native } : {}),
  } as RequestInit);
  return source
    ? pending.catch((err: unknown) => {
        source.destroy();
        throw err;
      })
    : pending;
}) as typeof fetch;

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
