/**
 * One error type for all of Hermes. It carries what a caller needs to decide what to do next:
 * a stable code, whether trying again can help, and when. HTTP status and Telegram wording are
 * mapped from the code in one place each (src/http/error-status.ts, bot/telegram/error-text.ts).
 */
export const ERROR_CODES = [
  "INVALID_INPUT",
  "UNAUTHORIZED",
  "FORBIDDEN",
  "NOT_FOUND",
  "RATE_LIMITED",
  "QUEUE_FULL",
  "BUDGET_EXCEEDED",
  "BACKEND_UNAVAILABLE",
  "TALOS_UNAVAILABLE",
  "BACKEND_ERROR",
  "TIMEOUT",
  "CANCELLED",
  "STORAGE_FULL",
  "INTERNAL",
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** Codes where the same request may succeed later without the caller changing anything. */
const RETRYABLE_BY_DEFAULT: ReadonlySet<ErrorCode> = new Set([
  "RATE_LIMITED",
  "STORAGE_FULL",
  "BACKEND_UNAVAILABLE",
  "TALOS_UNAVAILABLE",
  "TIMEOUT",
]);

export interface HermesErrorOptions {
  details?: string | undefined;
  /** Seconds after which a retry makes sense (from Retry-After, a circuit breaker, a backoff). */
  retryAfter?: number | undefined;
  /** A sentence telling a person what they can do about it. */
  userAction?: string | undefined;
  /** Overrides the code's default retryability (a 5xx BACKEND_ERROR is retryable, a 400 is not). */
  retryable?: boolean | undefined;
  cause?: unknown;
}

export class HermesError extends Error {
  readonly code: ErrorCode;
  readonly details: string | undefined;
  readonly retryAfter: number | undefined;
  readonly userAction: string | undefined;
  readonly retryable: boolean;

  constructor(code: ErrorCode, message: string, options: HermesErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "HermesError";
    this.code = code;
    this.details = options.details;
    this.retryAfter = options.retryAfter;
    this.userAction = options.userAction;
    this.retryable = options.retryable ?? RETRYABLE_BY_DEFAULT.has(code);
  }
}

export function isHermesError(value: unknown): value is HermesError {
  return value instanceof HermesError;
}

/** SQLite's "database or disk is full" (SQLITE_FULL), or the OS's ENOSPC writing a file beside it. */
export function isStorageFull(value: unknown): boolean {
  const code = typeof value === "object" && value !== null ? (value as { code?: unknown }).code : undefined;
  return code === "SQLITE_FULL" || code === "ENOSPC";
}

/** What a user is told when Hermes cannot store their request: what was accepted before stays. */
export function storageFullError(cause?: unknown): HermesError {
  return new HermesError("STORAGE_FULL", "Hermes' disk is full, so it cannot save anything new right now.", {
    retryAfter: 300,
    userAction: "What you sent before is kept. Try again in a few minutes.",
    cause,
  });
}

/** Wraps anything thrown into a HermesError without losing an existing one. */
export function toHermesError(value: unknown, fallback: ErrorCode = "INTERNAL"): HermesError {
  if (value instanceof HermesError) return value;
  if (isStorageFull(value)) return storageFullError(value);
  if (value instanceof Error && value.name === "AbortError") {
    return new HermesError("CANCELLED", "The operation was cancelled.", { cause: value });
  }
  const message = value instanceof Error ? value.message : String(value);
  return new HermesError(fallback, message, { cause: value });
}
