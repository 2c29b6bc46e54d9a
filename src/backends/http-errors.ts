/**
 * The one place that turns transport and HTTP failures of a backend call into HermesError, for
 * every HTTP backend kind. Backends translate their client library's error classes into the calls
 * below (or hand the raw error to `classifyFailure`, which reads status codes, Node/undici error
 * codes and abort state structurally); the HTTP semantics live here only.
 *
 * Rule of thumb: nothing reached the server (refused, reset, DNS) → BACKEND_UNAVAILABLE; the server
 * answered but the answer is unusable → BACKEND_ERROR (retryable when trying again can help);
 * our caller's abort → CANCELLED; our own deadline → TIMEOUT. Messages name the backend and its
 * host and never a credential: every text passes through `scrub` with the backend's secrets.
 */
import { HermesError, type HermesErrorOptions } from "../errors.ts";
import type { BackendKind } from "./backend.ts";

export interface FailureContext {
  /** Backend name as configured ("ollama", "openrouter"). */
  backend: string;
  kind: BackendKind;
  /** Where it lives, for messages; credentials and query are stripped by `safeHost`. */
  host: string;
  /** The model of the call, when there is one (404 → "pull it"). */
  model?: string | undefined;
  /** Strings that must never appear in a message (API keys). */
  secrets?: readonly (string | undefined)[] | undefined;
}

/** Minimal view of response headers: `Headers` and plain lookups both fit. */
export interface HeaderLookup {
  get(name: string): string | null;
}

/** What happened to one call besides its error: did *we* stop it, and had the answer begun? */
export interface CallState {
  cancelled: boolean;
  timedOut: boolean;
  timeoutMs: number;
  /** Response headers arrived; a broken connection after this is a failed answer, not a dead host. */
  responseStarted: boolean;
}

/** Host for messages: origin + path, without user:password, query or fragment. */
export function safeHost(url: string): string {
  try {
    const u = new URL(url);
    const path = u.pathname === "/" ? "" : u.pathname.replace(/\/+$/, "");
    return `${u.protocol}//${u.host}${path}`;
  } catch {
    return "(invalid URL)";
  }
}

const KEY_LIKE = /\bsk-[A-Za-z0-9_*.-]{6,}/g; // OpenAI "sk-proj-…", OpenRouter "sk-or-v1-…"

/** Removes the given secrets and anything shaped like an API key (providers echo masked keys). */
export function scrub(text: string, secrets: readonly (string | undefined)[] = []): string {
  let out = text;
  for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join("[redacted]");
  return out.replace(KEY_LIKE, "[redacted]");
}

/**
 * Retry-After (RFC 9110): delay in seconds or an HTTP date → whole seconds from `nowMs`, at least 0.
 * Also honours `retry-after-ms` (OpenAI). Undefined when absent or unreadable.
 */
export function parseRetryAfter(headers: HeaderLookup | undefined, nowMs = Date.now()): number | undefined {
  if (!headers) return undefined;
  const ms = headers.get("retry-after-ms");
  if (ms !== null && /^\s*\d+(\.\d+)?\s*$/.test(ms)) return Math.max(0, Math.ceil(Number(ms) / 1000));
  const value = headers.get("retry-after")?.trim();
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.ceil(Number(value));
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - nowMs) / 1000));
}

function where(ctx: FailureContext): string {
  return `${ctx.backend} at ${safeHost(ctx.host)}`;
}

function make(
  ctx: FailureContext,
  code: HermesError["code"],
  message: string,
  opts: HermesErrorOptions = {},
) {
  const secrets = ctx.secrets ?? [];
  return new HermesError(code, scrub(message, secrets), {
    ...opts,
    details: opts.details === undefined ? undefined : scrub(opts.details, secrets),
  });
}

export function cancelledError(ctx: FailureContext): HermesError {
  return make(ctx, "CANCELLED", `Call to ${where(ctx)} was cancelled.`, { retryable: false });
}

export function timeoutError(ctx: FailureContext, timeoutMs: number): HermesError {
  return make(ctx, "TIMEOUT", `${where(ctx)} did not finish within ${timeoutMs} ms.`, { retryable: true });
}

/** The answer broke the protocol: unparseable JSON, a stream that stops before its end marker. */
export function protocolError(ctx: FailureContext, detail: string, cause?: unknown): HermesError {
  return make(ctx, "BACKEND_ERROR", `${where(ctx)} sent a broken answer: ${detail}.`, {
    retryable: true,
    details: detail,
    cause,
  });
}

/** A connection-level failure; `midStream` when the response had already begun. */
export function connectionError(ctx: FailureContext, cause: unknown, midStream: boolean): HermesError {
  const reason = describeNetworkCause(cause);
  if (midStream) {
    return make(ctx, "BACKEND_ERROR", `Connection to ${where(ctx)} was lost mid-answer (${reason}).`, {
      retryable: true,
      details: reason,
      cause,
    });
  }
  return make(ctx, "BACKEND_UNAVAILABLE", `Cannot reach ${where(ctx)} (${reason}).`, {
    retryable: true,
    details: reason,
    cause,
    userAction: `check that ${ctx.backend} is running and reachable at ${safeHost(ctx.host)}`,
  });
}

