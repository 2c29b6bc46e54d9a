/** Safe text for backend error messages: host without credentials, secrets scrubbed, Retry-After. */

/** Minimal view of response headers: `Headers` and plain lookups both fit. */
export interface HeaderLookup {
  get(name: string): string | null;
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

/** ~4 characters a token; only used when a server does not report counts. */
export const estimateTokens = (text: string): number => Math.ceil(text.length / 4);
