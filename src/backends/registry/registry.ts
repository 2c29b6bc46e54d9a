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
import { HermesError } from "../../errors.ts";
import type { Backend } from "../backend.ts";
import type { ConfigLike } from "../manager/policy.ts";
import { OllamaBackend } from "../ollama/backend.ts";
import { OpenAIBackend, type OpenAIProvider } from "../openai/backend.ts";
import type { BackendDefinition } from "../ports.ts";
import { BACKEND_KEY_ENV_HINT, isBackendKeyEnv } from "../secret-env.ts";
import { TalosBackend, type TalosBackendOptions } from "../talos/backend.ts";
import { configuredDefinitions } from "./from-config.ts";
import { mergeStored } from "./from-rows.ts";
import type {
  BackendFactories,
  BuiltBackend,
  RegistryEnv,
  RegistryResult,
  StoredBackendRow,
} from "./types.ts";

export { configuredDefinitions } from "./from-config.ts";
export { definitionConfig, definitionFromRow, mergeStored } from "./from-rows.ts";
export type {
  BackendFactories,
  BuiltBackend,
  RegistryEnv,
  RegistryResult,
  StoredBackendRow,
} from "./types.ts";

function providerOf(raw: string): OpenAIProvider {
  return raw === "openrouter" || raw === "openai" ? raw : "custom";
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

/**
 * The secret of a definition from its env variable name (the env object first, then process.env).
 * A runtime-added backend gets only a backend key variable (see secret-env.ts), never another
 * component's secret: that would send e.g. the bot token to whatever URL the backend has.
 */
export function secretFor(def: BackendDefinition, env: RegistryEnv): string | undefined {
  if (!def.secretEnv) return undefined;
  if (def.origin === "runtime" && !isBackendKeyEnv(def.secretEnv))
    throw new HermesError("INVALID_INPUT", `${def.secretEnv} is not a backend key variable.`, {
      details: "secret_env",
      userAction: `Use ${BACKEND_KEY_ENV_HINT}.`,
    });
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
  const merged = mergeStored(definitions, options.rows ?? [], secretOf, skipped);
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
