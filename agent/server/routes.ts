import type { Context, Hono } from "hono";
import {
  type CancelResponse,
  ExecuteRequestSchema,
  type HealthResponse,
  type ModelsResponse,
  TALOS_VERSION,
} from "../protocol.ts";
import { fail, jobIdParam, readJson } from "./replies.ts";
import type { RouteScope } from "./types.ts";

/**
 * Talos' five routes (see the table in server.ts), installed behind the authentication and body
 * limit of createTalosApp: the jobs (execute, status, cancel) and the machine (health, models).
 */
export function installTalosRoutes(app: Hono, scope: RouteScope): void {
  app.post("/agent/execute", (c) => execute(c, scope));
  app.get("/agent/status/:job_id", (c) => status(c, scope));
  app.post("/agent/cancel/:job_id", (c) => cancel(c, scope));
  app.get("/agent/health", async (c) => c.json(await health(scope), 200));
  app.get("/agent/models", (c) => models(c, scope));
}

async function execute(c: Context, { deps, log, guard }: RouteScope): Promise<Response> {
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
}

function status(c: Context, { deps }: RouteScope): Response {
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
  const found = deps.jobs.status(id.id, textFrom);
  if (!found) return fail(c, 404, "NOT_FOUND", `no job ${id.id} (unknown, or its result expired)`);
  return c.json(found, 200);
}

function cancel(c: Context, { deps, log }: RouteScope): Response {
  const id = jobIdParam(c);
  if (!id.ok) return id.res;
  const result: CancelResponse | undefined = deps.jobs.cancel(id.id);
  if (!result) return fail(c, 404, "NOT_FOUND", `no job ${id.id}`);
  if (result.cancelled) log.info({ job_id: id.id }, "job cancelled");
  return c.json(result, 200);
}

/** "degraded", with the reasons, when Ollama is unreachable or the machine is above its limits. */
async function health({ deps, now, startedAt }: RouteScope): Promise<HealthResponse> {
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
  return {
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
}

async function models(c: Context, { deps }: RouteScope): Promise<Response> {
  try {
    const body: ModelsResponse = { models: await deps.ollama.models() };
    return c.json(body, 200);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    return fail(c, 502, "OLLAMA_UNAVAILABLE", `cannot list Ollama's models at ${deps.ollama.url}: ${reason}`);
  }
}
