import { randomUUID } from "node:crypto";
import type { Context } from "hono";
import { type ErrorCode, HermesError, type HermesErrorOptions, toHermesError } from "../errors.ts";
import { httpStatusOf, RETRY_AFTER_CODES } from "./error-status.ts";

/**
 * The response envelopes of the spec ("API Response Formats"):
 *   success {status:"success", data, meta:{timestamp, request_id, processing_time_ms}}
 *   error   {status:"error", error:{code, message, details, retry_after, user_action}, meta}
 */
export interface ApiVariables {
  requestId: string;
  startedAt: number;
  /** Who is calling: the X-Hermes-Client name if given, else the remote address. */
  client: string;
}
export type ApiEnv = { Variables: ApiVariables };
export type ApiContext = Context<ApiEnv>;

/** A HermesError whose HTTP status differs from its code's usual one (413 body too large, 503 API off). */
export class HttpStatusError extends HermesError {
  readonly httpStatus: number;
  constructor(httpStatus: number, code: ErrorCode, message: string, options: HermesErrorOptions = {}) {
    super(code, message, options);
    this.httpStatus = httpStatus;
  }
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

export function newRequestId(header: string | undefined): string {
  return header && REQUEST_ID.test(header) ? header : `req-${randomUUID()}`;
}

/** Defaults when an error that should say when to come back does not. */
const DEFAULT_RETRY_AFTER: Partial<Record<ErrorCode, number>> = { RATE_LIMITED: 60, QUEUE_FULL: 60 };

export class Envelopes {
  private readonly now: () => number;
  private readonly secrets: string[];

  constructor(now: () => number, secrets: (string | undefined)[] = []) {
    this.now = now;
    this.secrets = secrets.filter((s): s is string => typeof s === "string" && s.length >= 6);
  }

  meta(c: ApiContext) {
    const started = c.get("startedAt") ?? this.now();
    return {
      timestamp: new Date(this.now()).toISOString(),
      request_id: c.get("requestId") ?? "req-unknown",
      processing_time_ms: Math.max(0, this.now() - started),
    };
  }

  ok(c: ApiContext, data: unknown, status: 200 | 201 | 202 = 200): Response {
    return c.json({ status: "success", data, meta: this.meta(c) }, status);
  }

  /** Turns anything thrown into the error envelope; internals and secrets never reach the client. */
  fail(c: ApiContext, thrown: unknown): Response {
    const error = this.publicError(thrown);
    const status = thrown instanceof HttpStatusError ? thrown.httpStatus : httpStatusOf(error.code);
    const retryAfter =
      error.retryAfter !== undefined
        ? Math.max(1, Math.ceil(error.retryAfter))
        : DEFAULT_RETRY_AFTER[error.code];
    if (retryAfter !== undefined && RETRY_AFTER_CODES.has(error.code))
      c.header("Retry-After", String(retryAfter));
    if (error.code === "UNAUTHORIZED" && status === 401)
      c.header("WWW-Authenticate", 'Bearer realm="hermes"');
    return c.json(
      {
        status: "error",
        error: {
          code: error.code,
          message: error.message,
          details: error.details ?? null,
          retry_after: retryAfter ?? null,
          user_action: error.userAction ?? null,
        },
        meta: this.meta(c),
      },
      status as 400,
    );
  }

  /** What may be shown: INTERNAL errors become a generic sentence; secret values are scrubbed. */
  publicError(thrown: unknown): HermesError {
    const error = toHermesError(thrown);
    if (error.code === "INTERNAL") {
      return new HermesError("INTERNAL", "Something went wrong inside Hermes.", {
        userAction: "Try again; if it keeps happening, look at Hermes' log for this request id.",
      });
    }
    const scrub = (s: string | undefined) => {
      if (s === undefined) return s;
      let out = s;
      for (const secret of this.secrets) out = out.split(secret).join("[REDACTED]");
      return out;
    };
    return new HermesError(error.code, scrub(error.message) ?? "", {
      details: scrub(error.details),
      retryAfter: error.retryAfter,
      userAction: scrub(error.userAction),
    });
  }
}
