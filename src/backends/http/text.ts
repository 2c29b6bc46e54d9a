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

/** Whether a URL carries user:password@ (however spelled: the URL parser normalises it). */
export function hasCredentials(url: string): boolean {
  try {
    const u = new URL(url);
    return u.username !== "" || u.password !== "";
  } catch {
    return /\/\/[^/]*@/.test(url);
  }
}

const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]+/gi;
const SECRET_PARAM = /(key|token|secret|password|passwd|pwd|auth|signature|sig|credential)/i;

/** One URL without user:password and with secret-looking query values replaced. */
function redactUrl(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return raw.replace(/\/\/[^/?#\s]*@/, "//");
  }
  if (u.username === "" && u.password === "" && ![...u.searchParams.keys()].some((k) => SECRET_PARAM.test(k)))
    return raw;
  u.username = "";
  u.password = "";
  for (const k of [...u.searchParams.keys()]) if (SECRET_PARAM.test(k)) u.searchParams.set(k, "redacted");
  return u.toString();
}

/**
 * Every URL in a text without its credentials: userinfo stripped, secret-looking query parameters
 * (key, token, secret, signature…) replaced. Error texts of HTTP clients often quote the URL called.
 */
export function redactUrls(text: string): string {
  return text.replace(URL_IN_TEXT, redactUrl);
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
