/**
 * A `fetch` for the `ollama` SDK over node:http(s) with a keep-alive agent (OllamaBackend's calls:
 * drafts, and the analysis and assumption calls when they run on Ollama), each streamed token by
 * token. The global fetch (undici) costs about as much CPU per call as the whole exchange on a
 * loopback model: its Request/Headers machinery, and a WHATWG stream hop per received chunk. Here a
 * response body is one ReadableStream fed straight from the socket, and the SDK reads it unchanged
 * (it accepts a custom `fetch` for exactly this). No maintained library offers this: node-fetch and
 * its kin give a Node stream as the body, which the SDK cannot read (it calls getReader()).
 * OpenAI-compatible backends keep the global fetch (remote APIs: proxies, TLS; the gain was small).
 *
 * What the SDKs and ./errors.ts rely on is kept: a real `Response` (status, headers, body),
 * aborts through `init.signal` (before the response: the promise rejects with the signal's reason;
 * after it: the body errors), and Node's own network errors (ECONNREFUSED, ECONNRESET…) as the
 * rejection or the body's error, which `classifyFailure` reads by code; redirects are followed as
 * fetch follows them (a cross-origin hop drops credentials). A `Request` object as input, a
 * streamed request body or an unknown scheme go to the global fetch: nothing here needs them, and
 * that path has no NDJSON line check (the SDK always sends a string URL and a string body).
 *
 * Per call (`CallExtras`): a second abort signal (the call's guard, so no AbortSignal.any per call),
 * and a check of each complete line of an NDJSON body that may fail the body (Ollama's line check,
 * in the same pass as the bytes instead of a TransformStream behind them).
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";

export interface CallExtras {
  /** Aborts the call as `init.signal` does. */
  signal?: AbortSignal | undefined;
  /** Called with each complete line of an NDJSON body; an Error returned fails the body. */
  checkNdjsonLine?: ((line: string) => Error | undefined) | undefined;
}

/** `fetch(input, init)` plus this call's extras; one per backend, so its connections are reused. */
export type NodeFetch = (
  input: string | URL | Request,
  init?: RequestInit,
  extras?: CallExtras,
) => Promise<Response>;

/** Statuses whose Response must have no body (the constructor throws otherwise). */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);
const REDIRECT = new Set([301, 302, 303, 307, 308]);
/** fetch's own limit. */
const MAX_REDIRECTS = 20;

interface Agents {
  "http:": HttpAgent;
  "https:": HttpsAgent;
}

/**
 * `idleSocketMs`: how long a kept-alive connection may wait unused before it is closed (default:
 * until the server closes it, as a local Ollama never does unprompted). A remote API behind NATs
 * and load balancers wants a limit, so a connection dropped without a word is not the one reused.
 */
export function nodeFetch(options: { idleSocketMs?: number } = {}): NodeFetch {
  const agentOptions = {
    keepAlive: true,
    ...(options.idleSocketMs ? { timeout: options.idleSocketMs } : {}),
  };
  const agents: Agents = {
    "http:": new HttpAgent(agentOptions),
    "https:": new HttpsAgent(agentOptions),
  };
  return (input, init, extras = {}) => {
    const url = typeof input === "string" ? new URL(input) : input instanceof URL ? input : undefined;
    const body = init?.body;
    if (
      !url ||
      (url.protocol !== "http:" && url.protocol !== "https:") ||
      (body !== undefined && body !== null && typeof body !== "string")
    ) {
      const signals = [init?.signal, extras.signal].filter((s): s is AbortSignal => !!s);
      return fetch(input, { ...init, signal: AbortSignal.any(signals) });
    }
    return send(url, init ?? {}, agents, extras, 0);
  };
}

function send(
  url: URL,
  init: RequestInit,
  agents: Agents,
  extras: CallExtras,
  hops: number,
): Promise<Response> {
  const signals = [init.signal, extras.signal].filter((s): s is AbortSignal => !!s);
  const aborted = signals.find((s) => s.aborted);
  if (aborted) return Promise.reject(aborted.reason);
  return new Promise<Response>((resolve, reject) => {
    const headers = plainHeaders(init.headers); // end(body) sets Content-Length itself
    const https = url.protocol === "https:";
    const agent = https ? agents["https:"] : agents["http:"];
    const req = (https ? httpsRequest : httpRequest)(url, { method: init.method ?? "GET", headers, agent });
    let res: IncomingMessage | undefined;
    let fail: ((e: unknown) => void) | undefined;
    const onAbort = () => {
      const reason: unknown = signals.find((s) => s.aborted)?.reason;
      if (fail) fail(reason);
      else reject(reason);
      req.destroy();
    };
    for (const s of signals) s.addEventListener("abort", onAbort, { once: true });
    const done = () => {
      for (const s of signals) s.removeEventListener("abort", onAbort);
    };
    req.on("error", (e) => {
      if (res) return; // the body's own error path reports it
      done();
      reject(e);
    });
    req.on("response", (incoming) => {
      res = incoming;
      const next = redirected(url, init, incoming);
      if (next) {
        incoming.resume();
        done();
        return resolve(next instanceof Error ? Promise.reject(next) : follow(next, agents, extras, hops));
      }
      const stream = bodyStream(incoming, ndjson(incoming) ? extras.checkNdjsonLine : undefined, done);
      fail = stream.fail;
      try {
        resolve(toResponse(incoming, stream.body));
      } catch (error) {
        stream.fail(error);
        reject(error);
      }
    });
    req.end(typeof init.body === "string" ? init.body : undefined);
  });
}

