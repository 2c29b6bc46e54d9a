/**
 * Which backends exist: built from the spec's `backend.<name>.*` config rows plus the environment
 * (secrets and URLs live only there), overlaid with what was changed at runtime and saved in the
 * `backends` table (enable/disable, preferred job types, fallbacks, backends added through the API).
 *
 *   ollama         OLLAMA_HOST                        local, free (always configured)
 *   talos          TALOS_URL + TALOS_TOKEN            local, free (the agent beside Ollama)
 *   remote_api     OPENROUTER_API_KEY                 OpenRouter, paid (backend.remote_api.type)
 *   gpt5           OPENAI_API_KEY (+OPENAI_BASE_URL)  OpenAI, paid
 *   server_models  backend.server_models.host         self-hosted OpenAI-compatible, free
 *
 * A backend is enabled when its `backend.<name>.enabled` row says so (names without such a row: when
 * `hermes.backends.enabled` lists them), unless /backends (setEnabled) overrode that at runtime.
 */
import type { Backend } from "./backend.ts";
import { OllamaBackend } from "./ollama/ollama-backend.ts";
import { OpenAIBackend, type OpenAIProvider } from "./openai/openai-backend.ts";
import { bool, type ConfigLike, list, num, str } from "./policy.ts";
import type { BackendDefinition, BackendProvider, BackendType } from "./ports.ts";
import { TalosBackend, type TalosBackendOptions } from "./talos/talos-backend.ts";

export interface RegistryEnv {
  OLLAMA_HOST?: string | undefined;
  TALOS_URL?: string | undefined;
  TALOS_TOKEN?: string | undefined;
  OPENROUTER_API_KEY?: string | undefined;
  OPENAI_API_KEY?: string | undefined;
  OPENAI_BASE_URL?: string | undefined;
}

/** A `backends` row as the store returns it (see BackendsRepo.rows()). */
export interface StoredBackendRow {
  name: string;
  type: string;
  enabled: boolean;
  /** Set by setEnabled at runtime; undefined = follow config. */
  enabledOverride: boolean | undefined;
  origin: "config" | "runtime";
  primary: boolean;
  config: Record<string, unknown>;
  preferredFor: string[] | undefined;
  fallbacks: string[] | undefined;
}

/** Overrides of how each kind is built (tests, proxies); the real classes by default. */
export interface BackendFactories {
  talos?: (options: TalosBackendOptions) => Backend;
  ollama?: (def: BackendDefinition) => Backend;
  openai?: (def: BackendDefinition, apiKey: string | undefined) => Backend;
}

export interface BuiltBackend {
  definition: BackendDefinition;
  backend: Backend;
}

export interface RegistryResult {
  backends: BuiltBackend[];
  /** Configured but not built, and why (missing URL/key): for the start-up log and /backends. */
  skipped: { name: string; reason: string }[];
}

const OPENROUTER_URL = "https://openrouter.ai/api/v1";
const OPENAI_URL = "https://api.openai.com/v1";

const secs = (config: ConfigLike | undefined, key: string, fallback: number) =>
  num(config, key, fallback) * 1000;

/**
 * `backend.<name>.enabled` decides where that row exists (the spec seeds one per backend, 007 one for
 * Ollama); a name without one is enabled when `hermes.backends.enabled` lists it.
 */
function configEnabled(config: ConfigLike | undefined, name: string): boolean {
  const key = `backend.${name}.enabled`;
  if (config?.has(key)) return bool(config, key, true);
  return list(config, "hermes.backends.enabled", [name]).includes(name);
}

function models(config: ConfigLike | undefined, key: string): string[] {
  return list(config, key, []);
}

function base(
  config: ConfigLike | undefined,
  name: string,
  fields: Partial<BackendDefinition> &
    Pick<BackendDefinition, "type" | "provider" | "url" | "free" | "models" | "defaultModel">,
  defaults: { concurrency: number; timeoutS: number },
): BackendDefinition {
  return {
    name,
    enabled: configEnabled(config, name),
    primary: str(config, "hermes.backends.primary", "") === name,
    concurrency: Math.max(1, Math.trunc(num(config, `backend.${name}.concurrency`, defaults.concurrency))),
    timeoutMs: secs(config, `backend.${name}.timeout`, defaults.timeoutS),
    healthIntervalMs: config?.has(`backend.${name}.health_interval`)
      ? secs(config, `backend.${name}.health_interval`, 30)
      : undefined,
    ratePerMinute: config?.has(`backend.${name}.rate_limit`)
      ? num(config, `backend.${name}.rate_limit`, 60)
      : undefined,
    preferredFor: [],
    fallbacks: [],
    secretEnv: undefined,
    origin: "config",
    ...fields,
  };
}

