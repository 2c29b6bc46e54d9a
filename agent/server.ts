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
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createAdaptorServer } from "@hono/node-server";
import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { ZodError, ZodType } from "zod";
import type { JobManager } from "./jobs.ts";
import type { OllamaInfoPort } from "./ollama.ts";
import {
  type CancelResponse,
  type ErrorBody,
  ExecuteRequestSchema,
  type HealthResponse,
  JobIdSchema,
  MAX_BODY_BYTES,
  type ModelsResponse,
  TALOS_VERSION,
  type TalosErrorCode,
} from "./protocol.ts";
import {
  createResourceGuard,
  type ResourceGuard,
  type ResourceLimits,
  type ResourceProbe,
} from "./resources.ts";

/** The slice of a pino logger the server uses. */
export interface AgentLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface TalosAppDeps {
  /** The shared secret; undefined only when the config allowed no token (loopback + explicit opt-in). */
  token: string | undefined;
  jobs: JobManager;
  ollama: OllamaInfoPort;
  resources: ResourceProbe;
  limits: ResourceLimits;
  /** Defaults to a guard over `resources` and `limits`. */
  guard?: ResourceGuard;
  log?: AgentLogger;
  /** For uptime; defaults to Date.now. */
  now?: () => number;
  maxBodyBytes?: number;
}

const silentLog: AgentLogger = { info() {}, warn() {}, error() {} };

const digest = (s: string): Buffer => createHash("sha256").update(s, "utf8").digest();

function errorBody(
  code: TalosErrorCode,
  message: string,
  extra: { field?: string; retry_after?: number } = {},
): ErrorBody {
  return { error: { code, message, ...extra } };
}

/** The first zod issue as a dotted field path ("options.temperature", "messages.0.role"). */
function fieldOf(error: ZodError): { field: string; message: string } {
  const issue = error.issues[0];
  if (!issue) return { field: "body", message: "invalid body" };
  const path = issue.path.map(String);
  if (issue.code === "unrecognized_keys" && issue.keys.length > 0) {
    const field = [...path, issue.keys[0]].join(".");
    return { field, message: `unknown field "${field}"` };
  }
  const field = path.length > 0 ? path.join(".") : "body";
  return { field, message: `${field}: ${issue.message}` };
}

