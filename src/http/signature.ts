import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * Signed callbacks, the same scheme both ways (results Hermes POSTs to a callback_url, results an
 * external service POSTs to /api/external/callback/:thread_id):
 *
 *   X-Hermes-Timestamp: <unix seconds>
 *   X-Hermes-Signature: sha256=<hex HMAC-SHA256(key, "<timestamp>.<raw body>")>
 *
 * The timestamp is signed with the body so a captured request cannot be replayed later; the
 * receiver refuses timestamps more than 5 minutes off and signatures it has already seen. The key
 * is `hermes.api.callback_secret`, a credential of its own: the admin token is neither needed nor
 * accepted in its place (an external service must never hold the admin token).
 */
export const SIGNATURE_HEADER = "X-Hermes-Signature";
export const TIMESTAMP_HEADER = "X-Hermes-Timestamp";
/** How far a signed timestamp may be from Hermes' clock, either way. */
export const MAX_SIGNATURE_SKEW_MS = 5 * 60_000;

/** The configured secret, else undefined (callbacks are off until one is set). */
export function callbackSecret(configured: string | undefined): string | undefined {
  return configured && configured.trim() !== "" ? configured : undefined;
}

function mac(timestamp: string, body: string, secret: string): Buffer {
  return createHmac("sha256", secret).update(`${timestamp}.${body}`).digest();
}

/** The X-Hermes-Signature value for a body sent at `timestamp` (unix seconds, as a string). */
export function sign(body: string, secret: string, timestamp: string): string {
  return `sha256=${mac(timestamp, body, secret).toString("hex")}`;
}

export function verifySignature(
  body: string,
  header: string | undefined,
  secret: string,
  timestamp: string | undefined,
): boolean {
  if (!header || !timestamp || !/^\d{1,12}$/.test(timestamp)) return false;
  const match = /^sha256=([0-9a-f]{64})$/i.exec(header.trim());
  if (!match?.[1]) return false;
  return timingSafeEqual(Buffer.from(match[1].toLowerCase(), "hex"), mac(timestamp, body, secret));
}

/** Whether a signed timestamp (unix seconds) is within MAX_SIGNATURE_SKEW_MS of `nowMs`. */
export function timestampFresh(timestamp: string, nowMs: number): boolean {
  return Math.abs(Number(timestamp) * 1000 - nowMs) <= MAX_SIGNATURE_SKEW_MS;
}
