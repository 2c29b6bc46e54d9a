import { createHash, timingSafeEqual } from "node:crypto";
import { HermesError } from "../../errors.ts";
import { HttpStatusError } from "../envelope.ts";

/**
 * Bearer HERMES_ADMIN_TOKEN, compared in constant time (both sides hashed to 32 bytes first, so
 * neither the token's content nor its length leaks through timing).
 */
export function tokensMatch(presented: string, expected: string): boolean {
  return timingSafeEqual(digest(presented), expectedDigest(expected));
}

const digest = (token: string) => createHash("sha256").update(token, "utf8").digest();

/** The configured token's digest, kept: it is the same on every request (one hash per request, not two). */
let kept: { token: string; digest: Buffer } | undefined;
function expectedDigest(expected: string): Buffer {
  if (kept?.token !== expected) kept = { token: expected, digest: digest(expected) };
  return kept.digest;
}

/** Throws the error to answer with, or returns when the Authorization header carries the token. */
export function checkBearer(authorization: string | undefined, expected: string | undefined): void {
  if (!expected) {
    throw new HttpStatusError(503, "UNAUTHORIZED", "The API is disabled until HERMES_ADMIN_TOKEN is set.", {
      userAction:
        "Set HERMES_ADMIN_TOKEN (16 characters or more) in Hermes' environment and restart; then send it as 'Authorization: Bearer <token>'.",
    });
  }
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "");
  if (!match?.[1]) {
    throw new HermesError("UNAUTHORIZED", "This endpoint needs the admin token.", {
      userAction: "Send the header 'Authorization: Bearer <HERMES_ADMIN_TOKEN>'.",
    });
  }
  if (!tokensMatch(match[1], expected)) {
    throw new HermesError("UNAUTHORIZED", "The token is not valid.", {
      userAction: "Check the token against HERMES_ADMIN_TOKEN in Hermes' environment.",
    });
  }
}