/**
 * An HTTP error status. `message` is the server's own error text (scrubbed, kept as details);
 * `headers` give Retry-After for 429/503. The server's error object is deliberately not kept as
 * `cause`: provider bodies may echo (masked) keys.
 */
export function httpStatusError(
  ctx: FailureContext,
  status: number,
  opts: { message?: string | undefined; headers?: HeaderLookup | undefined } = {},
): HermesError {
  const serverText = opts.message?.trim() || undefined;
  const details = serverText ? `HTTP ${status}: ${serverText}` : `HTTP ${status}`;
  const at = where(ctx);
  if (status === 429) {
    const retryAfter = parseRetryAfter(opts.headers);
    return make(ctx, "RATE_LIMITED", `${at} is rate limiting us (HTTP 429).`, {
      retryable: true,
      retryAfter,
      details,
    });
  }
  if (status >= 500) {
    return make(ctx, "BACKEND_ERROR", `${at} failed with HTTP ${status}.`, {
      retryable: true,
      retryAfter: parseRetryAfter(opts.headers),
      details,
    });
  }
  if (status === 401 || status === 403) {
    return make(ctx, "BACKEND_ERROR", `${at} refused our credentials (HTTP ${status}).`, {
      retryable: false,
      details,
      userAction: `check the API key for ${ctx.backend}`,
    });
  }
  if (status === 408) {
    return make(ctx, "TIMEOUT", `${at} timed out the request (HTTP 408).`, { retryable: true, details });
  }
  if (status === 404) {
    const aboutModel = ctx.model !== undefined && (serverText === undefined || /model/i.test(serverText));
    if (aboutModel) {
      return make(ctx, "BACKEND_ERROR", `${at} does not have the model "${ctx.model}".`, {
        retryable: false,
        details,
        userAction:
          ctx.kind === "ollama"
            ? `run \`ollama pull ${ctx.model}\` on that machine, or pick an installed model`
            : `pick a model that ${ctx.backend} serves (see its model list)`,
      });
    }
    return make(ctx, "BACKEND_ERROR", `${at} has no such endpoint (HTTP 404).`, {
      retryable: false,
      details,
      userAction: `check the URL configured for ${ctx.backend}`,
    });
  }
  return make(ctx, "BACKEND_ERROR", `${at} rejected the request (HTTP ${status}).`, {
    retryable: false,
    details,
  });
}

// ---- structural classification of anything thrown -------------------------------------------

const NETWORK_CODES: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "DNS lookup failed",
  EAI_NONAME: "host not found",
  ETIMEDOUT: "connect timed out",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  ENETDOWN: "network down",
  EPIPE: "broken pipe",
  ECONNABORTED: "connection aborted",
  UND_ERR_SOCKET: "socket closed",
  UND_ERR_CLOSED: "socket closed",
  UND_ERR_CONNECT_TIMEOUT: "connect timed out",
  UND_ERR_HEADERS_TIMEOUT: "no response headers",
  UND_ERR_BODY_TIMEOUT: "response body stalled",
};

/** Walks `cause` links (bounded) and returns the first Node/undici network code found. */
export function networkCode(err: unknown): string | undefined {
  let cur: unknown = err;
  for (let depth = 0; depth < 6 && typeof cur === "object" && cur !== null; depth++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === "string" && code in NETWORK_CODES) return code;
    const msg = (cur as { message?: unknown }).message;
    if (typeof msg === "string" && /socket hang up/i.test(msg)) return "ECONNRESET";
    const errors = (cur as { errors?: unknown }).errors; // AggregateError (happy eyeballs)
    if (Array.isArray(errors)) {
      for (const e of errors) {
        const inner = networkCode(e);
        if (inner) return inner;
      }
    }
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}

function describeNetworkCause(err: unknown): string {
  const code = networkCode(err);
  if (code) return NETWORK_CODES[code] ?? code;
  if (err instanceof Error) {
    const inner = err.cause instanceof Error ? `: ${err.cause.message}` : "";
    return `${err.message}${inner}`;
  }
  return String(err);
}

function statusOf(err: object): number | undefined {
  for (const key of ["status", "status_code", "statusCode"]) {
    const v = (err as Record<string, unknown>)[key];
    if (typeof v === "number" && v >= 400 && v <= 599) return v;
  }
  return undefined;
}

function headersOf(err: object): HeaderLookup | undefined {
  const h = (err as { headers?: unknown }).headers;
  return typeof h === "object" && h !== null && typeof (h as HeaderLookup).get === "function"
    ? (h as HeaderLookup)
    : undefined;
}

