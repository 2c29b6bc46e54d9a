/**
 * Talos' HTTP face: a hono app over the job table, the resource guard and Ollama. Every route wants
 * the bearer token (compared in constant time), every body is checked against agent/protocol.ts,
 * and every failure answers the one error body `{error:{code, message, field?, retry_after?}}`.
 *
 *   POST /agent/execute          202 new job · 200 same job_id again · 503 busy/overloaded (Retry-After)
 *   GET  /agent/status/:job_id   200 · 404 unknown (or expired)
 *   POST /agent/cancel/:job_id   200 · 404
 *   GET  /agent/health           200, status "degraded" when Ollama is unreachable or limits exceeded
 *   GET  /agent/models           200 · 502 when Ollama is unreachable
 *
 * This file builds the app (errors, authentication, body limit) and listens; the routes are in
 * routes.ts and the error body and input checks in replies.ts.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createAdaptorServer } from "@hono/node-server";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { MAX_BODY_BYTES } from "../protocol.ts";
import { createResourceGuard } from "../resources.ts";
import { fail } from "./replies.ts";
import { installTalosRoutes } from "./routes.ts";
import type { AgentLogger, TalosAppDeps } from "./types.ts";

export type { AgentLogger, TalosAppDeps } from "./types.ts";

const silentLog: AgentLogger = { info() {}, warn() {}, error() {} };

const digest = (s: string): Buffer => createHash("sha256").update(s, "utf8").digest();

export function createTalosApp(deps: TalosAppDeps): Hono {
  const app = new Hono();
  const log = deps.log ?? silentLog;
  const now = deps.now ?? Date.now;
  const startedAt = now();
  const guard = deps.guard ?? createResourceGuard(deps.resources, deps.limits);
  const expected = deps.token === undefined ? undefined : digest(deps.token);

  app.onError((err, c) => {
    log.error({ err: err instanceof Error ? err.message : String(err), path: c.req.path }, "request failed");
    return fail(c, 500, "INTERNAL", "internal error");
  });
  app.notFound((c) => fail(c, 404, "NOT_FOUND", `no route ${c.req.method} ${c.req.path}`));

  // Authentication first: nobody without the token gets us to read a body or touch Ollama.
  app.use("*", async (c, next) => {
    if (expected === undefined) return next();
    const m = /^Bearer[ ]+(\S+)\s*$/i.exec(c.req.header("authorization") ?? "");
    // Equal-length digests: the comparison time says nothing about the token or its length.
    const ok = m?.[1] !== undefined && timingSafeEqual(digest(m[1]), expected);
    if (!ok) {
      c.header("WWW-Authenticate", 'Bearer realm="talos"');
      return fail(c, 401, "UNAUTHORIZED", "missing or wrong bearer token");
    }
    return next();
  });

  app.use(
    "*",
    bodyLimit({
      maxSize: deps.maxBodyBytes ?? MAX_BODY_BYTES,
      onError: (c) =>
        fail(
          c,
          413,
          "PAYLOAD_TOO_LARGE",
          `the body is larger than ${deps.maxBodyBytes ?? MAX_BODY_BYTES} bytes`,
        ),
    }),
  );

  installTalosRoutes(app, { deps, log, guard, now, startedAt });
  return app;
}

export interface RunningServer {
  readonly server: Server;
  readonly port: number;
  /** Stops listening and drops open connections (clients see a reset, like a killed process). */
  close(): Promise<void>;
}

/** Listens with @hono/node-server; resolves once bound (port 0 → an ephemeral port). */
export async function listenTalos(app: Hono, opts: { host: string; port: number }): Promise<RunningServer> {
  const server = createAdaptorServer({ fetch: app.fetch, hostname: opts.host }) as Server;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
