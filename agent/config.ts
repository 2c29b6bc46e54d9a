/**
 * Talos' environment, parsed once with zod into a read-only object. An invalid value is a
 * ConfigError whose message names the variable; main.ts prints it and exits 1. The token never
 * appears in a message.
 */
import { z } from "zod";

export interface TalosConfig {
  readonly host: string;
  readonly port: number;
  /** undefined only when running without a token was explicitly allowed on a loopback host. */
  readonly token: string | undefined;
  readonly ollamaHost: string;
  readonly maxConcurrentJobs: number;
  readonly jobTimeoutSeconds: number;
  readonly maxMemoryPercent: number;
  readonly maxCpuPercent: number;
  readonly logDir: string | undefined;
  readonly resultTtlSeconds: number;
  readonly maxResults: number;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

const MIN_TOKEN_LENGTH = 16;

const emptyToUndefined = (v: unknown) => (typeof v === "string" && v.trim() === "" ? undefined : v);

const int = (min: number, max: number, fallback: number) =>
  z.preprocess(
    emptyToUndefined,
    z.coerce
      .number({ error: "must be a number" })
      .int({ error: "must be a whole number" })
      .min(min, { error: `must be at least ${min}` })
      .max(max, { error: `must be at most ${max}` })
      .default(fallback),
  );

const EnvSchema = z.object({
  TALOS_HOST: z.preprocess(emptyToUndefined, z.string().default("127.0.0.1")),
  TALOS_PORT: int(0, 65_535, 8001),
  TALOS_TOKEN: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .min(MIN_TOKEN_LENGTH, {
        error: `is too short (at least ${MIN_TOKEN_LENGTH} characters; try \`openssl rand -hex 32\`)`,
      })
      .optional(),
  ),
  TALOS_ALLOW_NO_TOKEN: z.preprocess(emptyToUndefined, z.string().optional()),
  OLLAMA_HOST: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .default("http://127.0.0.1:11434")
      .transform((v) => (/^[a-z][a-z0-9+.-]*:\/\//i.test(v) ? v : `http://${v}`))
      .pipe(z.url({ protocol: /^https?$/, error: "must be an http(s) URL like http://127.0.0.1:11434" })),
  ),
  TALOS_MAX_CONCURRENT_JOBS: int(1, 64, 1),
  TALOS_JOB_TIMEOUT_SECONDS: int(1, 7 * 24 * 3600, 3600),
  TALOS_MAX_MEMORY_PERCENT: int(1, 100, 80),
  TALOS_MAX_CPU_PERCENT: int(1, 100, 90),
  TALOS_LOG_DIR: z.preprocess(emptyToUndefined, z.string().optional()),
  TALOS_RESULT_TTL_SECONDS: int(1, 30 * 24 * 3600, 3600),
  TALOS_MAX_RESULTS: int(1, 100_000, 500),
});

/** 127.0.0.0/8, ::1 and "localhost": only this machine can connect. */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, "");
  return h === "localhost" || h === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

export function loadConfig(env: Record<string, string | undefined> = process.env): TalosConfig {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${String(i.path[0] ?? "environment")} ${i.message}`);
    throw new ConfigError(`Invalid Talos configuration:\n  ${lines.join("\n  ")}`);
  }
  const e = parsed.data;
  if (e.TALOS_ALLOW_NO_TOKEN !== undefined && e.TALOS_ALLOW_NO_TOKEN !== "1") {
    throw new ConfigError('Invalid Talos configuration:\n  TALOS_ALLOW_NO_TOKEN must be "1" or unset');
  }
  if (e.TALOS_TOKEN === undefined) {
    const allowed = e.TALOS_ALLOW_NO_TOKEN === "1" && isLoopbackHost(e.TALOS_HOST);
    if (!allowed) {
      throw new ConfigError(
        "Invalid Talos configuration:\n  TALOS_TOKEN is required (the shared secret Hermes sends as a bearer token; " +
          "generate one with `openssl rand -hex 32`). Running without one is only possible on a loopback " +
          "TALOS_HOST with TALOS_ALLOW_NO_TOKEN=1.",
      );
    }
  }
  return Object.freeze({
    host: e.TALOS_HOST,
    port: e.TALOS_PORT,
    token: e.TALOS_TOKEN,
    ollamaHost: e.OLLAMA_HOST.replace(/\/+$/, ""),
    maxConcurrentJobs: e.TALOS_MAX_CONCURRENT_JOBS,
    jobTimeoutSeconds: e.TALOS_JOB_TIMEOUT_SECONDS,
    maxMemoryPercent: e.TALOS_MAX_MEMORY_PERCENT,
    maxCpuPercent: e.TALOS_MAX_CPU_PERCENT,
    logDir: e.TALOS_LOG_DIR,
    resultTtlSeconds: e.TALOS_RESULT_TTL_SECONDS,
    maxResults: e.TALOS_MAX_RESULTS,
  });
}
