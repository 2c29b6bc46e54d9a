import { hasCredentials } from "../http/text.ts";
import { bool, type ConfigLike, list, num, str } from "../manager/policy.ts";
import type { BackendDefinition, BackendType } from "../ports.ts";
import type { RegistryEnv, RegistryResult } from "./types.ts";

/** The backends that `backend.<name>.*` config rows plus the environment describe (see registry.ts). */

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

  // A URL with user:password@ would be shown wherever the URL is (health, status, logs, database).
  const usable = out.filter(({ definition }) => {
    if (!hasCredentials(definition.url)) return true;
    skipped.push({
      name: definition.name,
      reason: "its URL contains credentials (user:password@): give the key in its own setting",
    });
    return false;
  });
  return { definitions: usable, skipped };
}