const PLACEHOLDER_HOST = /x/i;

function providerOf(raw: string): OpenAIProvider {
  return raw === "openrouter" || raw === "openai" ? raw : "custom";
}

/** The backends that config + env describe, with their secrets (kept out of the definitions). */
export function configuredDefinitions(
  config: ConfigLike | undefined,
  env: RegistryEnv,
): {
  definitions: { definition: BackendDefinition; secret: string | undefined }[];
  skipped: RegistryResult["skipped"];
} {
  const out: { definition: BackendDefinition; secret: string | undefined }[] = [];
  const skipped: RegistryResult["skipped"] = [];
  const defaultLocal = str(config, "talos.models.default_model", "llama3.1:8b");
  const jobTimeoutS = num(config, "talos.execution.job_timeout_seconds", 3600);

  // Ollama on this machine: always configured (OLLAMA_HOST has a default).
  const ollamaModels = models(config, "backend.ollama.models");
  out.push({
    definition: base(
      config,
      "ollama",
      {
        type: "local",
        provider: "ollama",
        url: env.OLLAMA_HOST ?? "http://127.0.0.1:11434",
        free: true,
        models: ollamaModels,
        defaultModel: str(config, "backend.ollama.default_model", "") || defaultLocal,
      },
      { concurrency: 1, timeoutS: jobTimeoutS },
    ),
    secret: undefined,
  });

  // Talos: TALOS_URL, else backend.talos.host:port when it is a real address (not the seed's 100.x.x.x).
  const host = str(config, "backend.talos.host", "");
  const talosUrl =
    env.TALOS_URL ??
    (host !== "" && !PLACEHOLDER_HOST.test(host.replace(/^https?:\/\//, ""))
      ? `${host.includes("://") ? host : `http://${host}`}:${num(config, "backend.talos.port", 8001)}`
      : undefined);
  if (talosUrl) {
    const talosModels = models(config, "backend.talos.models");
    out.push({
      definition: base(
        config,
        "talos",
        {
          type: (str(config, "backend.talos.type", "local") as BackendType) || "local",
          provider: "talos",
          url: talosUrl,
          free: true,
          models: talosModels,
          defaultModel: talosModels.includes(defaultLocal) ? defaultLocal : (talosModels[0] ?? defaultLocal),
          secretEnv: "TALOS_TOKEN",
        },
        { concurrency: num(config, "talos.execution.max_concurrent_jobs", 1), timeoutS: 300 },
      ),
      secret: env.TALOS_TOKEN,
    });
  } else skipped.push({ name: "talos", reason: "TALOS_URL is not set" });

  // Remote API (OpenRouter by default).
  const remoteProvider = str(config, "backend.remote_api.type", "openrouter");
  const remoteKey =
    remoteProvider === "openai"
      ? (env.OPENAI_API_KEY ?? (str(config, "backend.remote_api.key", "") || undefined))
      : (env.OPENROUTER_API_KEY ??
        (str(config, "backend.remote_api.key", "") ||
          str(config, "hermes.budget.openrouter_api_key", "") ||
          undefined));
  if (remoteProvider !== "openrouter" && remoteProvider !== "openai") {
    skipped.push({
      name: "remote_api",
      reason: `backend.remote_api.type ${remoteProvider} needs a URL: add it as server_models or through /backends`,
    });
  } else if (remoteKey) {
    const remoteModels = models(config, "backend.remote_api.models");
    out.push({
      definition: base(
        config,
        "remote_api",
        {
          type: "remote_api",
          provider: remoteProvider,
          url: remoteProvider === "openai" ? (env.OPENAI_BASE_URL ?? OPENAI_URL) : OPENROUTER_URL,
          free: false,
          models: remoteModels,
          defaultModel: remoteModels[0] ?? "openai/gpt-4o-mini",
          secretEnv: remoteProvider === "openai" ? "OPENAI_API_KEY" : "OPENROUTER_API_KEY",
        },
        { concurrency: 4, timeoutS: 120 },
      ),
      secret: remoteKey,
    });
  } else skipped.push({ name: "remote_api", reason: "OPENROUTER_API_KEY is not set" });

  // GPT-5 (OpenAI, or whatever OPENAI_BASE_URL points at).
  const openaiKey = env.OPENAI_API_KEY ?? (str(config, "backend.gpt5.key", "") || undefined);
  if (openaiKey) {
    const model = str(config, "backend.gpt5.model", "gpt-5");
    out.push({
      definition: base(
        config,
        "gpt5",
        {
          type: "remote_api",
          provider: "openai",
          url: env.OPENAI_BASE_URL ?? OPENAI_URL,
          free: false,
          models: [model],
          defaultModel: model,
          secretEnv: "OPENAI_API_KEY",
        },
        { concurrency: 4, timeoutS: 90 },
      ),
      secret: openaiKey,
    });
  } else skipped.push({ name: "gpt5", reason: "OPENAI_API_KEY is not set" });

  // Self-hosted OpenAI-compatible server (vLLM, llama.cpp server…).
  const serverHost = str(config, "backend.server_models.host", "").trim();
  if (serverHost !== "") {
    const url = serverHost.includes("://")
      ? serverHost
      : `http://${serverHost}:${num(config, "backend.server_models.port", 8080)}/v1`;
    const serverModels = models(config, "backend.server_models.models");
    out.push({
      definition: base(
        config,
        "server_models",
        {
          type: "server_model",
          provider: "custom",
          url,
          free: true,
          models: serverModels,
          defaultModel: serverModels[0] ?? defaultLocal,
        },
        { concurrency: 2, timeoutS: 300 },
      ),
      secret: str(config, "backend.server_models.key", "") || undefined,
    });
  } else skipped.push({ name: "server_models", reason: "backend.server_models.host is empty" });

  return { definitions: out, skipped };
}

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

/** Config definitions overlaid with runtime changes from the table, plus runtime-added backends. */
export function mergeStored(
  configured: { definition: BackendDefinition; secret: string | undefined }[],
  rows: readonly StoredBackendRow[],
  secretOf: (envName: string) => string | undefined,
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
    if (definition)
      out.push({ definition, secret: definition.secretEnv ? secretOf(definition.secretEnv) : undefined });
  }
  return out;
}

/** One Backend instance for a definition. */
export function createBackend(
  def: BackendDefinition,
  secret: string | undefined,
  factories: BackendFactories = {},
): Backend {
  switch (def.provider) {
    case "ollama":
      return (
        factories.ollama?.(def) ??
        new OllamaBackend({ name: def.name, host: def.url, defaultTimeoutMs: def.timeoutMs })
      );
    case "talos": {
      const options: TalosBackendOptions = {
        name: def.name,
        url: def.url,
        token: secret ?? "",
        defaultTimeoutMs: def.timeoutMs,
      };
      return factories.talos?.(options) ?? new TalosBackend(options);
    }
    default: {
      if (factories.openai) return factories.openai(def, secret);
      return new OpenAIBackend({
        name: def.name,
        baseURL: def.url,
        ...(secret ? { apiKey: secret } : {}),
        provider: providerOf(def.provider),
        local: def.free,
        defaultTimeoutMs: def.timeoutMs,
      });
    }
  }
}

/** The secret of a definition from its env variable name (the env object first, then process.env). */
export function secretFor(def: BackendDefinition, env: RegistryEnv): string | undefined {
  if (!def.secretEnv) return undefined;
  return (env as Record<string, string | undefined>)[def.secretEnv] ?? process.env[def.secretEnv];
}

/** Everything the manager should register at start-up. */
export function buildBackends(options: {
  config: ConfigLike | undefined;
  env: RegistryEnv;
  rows?: readonly StoredBackendRow[];
  factories?: BackendFactories;
  /** Secret of a runtime-added backend by env name; default: the env object, then process.env. */
  secretOf?: (envName: string) => string | undefined;
}): RegistryResult {
  const { definitions, skipped } = configuredDefinitions(options.config, options.env);
  const secretOf =
    options.secretOf ??
    ((name: string) => (options.env as Record<string, string | undefined>)[name] ?? process.env[name]);
  const merged = mergeStored(definitions, options.rows ?? [], secretOf);
  const backends: BuiltBackend[] = [];
  for (const { definition, secret } of merged) {
    try {
      backends.push({ definition, backend: createBackend(definition, secret, options.factories) });
    } catch (error) {
      skipped.push({ name: definition.name, reason: error instanceof Error ? error.message : String(error) });
    }
  }
  return { backends, skipped };
}
