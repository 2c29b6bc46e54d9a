import { HermesError } from "../../errors.ts";
import type { ApiContext } from "../envelope.ts";
import { checkBearer } from "./auth.ts";
import type { ClientRateLimiter } from "./rate-limit.ts";

/** The one principal the admin token authenticates; rate limits and idea limits key on it. */
export const ADMIN_PRINCIPAL = "admin";

export interface GuardOptions {
  adminToken: string | undefined;
  limiter: ClientRateLimiter;
  /** hermes.api.rate_limit_per_minute while hermes.debug.api_rate_limiting is on, else undefined. */
  perMinute: () => number | undefined;
  remoteAddress: (c: ApiContext) => string;
  /** Requests that carry their own credential instead of the admin token (signed callbacks). */
  signedElsewhere: (c: ApiContext) => boolean;
}

/**
 * Authenticates, then rate-limits by who the request proved to be — never by a name the client
 * chooses. Buckets: the admin token holder has one; each remote address has one for failed
 * authentications (so a flood of wrong tokens meets 429 itself and never empties the admin's bucket,
 * even from the same address behind a proxy); signed callbacks are limited per address.
 */
export function apiGuard(o: GuardOptions) {
  return async (c: ApiContext, next: () => Promise<void>): Promise<void> => {
    if (o.adminToken && o.signedElsewhere(c)) {
      limit(o, `callback:${o.remoteAddress(c)}`);
    } else {
      try {
        checkBearer(c.req.header("authorization"), o.adminToken);
      } catch (error) {
        limit(o, `failed-auth:${o.remoteAddress(c)}`);
        throw error;
      }
      limit(o, `principal:${ADMIN_PRINCIPAL}`);
    }
    await next();
  };
}

function limit(o: GuardOptions, bucket: string): void {
  const perMinute = o.perMinute();
  if (perMinute === undefined) return;
  const wait = o.limiter.take(bucket, perMinute);
  if (wait > 0)
    throw new HermesError("RATE_LIMITED", "Too many requests from this client.", {
      retryAfter: wait,
      userAction: `Wait ${wait} s before the next request.`,
    });
}
