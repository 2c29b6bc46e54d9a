import type { ConfigKey } from "../../config/keys.ts";
import { hasCredentials } from "../http/text.ts";
import { bool, type ConfigLike, list, num, str } from "../manager/policy.ts";
import type { BackendDefinition, BackendType } from "../ports.ts";
import type { RegistryEnv, RegistryResult } from "./types.ts";

/** The backends that `backend.<name>.*` config rows plus the environment describe (see registry.ts). */

const OPENROUTER_URL = "https://openrouter.ai/api/v1";
const OPENAI_URL = "https://api.openai.com/v1";

const secs = (config: ConfigLike | undefined, key: ConfigKey, fallback?: number) =>
  num(config, key, fallback) * 1000;

/**
 * `backend.<name>.enabled` decides where that row exists (the spec seeds one per backend, 007 one for
 * Ollama); a name without one is enabled when `hermes.backends.enabled` lists it.
 */
function configEnabled(config: ConfigLike | undefined, name: string, keyGiven: boolean): boolean {
  const key = `backend.${name}.enabled` as const;
  // A key the owner gives (OPENAI_API_KEY, TALOS_URL…) turns its backend on, unless they switched
  // it off themselves: the seed's "false" only means "nothing to run against yet".
  if (keyGiven && !config?.changedByOwner?.(key)) return true;
  if (config?.has(key)) return bool(config, key);
  return list(config, "hermes.backends.enabled", [name]).includes(name);
}

function models(config: ConfigLike | undefined, key: ConfigKey): string[] {
  return list(config, key);
}

function base(
  config: ConfigLike | undefined,
  name: string,
  fields: Partial<BackendDefinition> &
    Pick<BackendDefinition, "type" | "provider" | "url" | "free" | "models" | "defaultModel">,
  defaults: { concurrency: number; timeoutS: number; keyGiven?: boolean },
): BackendDefinition {
  return {
    name,
    enabled: configEnabled(config, name, defaults.keyGiven === true),
    primary: str(config, "hermes.backends.primary") === name,
    concurrency: Math.max(1, Math.trunc(num(config, `backend.${name}.concurrency`, defaults.concurrency))),
    timeoutMs: secs(config, `backend.${name}.timeout`, defaults.timeoutS),
    healthIntervalMs: config?.has(`backend.${name}.health_interval`)
      ? secs(config, `backend.${name}.health_interval`)
      : undefined,
    ratePerMinute: config?.has(`backend.${name}.rate_limit`)
      ? num(config, `backend.${name}.rate_limit`)
      : undefined,
    preferredFor: [],
    fallbacks: [],
    secretEnv: undefined,
    origin: "config",
    ...fields,
  };
}

const PLACEHOLDER_HOST = /x/i;

/** A definition with its secret (kept out of the definition), or why the backend is not configured. */
type Configured = { definition: BackendDefinition; secret: string | undefined };
type Skipped = RegistryResult["skipped"][number];
type Outcome = Configured | Skipped;

/** What every builder below reads: config, environment, and the shared local defaults. */
interface Source {
  config: ConfigLike | undefined;
  env: RegistryEnv;
  defaultLocal: string;
  jobTimeoutS: number;
}

/** The backends that config + env describe, with their secrets (kept out of the definitions). */
export function configuredDefinitions(
  config: ConfigLike | undefined,
  env: RegistryEnv,
): {
  definitions: Configured[];
  skipped: RegistryResult["skipped"];
} {
  const source: Source = {
    config,
    env,
    defaultLocal: str(config, "talos.models.default_model"),
    jobTimeoutS: num(config, "talos.execution.job_timeout_seconds"),
  };
  const outcomes = [ollama, talos, remoteApi, gpt5, serverModels].map((build) =>
    withoutCredentials(build(source)),
  );
  return {
    definitions: outcomes.filter((o): o is Configured => "definition" in o),
    skipped: outcomes.filter((o): o is Skipped => !("definition" in o)),
  };
}

/**
 * A URL with user:password@ would be shown wherever the URL is (health, status, logs, database),
 * so such a backend is skipped, named, with the value never shown.
 */
function withoutCredentials(o: Outcome): Outcome {
  if (!("definition" in o) || !hasCredentials(o.definition.url)) return o;
  return {
    name: o.definition.name,
    reason: "its URL contains credentials (user:password@): give the key in its own setting",
  };
}

/** Ollama on this machine: always configured (OLLAMA_HOST has a default). */
function ollama({ config, env, defaultLocal, jobTimeoutS }: Source): Outcome {
  const definition = base(
    config,
    "ollama",
    {
      type: "local",
      provider: "ollama",
      url: env.OLLAMA_HOST ?? "http://127.0.0.1:11434",
      free: true,
      models: models(config, "backend.ollama.models"),
      defaultModel: str(config, "backend.ollama.default_model") || defaultLocal,
    },
    { concurrency: 1, timeoutS: jobTimeoutS },
  );
  return { definition, secret: undefined };
}

