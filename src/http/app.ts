import { Hono } from "hono";
import { HermesError, toHermesError } from "../errors.ts";
import { PROMETHEUS_CONTENT_TYPE } from "../ops/metrics.ts";
import type { ApiDeps } from "./deps.ts";
import { type ApiContext, type ApiEnv, Envelopes, newRequestId } from "./envelope.ts";
import { checkBearer } from "./middleware/auth.ts";
import { apiGuard } from "./middleware/guard.ts";
import { ClientRateLimiter } from "./middleware/rate-limit.ts";
import { registerBackendRoutes } from "./routes/backends.ts";
import type { RouteContext } from "./routes/context.ts";
import { registerExternalRoutes } from "./routes/external.ts";
import { registerLearnRoutes } from "./routes/learn.ts";
import { registerSystemRoutes } from "./routes/system.ts";
import { registerThreadRoutes } from "./routes/threads.ts";

export type { ApiDeps } from "./deps.ts";

export interface HealthSources {
  databaseUsable: () => boolean;
  bot: () => "running" | "off" | "stopped";
  backends: () => {
    name: string;
    kind: string;
    health: string;
    location: string;
    lastError?: string | undefined;
  }[];
  queue: () => Record<string, number>;
  /** Whether the database refuses writes for lack of space (reads, and so /health, still work). */
  storageFull?: () => boolean;
  startedAt: number;
  now: () => number;
  /** Shows /health's details to its holder when no `api` is given (api.adminToken otherwise). */
  adminToken?: string | undefined;
}

export interface HttpAppDeps extends HealthSources {
  /** The admin/external API and /metrics. Without it (or without an admin token) they answer 503. */
  api?: ApiDeps | undefined;
}

const CLIENT_NAME = /^[A-Za-z0-9._-]{1,40}$/;
const SIGNED_CALLBACK_PATH = /^\/api\/external\/callback\/[^/]+\/?$/;

function remoteAddress(c: ApiContext): string | undefined {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  return env?.incoming?.socket?.remoteAddress;
}

/**
 * The admin HTTP server. `GET /health` needs no token: liveness and readiness for pm2 and monitors
 * (`{status: ok|degraded|down}`; with the admin token also database, bot, backends and queue).
 * 503 only when the database is unusable — a dead backend is degraded service, not a dead Hermes.
 * Everything else (`/api/*`, `/metrics`) needs `Authorization: Bearer <HERMES_ADMIN_TOKEN>` and
 * answers in the spec's envelopes.
 */
export function createHttpApp(sources: HttpAppDeps): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  const api = sources.api;
  const envelopes = new Envelopes(api?.now ?? sources.now, [api?.adminToken, ...(api?.secrets ?? [])]);
  const limiter = new ClientRateLimiter(api?.now ?? sources.now);

  app.use("*", async (c, next) => {
    c.set("requestId", newRequestId(c.req.header("x-request-id")));
    c.set("startedAt", (api?.now ?? sources.now)());
    const name = c.req.header("x-hermes-client");
    c.set("client", name && CLIENT_NAME.test(name) ? name : (remoteAddress(c) ?? "local"));
    await next();
    setRequestId(c);
  });
  app.get("/health", (c) => healthResponse(c, sources));

  // Authentication, then rate limiting by the principal proved (failed attempts: per address).
  const guard = apiGuard({
    adminToken: api?.adminToken,
    limiter,
    perMinute: () =>
      api?.config.get("hermes.debug.api_rate_limiting")
        ? api.config.get("hermes.api.rate_limit_per_minute")
        : undefined,
    remoteAddress: (c) => remoteAddress(c) ?? "local",
    signedElsewhere: (c) => SIGNED_CALLBACK_PATH.test(c.req.path),
  });
  app.use("/api/*", guard);
  app.use("/metrics", guard);
  if (api) registerApiRoutes(app, api, envelopes);

  app.notFound((c) =>
    envelopes.fail(
      c,
      new HermesError("NOT_FOUND", `No such endpoint: ${c.req.method} ${c.req.path}.`, {
        userAction: "See the API list in README (API section).",
      }),
    ),
  );
  app.onError((err, c) => {
    const error = toHermesError(err);
    if (error.code === "INTERNAL")
      api?.log.error(
        {
          requestId: c.get("requestId"),
          method: c.req.method,
          path: c.req.path,
          err: err instanceof Error ? { message: err.message, stack: err.stack } : String(err),
        },
        "API request failed",
      );
    return envelopes.fail(c, err);
  });
  return app;
}

// Without the admin token: the status word only. Backend names, URLs, error texts and queue
// counts tell an outsider what runs where (and errors may quote hosts), so they need the token.
function healthResponse(c: ApiContext, sources: HttpAppDeps) {
  const dbOk = sources.databaseUsable();
  const backends = sources.backends();
  const anyHealthy = backends.some((b) => b.health === "healthy");
  const full = sources.storageFull?.() ?? false;
  const status = !dbOk ? "down" : anyHealthy && !full ? "ok" : "degraded";
  const token = sources.api?.adminToken ?? sources.adminToken;
  let detailed = false;
  try {
    if (token && c.req.header("authorization")) {
      checkBearer(c.req.header("authorization"), token);
      detailed = true;
    }
  } catch {
    detailed = false;
  }
  if (!detailed) return c.json({ status }, dbOk ? 200 : 503);
  return c.json(
    {
      status,
      uptime_s: Math.round((sources.now() - sources.startedAt) / 1000),
      database: !dbOk ? "unusable" : full ? "full" : "ok",
      bot: sources.bot(),
      backends: backends.map((b) => ({
        name: b.name,
        kind: b.kind,
        health: b.health,
        location: b.location,
        ...(b.lastError && b.health !== "healthy" ? { last_error: b.lastError } : {}),
      })),
      queue: dbOk ? sources.queue() : undefined,
    },
    dbOk ? 200 : 503,
  );
}

function registerApiRoutes(app: Hono<ApiEnv>, api: ApiDeps, envelopes: Envelopes): void {
  const rc: RouteContext = {
    deps: api,
    envelopes,
    bodyLimit: () => Math.round(api.config.get("hermes.api.max_body_kb") * 1024),
  };
  app.get("/metrics", (c) => {
    c.header("Content-Type", PROMETHEUS_CONTENT_TYPE);
    return c.body(api.metrics());
  });
  registerThreadRoutes(app, rc);
  registerLearnRoutes(app, rc);
  registerSystemRoutes(app, rc);
  registerBackendRoutes(app, rc);
  registerExternalRoutes(app, rc);
}

/**
 * X-Request-Id, set on the response's own headers: c.header() on a finished response rebuilds it,
 * which made @hono/node-server turn its light response into a full web Response (~1% of an idea's
 * CPU). A response with immutable headers (one passed through from fetch) goes through c.header().
 */
function setRequestId(c: ApiContext): void {
  try {
    c.res.headers.set("X-Request-Id", c.get("requestId"));
  } catch {
    c.header("X-Request-Id", c.get("requestId"));
  }
}
