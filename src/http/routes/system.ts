import { Cron } from "croner";
import type { Hono } from "hono";
import { z } from "zod";
import { HTTP_API_CONFIG } from "../../../migrations/006_http_api.ts";
import { SEED_CONFIG } from "../../../migrations/seed-config.ts";
import { isSecretKey, maskSecret, normalise } from "../../config/system-config.ts";
import { HermesError } from "../../errors.ts";
import type { ConfigRow } from "../../store/system/config-repo.ts";
import type { ApiEnv } from "../envelope.ts";
import { jsonBody, validate } from "../middleware/body.ts";
import { configPutSchema } from "../schemas.ts";
import type { RouteContext } from "./context.ts";

const SECRET_KEYS: ReadonlySet<string> = new Set(
  [...SEED_CONFIG, ...HTTP_API_CONFIG].filter((e) => e.secret).map((e) => e.config_key),
);

/** Secrets never leave Hermes in full: by the seed's `secret` flag or by the key's name. */
export function isSecretConfig(key: string): boolean {
  return SECRET_KEYS.has(key) || isSecretKey(key);
}

const shown = (key: string, value: string | null): string | null =>
  value === null ? null : isSecretConfig(key) ? maskSecret(value) : value;

export function configRowView(row: ConfigRow) {
  const secret = isSecretConfig(row.config_key);
  return {
    key: row.config_key,
    value: shown(row.config_key, row.config_value),
    type: row.value_type,
    config_type: row.config_type,
    category: row.config_category,
    description: row.description,
    default: shown(row.config_key, row.default_value),
    range:
      (row.min_value ?? "") === "" && (row.max_value ?? "") === ""
        ? null
        : {
            min: row.min_value === "" ? null : row.min_value,
            max: row.max_value === "" ? null : row.max_value,
          },
    validation_regex: row.validation_regex,
    editable: row.is_user_editable === 1,
    requires_restart: row.requires_restart === 1,
    secret,
    is_set: secret ? row.config_value !== "" : undefined,
    last_updated: row.last_updated,
    updated_by: row.updated_by,
  };
}

const configQuery = z.strictObject({
  prefix: z.string().max(200).optional(),
  category: z.string().max(40).optional(),
});

/** System management: /api/system/health and /api/system/config. */
export function registerSystemRoutes(api: Hono<ApiEnv>, rc: RouteContext): void {
  const { deps, envelopes } = rc;

  api.get("/api/system/health", (c) => {
    const report = deps.system();
    return c.json(
      { status: "success", data: report, meta: envelopes.meta(c) },
      report.components.database.status === "unusable" ? 503 : 200,
    );
  });

  api.get("/api/system/config", (c) => {
    const q = validate(configQuery, c.req.query(), "query");
    const rows = deps.config
      .list()
      .filter((r) => (q.prefix ? r.config_key.startsWith(q.prefix) : true))
      .filter((r) => (q.category ? r.config_category === q.category : true))
      .sort((a, b) => a.config_key.localeCompare(b.config_key));
    return envelopes.ok(c, { count: rows.length, config: rows.map(configRowView) });
  });

  api.put("/api/system/config", async (c) => {
    const { value: changes } = await jsonBody(c, configPutSchema, rc.bodyLimit());
    const by = `api:${c.get("client")}`;
    // Validate every change before applying any, so a batch is all-or-nothing for bad input.
    const seen = new Set<string>();
    const planned: { row: ConfigRow; value: string }[] = [];
    for (const [i, change] of changes.entries()) {
      const field = changes.length > 1 ? `changes.${i}` : "key";
      if (seen.has(change.key))
        throw new HermesError("INVALID_INPUT", `${change.key} appears twice in one request.`, {
          details: field,
        });
      seen.add(change.key);
      const row = deps.config.row(change.key);
      if (!row)
        throw new HermesError("NOT_FOUND", `There is no setting called ${change.key}.`, {
          details: field,
          userAction: "GET /api/system/config lists every setting.",
        });
      if (row.is_user_editable !== 1)
        throw new HermesError("FORBIDDEN", `${change.key} cannot be changed at runtime.`, {
          details: field,
          userAction: "Change it in the environment or deployment and restart Hermes.",
        });
      const value = normalise(row, change.value);
      if (row.value_type === "cron") checkCron(change.key, value);
      planned.push({ row, value });
    }
    const applied = [];
    const at = new Date(deps.now()).toISOString();
    for (const { row, value } of planned) {
      const key = row.config_key;
      const result = await deps.config.set(key, value, by);
      deps.configAudit.record({
        key,
        oldValue: shown(key, row.config_value),
        newValue: shown(key, result.value),
        changedBy: by,
        changedAt: at,
        requiresRestart: result.requiresRestart,
      });
      applied.push({
        key,
        value: shown(key, result.value),
        previous: shown(key, row.config_value),
        restart_required: result.requiresRestart,
      });
    }
    const keys = applied.map((a) => a.key);
    deps.log.info({ keys, by }, "configuration changed via API");
    try {
      deps.onConfigChanged?.(keys);
    } catch (error) {
      deps.log.warn(
        { keys, err: error instanceof Error ? error.message : String(error) },
        "config change hook failed",
      );
    }
    return envelopes.ok(c, {
      changes: applied,
      restart_required: applied.some((a) => a.restart_required),
      updated_by: by,
    });
  });
}

function checkCron(key: string, value: string): void {
  try {
    new Cron(value, { paused: true }).stop();
  } catch (error) {
    throw new HermesError(
      "INVALID_INPUT",
      `${key}: not a valid cron expression (${error instanceof Error ? error.message : String(error)})`,
      { details: key },
    );
  }
}
