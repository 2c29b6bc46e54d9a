import type { Backend } from "../backend.ts";
import type { BackendDefinition } from "../ports.ts";
import type { TalosBackendOptions } from "../talos/backend.ts";

/** The registry's inputs and outputs: env, stored rows, factory overrides, built backends. */

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
