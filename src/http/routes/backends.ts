import type { Hono } from "hono";
import { z } from "zod";
import { hasCredentials } from "../../backends/http/text.ts";
import { BACKEND_KEY_ENV_HINT, isBackendKeyEnv } from "../../backends/secret-env.ts";
import { HermesError } from "../../errors.ts";
import type { BackendChange } from "../deps.ts";
import type { ApiEnv } from "../envelope.ts";
import { jsonBody } from "../middleware/body.ts";
import type { RouteContext } from "./context.ts";

/** Runtime changes to the backend registry: list, add, change, enable and disable, no restart. */
const name = z.string().regex(/^[a-z0-9_-]{1,40}$/, "lowercase letters, digits, - and _ (1–40)");
const list = z.array(z.string().trim().min(1).max(100)).max(50);

const changeSchema = z.strictObject({
  enabled: z.boolean().optional(),
  url: z
    .url({ protocol: /^https?$/ })
    .refine((u) => !hasCredentials(u), "must not contain credentials (user:password@)")
    .optional(),
  provider: z.enum(["ollama", "talos", "openrouter", "openai", "custom"]).optional(),
  type: z.enum(["local", "remote_api", "server_model", "custom"]).optional(),
  free: z.boolean().optional(),
  models: list.optional(),
  default_model: z.string().trim().min(1).max(100).optional(),
  concurrency: z.number().int().min(1).max(64).optional(),
  timeout_seconds: z.number().int().min(1).max(86_400).optional(),
  preferred_for: list.optional(),
  fallbacks: list.optional(),
  /**
   * The environment variable holding its key (the key itself is never sent or stored): only a
   * backend key variable, never another component's secret (see secret-env.ts).
   */
  secret_env: z
    .string()
    .regex(/^[A-Z][A-Z0-9_]{0,63}$/, "an environment variable name")
    .refine(isBackendKeyEnv, `must be a backend key variable: ${BACKEND_KEY_ENV_HINT}`)
    .optional(),
});

const createSchema = changeSchema.extend({
  name,
  url: changeSchema.shape.url.unwrap(),
  provider: changeSchema.shape.provider.unwrap(),
});

function toChange(n: string, body: z.infer<typeof changeSchema>): BackendChange {
  const out: BackendChange = { name: n };
  if (body.enabled !== undefined) out.enabled = body.enabled;
  if (body.url !== undefined) out.url = body.url.replace(/\/+$/, "");
  if (body.provider !== undefined) out.provider = body.provider;
  if (body.type !== undefined) out.type = body.type;
  if (body.free !== undefined) out.free = body.free;
  if (body.models !== undefined) out.models = body.models;
  if (body.default_model !== undefined) out.defaultModel = body.default_model;
  if (body.concurrency !== undefined) out.concurrency = body.concurrency;
  if (body.timeout_seconds !== undefined) out.timeoutMs = body.timeout_seconds * 1000;
  if (body.preferred_for !== undefined) out.preferredFor = body.preferred_for;
  if (body.fallbacks !== undefined) out.fallbacks = body.fallbacks;
  if (body.secret_env !== undefined) out.secretEnv = body.secret_env;
  return out;
}

export function registerBackendRoutes(api: Hono<ApiEnv>, rc: RouteContext): void {
  const port = () => {
    const b = rc.deps.backendAdmin;
    if (!b) throw new HermesError("NOT_FOUND", "Backend administration is not available.");
    return b;
  };

  api.get("/api/backends", (c) => rc.envelopes.ok(c, { backends: port().status() }));

  api.post("/api/backends", async (c) => {
    const { value } = await jsonBody(c, createSchema, rc.bodyLimit());
    const b = port();
    if (b.status().some((s) => s.name === value.name)) {
      throw new HermesError(
        "INVALID_INPUT",
        `A backend called ${value.name} exists; PUT /api/backends/${value.name} changes it.`,
        {
          details: "name",
        },
      );
    }
    const status = b.upsert({ ...toChange(value.name, value), origin: "runtime" });
    rc.deps.log.info({ backend: value.name, by: `api:${c.get("client")}` }, "backend added via API");
    return rc.envelopes.ok(c, { backend: status });
  });

  api.put("/api/backends/:name", async (c) => {
    const n = name.safeParse(c.req.param("name"));
    if (!n.success)
      throw new HermesError("INVALID_INPUT", "That is not a backend name.", { details: "name" });
    const { value } = await jsonBody(c, changeSchema, rc.bodyLimit());
    const b = port();
    if (!b.status().some((s) => s.name === n.data))
      throw new HermesError("NOT_FOUND", `There is no backend called ${n.data}.`);
    const change = toChange(n.data, value);
    const status =
      Object.keys(change).length === 2 && value.enabled !== undefined
        ? b.setEnabled(n.data, value.enabled)
        : b.upsert(change);
    rc.deps.log.info({ backend: n.data, by: `api:${c.get("client")}` }, "backend changed via API");
    return rc.envelopes.ok(c, { backend: status });
  });
}
