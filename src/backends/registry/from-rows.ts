import type { BackendDefinition, BackendProvider, BackendType } from "../ports.ts";
import { BACKEND_KEY_ENV_HINT, isBackendKeyEnv } from "../secret-env.ts";
import type { StoredBackendRow } from "./types.ts";

/** The `backends` table's side: definitions to and from rows, and rows overlaid on config. */

function stringArray(v: unknown): string[] | undefined {
  return Array.isArray(v) && v.every((s) => typeof s === "string") ? (v as string[]) : undefined;
}

/** A runtime-added backend rebuilt from its row (its config JSON holds the definition, no secret). */
export function definitionFromRow(row: StoredBackendRow): BackendDefinition | undefined {
  const c = row.config;
  const url = typeof c.url === "string" ? c.url : undefined;
  const provider = typeof c.provider === "string" ? (c.provider as BackendProvider) : undefined;
  if (!url || !provider) return undefined;
  const ms = stringArray(c.models) ?? [];
  return {
    name: row.name,
    type: (row.type as BackendType) ?? "custom",
    provider,
    url,
    enabled: row.enabledOverride ?? row.enabled,
    primary: row.primary,
    free: c.free === true,
    models: ms,
    defaultModel: typeof c.defaultModel === "string" ? c.defaultModel : (ms[0] ?? ""),
    concurrency: typeof c.concurrency === "number" ? Math.max(1, c.concurrency) : 1,
    timeoutMs: typeof c.timeoutMs === "number" ? c.timeoutMs : 300_000,
    healthIntervalMs: typeof c.healthIntervalMs === "number" ? c.healthIntervalMs : undefined,
    ratePerMinute: typeof c.ratePerMinute === "number" ? c.ratePerMinute : undefined,
    preferredFor: row.preferredFor ?? [],
    fallbacks: row.fallbacks ?? [],
    secretEnv: typeof c.secretEnv === "string" ? c.secretEnv : undefined,
    origin: "runtime",
  };
}

/** The JSON stored in backends.config for a definition: everything but the columns, never a secret. */
export function definitionConfig(def: BackendDefinition): Record<string, unknown> {
  return {
    provider: def.provider,
    url: def.url,
    free: def.free,
    models: def.models,
    defaultModel: def.defaultModel,
    concurrency: def.concurrency,
    timeoutMs: def.timeoutMs,
    healthIntervalMs: def.healthIntervalMs,
    ratePerMinute: def.ratePerMinute,
    secretEnv: def.secretEnv,
  };
}

/**
 * Config definitions overlaid with runtime changes from the table, plus runtime-added backends.
 * A stored runtime backend whose key variable is not a backend key (a row written before that was
 * checked, or edited by hand: `secretEnv: TELEGRAM_BOT_TOKEN`) is refused and reported in `skipped`.
 */
export function mergeStored(
  configured: { definition: BackendDefinition; secret: string | undefined }[],
  rows: readonly StoredBackendRow[],
  secretOf: (envName: string) => string | undefined,
  skipped: { name: string; reason: string }[] = [],
): { definition: BackendDefinition; secret: string | undefined }[] {
  const byName = new Map(rows.map((r) => [r.name, r]));
  const out = configured.map(({ definition, secret }) => {
    const row = byName.get(definition.name);
    if (!row) return { definition, secret };
    return {
      definition: {
        ...definition,
        enabled: row.enabledOverride ?? definition.enabled,
        preferredFor: row.preferredFor ?? definition.preferredFor,
        fallbacks: row.fallbacks ?? definition.fallbacks,
      },
      secret,
    };
  });
  const known = new Set(configured.map((c) => c.definition.name));
  for (const row of rows) {
    if (row.origin !== "runtime" || known.has(row.name)) continue;
    const definition = definitionFromRow(row);
    if (!definition) continue;
    if (definition.secretEnv && !isBackendKeyEnv(definition.secretEnv)) {
      skipped.push({
        name: row.name,
        reason: `its key variable ${definition.secretEnv} is not a backend key (use ${BACKEND_KEY_ENV_HINT})`,
      });
      continue;
    }
    out.push({ definition, secret: definition.secretEnv ? secretOf(definition.secretEnv) : undefined });
  }
  return out;
}
