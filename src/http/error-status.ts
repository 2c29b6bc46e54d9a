import type { ErrorCode } from "../errors.ts";

/**
 * The one mapping from Hermes error codes to HTTP status codes (DESIGN.md §3). Every API error
 * response goes through it; only a few transport-level cases override it (413 for an oversized
 * body, 503 while the API is disabled), see HttpStatusError in envelope.ts.
 */
export const HTTP_STATUS: Readonly<Record<ErrorCode, number>> = {
  INVALID_INPUT: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  RATE_LIMITED: 429,
  QUEUE_FULL: 503,
  BUDGET_EXCEEDED: 402,
  BACKEND_UNAVAILABLE: 503,
  TALOS_UNAVAILABLE: 503,
  BACKEND_ERROR: 502,
  TIMEOUT: 504,
  CANCELLED: 409,
  STORAGE_FULL: 503,
  INTERNAL: 500,
};

/** Codes whose response carries a Retry-After header when the error knows when to retry. */
export const RETRY_AFTER_CODES: ReadonlySet<ErrorCode> = new Set([
  "RATE_LIMITED",
  "QUEUE_FULL",
  "STORAGE_FULL",
  "BACKEND_UNAVAILABLE",
  "TALOS_UNAVAILABLE",
]);

export function httpStatusOf(code: ErrorCode): number {
  return HTTP_STATUS[code];
}
