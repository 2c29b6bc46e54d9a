/** Node/undici network failures: their codes, found through `cause` chains, in words. */

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

export function describeNetworkCause(err: unknown): string {
  const code = networkCode(err);
  if (code) return NETWORK_CODES[code] ?? code;
  if (err instanceof Error) {
    const inner = err.cause instanceof Error ? `: ${err.cause.message}` : "";
    return `${err.message}${inner}`;
  }
  return String(err);
}