/**
 * The next hop of a redirect, as fetch takes it: 303 (and 301/302 after a POST) becomes a GET
 * without a body; a hop to another origin drops the credentials. Undefined when not a redirect,
 * or when the caller asked for redirects not to be followed.
 */
function redirected(
  from: URL,
  init: RequestInit,
  res: IncomingMessage,
): { url: URL; init: RequestInit } | Error | undefined {
  const status = res.statusCode ?? 0;
  const location = res.headers.location;
  if (!REDIRECT.has(status) || !location || (init.redirect ?? "follow") !== "follow") return undefined;
  let url: URL;
  try {
    url = new URL(location, from);
  } catch (cause) {
    return new TypeError("fetch failed", { cause });
  }
  const headers = plainHeaders(init.headers);
  const method = (init.method ?? "GET").toUpperCase();
  const toGet =
    (status === 303 && method !== "GET" && method !== "HEAD") || (status <= 302 && method === "POST");
  if (toGet) for (const h of ["content-type", "content-length", "content-encoding"]) delete headers[h];
  if (url.origin !== from.origin)
    for (const h of ["authorization", "cookie", "proxy-authorization"]) delete headers[h];
  return { url, init: { ...init, headers, ...(toGet ? { method: "GET", body: null } : {}) } };
}

function follow(
  next: { url: URL; init: RequestInit },
  agents: Agents,
  extras: CallExtras,
  hops: number,
): Promise<Response> {
  if (hops >= MAX_REDIRECTS || (next.url.protocol !== "http:" && next.url.protocol !== "https:")) {
    return Promise.reject(new TypeError("fetch failed", { cause: new Error("redirect not followed") }));
  }
  return send(next.url, next.init, agents, extras, hops + 1);
}

/** The Response the SDK reads; throws (RangeError, TypeError) for what a Response cannot carry, e.g. a 1xx status. */
function toResponse(incoming: IncomingMessage, body: ReadableStream<Uint8Array>): Response {
  const status = incoming.statusCode ?? 0;
  const init = { status, headers: responseHeaders(incoming.rawHeaders) };
  if (NULL_BODY.has(status)) {
    incoming.resume();
    return new Response(null, init);
  }
  try {
    return new Response(body, { ...init, statusText: incoming.statusMessage ?? "" });
  } catch {
    return new Response(body, init); // a reason phrase fetch would not accept: dropped, as it says nothing
  }
}

const ndjson = (res: IncomingMessage) => /ndjson/i.test(res.headers["content-type"] ?? "");

/**
 * The response body, fed from the socket: paused while the reader is behind, an error (network,
 * abort, a bad line) fails it once, and cancelling it closes the connection.
 */
function bodyStream(
  res: IncomingMessage,
  check: ((line: string) => Error | undefined) | undefined,
  done: () => void,
): { body: ReadableStream<Uint8Array>; fail: (e: unknown) => void } {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let over = false;
  const fail = (e: unknown) => {
    if (over) return;
    over = true;
    done();
    controller.error(e);
    res.destroy();
  };
  const lines = check ? lineChecker(check) : undefined;
  const body = new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c;
        res.on("data", (chunk: Buffer) => {
          if (over) return;
          const bad = lines?.push(chunk);
          if (bad) return fail(bad);
          controller.enqueue(chunk);
          if ((controller.desiredSize ?? 1) <= 0) res.pause();
        });
        res.on("end", () => {
          if (over) return;
          const bad = lines?.end();
          if (bad) return fail(bad);
          over = true;
          done();
          controller.close();
        });
        res.on("error", fail);
        res.on("close", () => {
          if (!over) fail(Object.assign(new Error("aborted"), { code: "ECONNRESET" }));
        });
      },
      pull() {
        res.resume();
      },
      cancel() {
        over = true;
        done();
        res.destroy();
      },
    },
    { highWaterMark: 16 },
  );
  return { body, fail };
}

/** Splits bytes into lines (UTF-8 safe across chunks) and checks each complete one. */
function lineChecker(check: (line: string) => Error | undefined) {
  const decoder = new TextDecoder();
  let pending = "";
  const each = (text: string): Error | undefined => {
    let start = 0;
    for (let nl = text.indexOf("\n"); nl !== -1; nl = text.indexOf("\n", start)) {
      const bad = check(text.slice(start, nl));
      if (bad) return bad;
      start = nl + 1;
    }
    pending = text.slice(start);
    return undefined;
  };
  return {
    push: (chunk: Buffer) => each(pending + decoder.decode(chunk, { stream: true })),
    end: () => check(pending + decoder.decode()),
  };
}

function plainHeaders(h: RequestInit["headers"]): Record<string, string> {
  const out: Record<string, string> = {};
  if (!h) return out;
  if (h instanceof Headers || Array.isArray(h)) {
    for (const [k, v] of h instanceof Headers ? h.entries() : h) out[k.toLowerCase()] = v ?? "";
    return out;
  }
  for (const [k, v] of Object.entries(h)) if (v !== undefined && v !== null) out[k.toLowerCase()] = String(v);
  return out;
}

function responseHeaders(raw: string[]): Headers {
  const headers = new Headers();
  for (let i = 0; i + 1 < raw.length; i += 2) headers.append(raw[i] as string, raw[i + 1] as string);
  return headers;
}