export function createTalosApp(deps: TalosAppDeps): Hono {
  const app = new Hono();
  const log = deps.log ?? silentLog;
  const now = deps.now ?? Date.now;
  const startedAt = now();
  const guard = deps.guard ?? createResourceGuard(deps.resources, deps.limits);
  const expected = deps.token === undefined ? undefined : digest(deps.token);

  const fail = (
    c: Context,
    status: 400 | 401 | 404 | 409 | 413 | 500 | 502 | 503,
    code: TalosErrorCode,
    message: string,
    extra: { field?: string; retry_after?: number } = {},
  ) => {
    if (extra.retry_after !== undefined) c.header("Retry-After", String(Math.ceil(extra.retry_after)));
    return c.json(errorBody(code, message, extra), status);
  };

  async function readJson<T>(
    c: Context,
    schema: ZodType<T>,
  ): Promise<{ ok: true; value: T } | { ok: false; res: Response }> {
    let raw: unknown;
    try {
      const text = await c.req.text();
      raw = JSON.parse(text);
    } catch {
      return {
        ok: false,
        res: fail(c, 400, "INVALID_INPUT", "the body is not valid JSON", { field: "body" }),
      };
    }
    const parsed = schema.safeParse(raw);
    if (!parsed.success) {
      const { field, message } = fieldOf(parsed.error);
      return { ok: false, res: fail(c, 400, "INVALID_INPUT", message, { field }) };
    }
    return { ok: true, value: parsed.data };
  }

  function jobIdParam(c: Context): { ok: true; id: string } | { ok: false; res: Response } {
    const parsed = JobIdSchema.safeParse(c.req.param("job_id"));
    if (parsed.success) return { ok: true, id: parsed.data };
    return {
      ok: false,
      res: fail(c, 400, "INVALID_INPUT", `job_id: ${parsed.error.issues[0]?.message ?? "invalid"}`, {
        field: "job_id",
      }),
    };
  }

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

  app.post("/agent/execute", async (c) => {
    const body = await readJson(c, ExecuteRequestSchema);
    if (!body.ok) return body.res;
    const req = body.value;

    // The same job again needs no slot and no resources: answer it before any guard.
    let outcome = deps.jobs.existing(req);
    if (!outcome) {
      const verdict = await guard.check();
      if (!verdict.ok) {
        log.warn({ job_id: req.job_id, reason: verdict.reason }, "refused: machine above its limits");
        return fail(c, 503, "OVERLOADED", verdict.reason, { retry_after: verdict.retryAfter });
      }
      outcome = deps.jobs.submit(req);
    }
    switch (outcome.kind) {
      case "accepted":
        log.info({ job_id: req.job_id, model: req.model }, "job accepted");
        return c.json(outcome.response, 202);
      case "existing":
        return c.json(outcome.response, 200);
      case "busy":
        return fail(c, 503, "BUSY", outcome.message, { retry_after: outcome.retryAfter });
      case "closing":
        return fail(c, 503, "SHUTDOWN", outcome.message, { retry_after: outcome.retryAfter });
      case "conflict":
        return fail(c, 409, "CONFLICT", outcome.message, { field: "job_id" });
    }
  });

  app.get("/agent/status/:job_id", (c) => {
    const id = jobIdParam(c);
    if (!id.ok) return id.res;
    const from = c.req.query("text_from");
    let textFrom: number | undefined;
    if (from !== undefined) {
      textFrom = Number(from);
      if (!/^\d+$/.test(from) || !Number.isSafeInteger(textFrom)) {
        return fail(c, 400, "INVALID_INPUT", "text_from must be a whole number ≥ 0", { field: "text_from" });
      }
    }
    const status = deps.jobs.status(id.id, textFrom);
    if (!status) return fail(c, 404, "NOT_FOUND", `no job ${id.id} (unknown, or its result expired)`);
    return c.json(status, 200);
  });

  app.post("/agent/cancel/:job_id", (c) => {
    const id = jobIdParam(c);
    if (!id.ok) return id.res;
    const result: CancelResponse | undefined = deps.jobs.cancel(id.id);
    if (!result) return fail(c, 404, "NOT_FOUND", `no job ${id.id}`);
    if (result.cancelled) log.info({ job_id: id.id }, "job cancelled");
    return c.json(result, 200);
  });

  app.get("/agent/health", async (c) => {
    const [probe, resources] = await Promise.all([deps.ollama.probe(), deps.resources.snapshot()]);
    const reasons: string[] = [];
    if (!probe.reachable) {
      reasons.push(`Ollama is not reachable at ${deps.ollama.url}${probe.error ? ` (${probe.error})` : ""}`);
    }
    if (resources.memory_percent > deps.limits.maxMemoryPercent) {
      reasons.push(`memory use ${resources.memory_percent}% is above ${deps.limits.maxMemoryPercent}%`);
    }
    if (resources.cpu_percent > deps.limits.maxCpuPercent) {
      reasons.push(`CPU use ${resources.cpu_percent}% is above ${deps.limits.maxCpuPercent}%`);
    }
    const body: HealthResponse = {
      status: reasons.length === 0 ? "ok" : "degraded",
      version: TALOS_VERSION,
      uptime_s: Math.max(0, Math.round((now() - startedAt) / 1000)),
      ...(reasons.length > 0 ? { reasons } : {}),
      resources,
      ollama: {
        reachable: probe.reachable,
        url: deps.ollama.url,
        latency_ms: probe.latency_ms,
        ...(probe.version ? { version: probe.version } : {}),
        ...(probe.loaded_models ? { loaded_models: probe.loaded_models } : {}),
      },
      jobs: deps.jobs.counts(),
    };
    return c.json(body, 200);
  });

  app.get("/agent/models", async (c) => {
    try {
      const body: ModelsResponse = { models: await deps.ollama.models() };
      return c.json(body, 200);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      return fail(
        c,
        502,
        "OLLAMA_UNAVAILABLE",
        `cannot list Ollama's models at ${deps.ollama.url}: ${reason}`,
      );
    }
  });

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
