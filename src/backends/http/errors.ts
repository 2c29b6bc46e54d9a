/**
 * The one place that turns transport and HTTP failures of a backend call into HermesError, for
 * every HTTP backend kind. Backends translate their client library's error classes into the calls
 * below (or hand the raw error to `classifyFailure`, which reads status codes, Node/undici error
 * codes and abort state structurally); the HTTP semantics live here only.
 *
 * Rule of thumb: nothing reached the server (refused, reset, DNS) → BACKEND_UNAVAILABLE; the server
 * answered but the answer is unusable → BACKEND_ERROR (retryable when trying again can help);
 * our caller's abort → CANCELLED; our own deadline → TIMEOUT. Messages name the backend and its
 * host and never a credential: every text passes through `redactUrls` (userinfo, query secrets)
 * and `scrub` with the backend's secrets.
 */
import { HermesError, type HermesErrorOptions } from "../../errors.ts";
import type { BackendKind } from "../backend.ts";
import type { CallState } from "./call-guard.ts";
import { describeNetworkCause, networkCode } from "./network.ts";
import { type HeaderLookup, parseRetryAfter, redactUrls, safeHost, scrub } from "./text.ts";

export { CallGuard, type CallState } from "./call-guard.ts";
export { networkCode } from "./network.ts";
export { type HeaderLookup, parseRetryAfter, redactUrls, safeHost, scrub } from "./text.ts";

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
  const clean = (text: string) => scrub(redactUrls(text), secrets);
  return new HermesError(code, clean(message), {
    ...opts,
    details: opts.details === undefined ? undefined : clean(opts.details),
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

const MISSING_MODEL = new WeakSet<HermesError>();

/**
 * The backend does not have the model it was asked for (HTTP 404 about a model). For a job that
 * pinned no model this is that backend's configuration, not the job's fault: the manager fails over.
 */
export function isMissingModel(error: HermesError): boolean {
  return MISSING_MODEL.has(error);
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
      const error = make(ctx, "BACKEND_ERROR", `${at} does not have the model "${ctx.model}".`, {
        retryable: false,
        details,
        userAction:
          ctx.kind === "ollama"
            ? `run \`ollama pull ${ctx.model}\` on that machine, or pick an installed model`
            : `pick a model that ${ctx.backend} serves (see its model list)`,
      });
      MISSING_MODEL.add(error);
      return error;
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
