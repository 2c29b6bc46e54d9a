import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * X-Hermes-Signature: `sha256=<hex HMAC-SHA256 of the raw body>`, the same scheme for callbacks
 * Hermes sends and callbacks it receives. The key is `hermes.api.callback_secret` when set, else
 * derived from HERMES_ADMIN_TOKEN: hex(HMAC-SHA256(key = admin token, "hermes-callback-signature-v1")).
 */
export const SIGNATURE_HEADER = "X-Hermes-Signature";
const DERIVATION_LABEL = "hermes-callback-signature-v1";

export function deriveCallbackSecret(adminToken: string): string {
  return createHmac("sha256", adminToken).update(DERIVATION_LABEL).digest("hex");
}

/** The configured secret, else the token-derived one, else undefined (nothing to sign with). */
export function callbackSecret(
  configured: string | undefined,
  adminToken: string | undefined,
): string | undefined {
  if (configured && configured.trim() !== "") return configured;
  return adminToken ? deriveCallbackSecret(adminToken) : undefined;
}

export function sign(body: string | Uint8Array, secret: string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

export function verifySignature(
  body: string | Uint8Array,
  header: string | undefined,
  secret: string,
): boolean {
  if (!header) return false;
  const match = /^sha256=([0-9a-f]{64})$/i.exec(header.trim());
  if (!match?.[1]) return false;
  const expected = createHmac("sha256", secret).update(body).digest();
  return timingSafeEqual(Buffer.from(match[1].toLowerCase(), "hex"), expected);
}
