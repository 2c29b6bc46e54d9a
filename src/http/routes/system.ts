import type { Hono } from "hono";
import { z } from "zod";
import type { ConfigRow } from "../../config/system-config.ts";
import { isSecretKey, shownValue } from "../../config/system-config.ts";
import { HermesError } from "../../errors.ts";
import type { ApiEnv } from "../envelope.ts";
import { jsonBody, validate } from "../middleware/body.ts";
import { configPutSchema } from "../schemas.ts";
import type { RouteContext } from "./context.ts";

const shown = (key: string, value: string | null): string | null =>
  value === null ? null : shownValue(key, value);

export function configRowView(row: ConfigRow) {
  const secret = isSecretKey(row.config_key);
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
    const { value: changes } = await jsonBody(c, configPutSchema(), rc.bodyLimit());
    const by = `api:${c.get("client")}`;
    // Check every change before applying any, so a batch is all-or-nothing for bad input.
    const seen = new Set<string>();
    for (const [i, change] of changes.entries()) {
      if (seen.has(change.key))
        throw new HermesError("INVALID_INPUT", `${change.key} appears twice in one request.`, {
          details: changes.length > 1 ? `changes.${i}` : "key",
        });
      seen.add(change.key);
      deps.config.check(change.key, change.value);
    }
    // set() validates again, stores, audits and announces (backups reschedule on that).
    const applied = [];
    for (const { key, value } of changes) {
      const result = await deps.config.set(key, value, by);
      applied.push({
        key,
        value: shown(key, result.value),
        previous: shown(key, result.previous),
        restart_required: result.requiresRestart,
      });
    }
    deps.log.info({ keys: applied.map((a) => a.key), by }, "configuration changed via API");
    return envelopes.ok(c, {
      changes: applied,
      restart_required: applied.some((a) => a.restart_required),
      updated_by: by,
    });
  });
}