/**
 * Anything a backend call threw → HermesError. Our own abort/deadline win over whatever the library
 * made of them; an existing HermesError passes through; then HTTP status, malformed JSON, network
 * codes, foreign aborts. `fallbackHeaders` supplies response headers a library dropped (ollama's
 * ResponseError has none). Unknown failures are BACKEND_ERROR *retryable*: a job should not die on
 * an error we cannot name, and the queue bounds the attempts.
 */
export function classifyFailure(
  ctx: FailureContext,
  err: unknown,
  state: CallState,
  fallbackHeaders?: HeaderLookup,
): HermesError {
  if (state.timedOut) return timeoutError(ctx, state.timeoutMs);
  if (state.cancelled) return cancelledError(ctx);
  if (err instanceof HermesError) return err;
  if (typeof err === "object" && err !== null) {
    const status = statusOf(err);
    if (status !== undefined) {
      const message = (err as { message?: unknown }).message;
      return httpStatusError(ctx, status, {
        message: typeof message === "string" ? message : undefined,
        headers: headersOf(err) ?? fallbackHeaders,
      });
    }
    if (err instanceof SyntaxError) return protocolError(ctx, "malformed JSON", err);
    if (networkCode(err) !== undefined) return connectionError(ctx, err, state.responseStarted);
    const name = (err as { name?: unknown }).name;
    if (name === "TimeoutError") return timeoutError(ctx, state.timeoutMs);
    if (name === "AbortError") return cancelledError(ctx);
    // undici: "fetch failed" (before a response) / "terminated" (body cut) without a known code.
    if (err instanceof TypeError && /fetch failed|terminated|network/i.test(err.message)) {
      return connectionError(ctx, err, state.responseStarted);
    }
  }
  const text = err instanceof Error ? err.message : String(err);
  return make(ctx, "BACKEND_ERROR", `${where(ctx)} failed: ${text}`, {
    retryable: true,
    details: text,
    cause: err,
  });
}

// ---- one call's abort + deadline ---------------------------------------------------------------

/**
 * Joins the caller's AbortSignal and a deadline counted from the start of the call into one signal
 * for the transport, remembering which of the two fired (CANCELLED vs TIMEOUT; a caller signal that
 * aborts with a TimeoutError, like AbortSignal.timeout(), counts as TIMEOUT too). `race` settles the
 * moment either fires, so a call stops at once whatever its library is still doing.
 */
export class CallGuard {
  readonly state: CallState;
  readonly signal: AbortSignal;
  readonly #controller = new AbortController();
  readonly #aborted: Promise<never>;
  readonly #started = performance.now();
  readonly #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #outer: AbortSignal | undefined;
  readonly #onOuterAbort = () => {
    if (!isTimeoutReason(this.#outer?.reason)) return this.#stop("cancelled");
    this.state.timeoutMs = Math.round(performance.now() - this.#started); // the caller's deadline
    this.#stop("timedOut");
  };
  #reject!: (e: unknown) => void;

  constructor(outer: AbortSignal | undefined, timeoutMs: number) {
    this.state = { cancelled: false, timedOut: false, timeoutMs, responseStarted: false };
    this.signal = this.#controller.signal;
    this.#aborted = new Promise<never>((_, reject) => {
      this.#reject = reject;
    });
    this.#aborted.catch(() => {}); // observed through race(); never an unhandled rejection
    this.#outer = outer;
    if (outer?.aborted) this.#onOuterAbort();
    else outer?.addEventListener("abort", this.#onOuterAbort, { once: true });
    if (!this.signal.aborted && Number.isFinite(timeoutMs) && timeoutMs > 0) {
      this.#timer = setTimeout(() => this.#stop("timedOut"), timeoutMs);
    }
  }

  #stop(why: "cancelled" | "timedOut"): void {
    if (this.#controller.signal.aborted) return;
    this.state[why] = true;
    const reason = new DOMException(why === "cancelled" ? "cancelled" : "timed out", "AbortError");
    this.#controller.abort(reason);
    this.#reject(reason);
  }

  /** Resolves with `work`, or rejects as soon as the call is aborted or times out. */
  race<T>(work: Promise<T>): Promise<T> {
    return Promise.race([work, this.#aborted]);
  }

  /**
   * Reports progress unless the call is over. Progress is a best-effort preview: a listener that
   * throws must neither fail the run nor be blamed on the backend, so its error is dropped here.
   */
  progress<P>(onProgress: ((p: P) => void) | undefined, p: P): void {
    if (!onProgress || this.signal.aborted) return;
    try {
      onProgress(p);
    } catch {
      // the listener's owner logs its own failures
    }
  }

  dispose(): void {
    clearTimeout(this.#timer);
    this.#outer?.removeEventListener("abort", this.#onOuterAbort);
  }
}

function isTimeoutReason(reason: unknown): boolean {
  return (
    typeof reason === "object" && reason !== null && (reason as { name?: unknown }).name === "TimeoutError"
  );
}