/** TALOS_URL, else backend.talos.host:port when it is a real address (not the seed's 100.x.x.x). */
function talosUrl(config: ConfigLike | undefined, env: RegistryEnv): string | undefined {
  if (env.TALOS_URL !== undefined) return env.TALOS_URL;
  const host = str(config, "backend.talos.host");
  if (host === "" || PLACEHOLDER_HOST.test(host.replace(/^https?:\/\//, ""))) return undefined;
  return `${host.includes("://") ? host : `http://${host}`}:${num(config, "backend.talos.port")}`;
}

function talos({ config, env, defaultLocal }: Source): Outcome {
  const url = talosUrl(config, env);
  if (!url) return { name: "talos", reason: "TALOS_URL is not set" };
  const talosModels = models(config, "backend.talos.models");
  const definition = base(
    config,
    "talos",
    {
      type: (str(config, "backend.talos.type") as BackendType) || "local",
      provider: "talos",
      url,
      free: true,
      models: talosModels,
      defaultModel: talosModels.includes(defaultLocal) ? defaultLocal : (talosModels[0] ?? defaultLocal),
      secretEnv: "TALOS_TOKEN",
    },
    {
      concurrency: num(config, "talos.execution.max_concurrent_jobs"),
      timeoutS: 300,
      keyGiven: env.TALOS_URL !== undefined,
    },
  );
  return { definition, secret: env.TALOS_TOKEN };
}

/** The remote API's key: from the environment, else the config rows (OpenRouter has two). */
function remoteKey(config: ConfigLike | undefined, env: RegistryEnv, provider: string): string | undefined {
  const configured = str(config, "backend.remote_api.key");
  if (provider === "openai") return env.OPENAI_API_KEY ?? (configured || undefined);
  return (
    env.OPENROUTER_API_KEY ?? (configured || str(config, "hermes.budget.openrouter_api_key") || undefined)
  );
}

/** Remote API (OpenRouter by default). */
function remoteApi({ config, env }: Source): Outcome {
  const provider = str(config, "backend.remote_api.type");
  const key = remoteKey(config, env, provider);
  if (provider !== "openrouter" && provider !== "openai") {
    return {
      name: "remote_api",
      reason: `backend.remote_api.type ${provider} needs a URL: add it as server_models or through /backends`,
    };
  }
  if (!key) return { name: "remote_api", reason: "OPENROUTER_API_KEY is not set" };
  const remoteModels = models(config, "backend.remote_api.models");
  const definition = base(
    config,
    "remote_api",
    {
      type: "remote_api",
      provider,
      url: provider === "openai" ? (env.OPENAI_BASE_URL ?? OPENAI_URL) : OPENROUTER_URL,
      free: false,
      models: remoteModels,
      defaultModel: remoteModels[0] ?? "openai/gpt-4o-mini",
      secretEnv: provider === "openai" ? "OPENAI_API_KEY" : "OPENROUTER_API_KEY",
    },
    {
      concurrency: 4,
      timeoutS: 120,
      keyGiven: provider === "openai" ? false : env.OPENROUTER_API_KEY !== undefined,
    },
  );
  return { definition, secret: key };
}

/** GPT-5 (OpenAI, or whatever OPENAI_BASE_URL points at). */
function gpt5({ config, env }: Source): Outcome {
  const key = env.OPENAI_API_KEY ?? (str(config, "backend.gpt5.key") || undefined);
  if (!key) return { name: "gpt5", reason: "OPENAI_API_KEY is not set" };
  const model = str(config, "backend.gpt5.model");
  const definition = base(
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
    { concurrency: 4, timeoutS: 90, keyGiven: env.OPENAI_API_KEY !== undefined },
  );
  return { definition, secret: key };
}

/** Self-hosted OpenAI-compatible server (vLLM, llama.cpp server…). */
function serverModels({ config, defaultLocal }: Source): Outcome {
  const host = str(config, "backend.server_models.host").trim();
  if (host === "") return { name: "server_models", reason: "backend.server_models.host is empty" };
  const url = host.includes("://") ? host : `http://${host}:${num(config, "backend.server_models.port")}/v1`;
  const listed = models(config, "backend.server_models.models");
  const definition = base(
    config,
    "server_models",
    {
      type: "server_model",
      provider: "custom",
      url,
      free: true,
      models: listed,
      defaultModel: listed[0] ?? defaultLocal,
    },
    { concurrency: 2, timeoutS: 300 },
  );
  return { definition, secret: str(config, "backend.server_models.key") || undefined };
}
