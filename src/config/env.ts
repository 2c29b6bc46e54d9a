import { z } from "zod";

/**
 * The environment, parsed once at start-up into a frozen object (DESIGN.md §3). Everything else
 * lives in the system_config table. Secrets are read here and never leave this object in logs,
 * errors or API responses (see SECRET_ENV_KEYS and src/log.ts redaction).
 */

const optionalString = z
  .string()
  .trim()
  .transform((v) => (v === "" ? undefined : v))
  .optional();

/** user:password@ in a URL would be shown wherever the URL is (health, logs, database). */
function hasUserinfo(v: string): boolean {
  try {
    const u = new URL(v);
    return u.username !== "" || u.password !== "";
  } catch {
    return /\/\/[^/]*@/.test(v);
  }
}

const httpUrl = z
  .string()
  .trim()
  .refine((v) => /^https?:\/\/[^\s]+$/i.test(v), "must be an http:// or https:// URL")
  .refine(
    (v) => !hasUserinfo(v),
    "must not contain credentials (user:password@); give keys in their own variable",
  )
  .transform((v) => v.replace(/\/+$/, ""));

const optionalUrl = z
  .string()
  .trim()
  .transform((v) => (v === "" ? undefined : v))
  .pipe(httpUrl.optional())
  .optional();

const port = z.coerce.number().int().min(0).max(65535);

const ownerIds = z
  .string()
  .trim()
  .transform((v, ctx) => {
    if (v === "") return [] as string[];
    const ids = v
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== "");
    for (const id of ids) {
      if (!/^-?\d{1,20}$/.test(id)) {
        ctx.addIssue({ code: "custom", message: `"${id}" is not a numeric Telegram user id` });
        return z.NEVER;
      }
    }
    return ids;
  });

export const envSchema = z.object({
  TELEGRAM_BOT_TOKEN: optionalString.refine(
    (v) => v === undefined || /^\d+:[\w-]{20,}$/.test(v) || /^[\w:-]{8,}$/.test(v),
    "does not look like a bot token (expected <digits>:<secret> from BotFather)",
  ),
  TELEGRAM_API_ROOT: optionalUrl,
  HERMES_OWNER_IDS: ownerIds.default([]),
  HERMES_DB_PATH: z.string().trim().min(1).default("./data/hermes.db"),
  HERMES_HTTP_HOST: z.string().trim().min(1).default("127.0.0.1"),
  HERMES_HTTP_PORT: port.default(5000),
  HERMES_ADMIN_TOKEN: optionalString.refine(
    (v) => v === undefined || v.length >= 16,
    "must be at least 16 characters (it guards the admin API)",
  ),
  OLLAMA_HOST: httpUrl.default("http://127.0.0.1:11434"),
  TALOS_URL: optionalUrl,
  TALOS_TOKEN: optionalString,
  OPENROUTER_API_KEY: optionalString,
  OPENAI_API_KEY: optionalString,
  OPENAI_BASE_URL: optionalUrl,
  /** Voice notes: an OpenAI-compatible transcription API root (…/v1), its model and key; over the hermes.transcription.* settings. */
  HERMES_TRANSCRIBE_URL: optionalUrl,
  HERMES_TRANSCRIBE_MODEL: optionalString,
  HERMES_TRANSCRIBE_API_KEY: optionalString,
  HERMES_LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  HERMES_LOG_DIR: optionalString,
  /** SQLite durability: NORMAL may lose the last commits on power loss (never corrupts); FULL fsyncs every commit. */
  HERMES_DB_SYNCHRONOUS: z.enum(["NORMAL", "FULL"]).default("NORMAL"),
});

export type Env = Readonly<z.infer<typeof envSchema>>;

/** Env keys whose values are secret: masked wherever config is shown. */
export const SECRET_ENV_KEYS = [
  "TELEGRAM_BOT_TOKEN",
  "HERMES_ADMIN_TOKEN",
  "TALOS_TOKEN",
  "OPENROUTER_API_KEY",
  "OPENAI_API_KEY",
  "HERMES_TRANSCRIBE_API_KEY",
] as const;

export class EnvError extends Error {
  readonly variables: string[];
  constructor(problems: { variable: string; message: string }[]) {
    super(
      `Invalid environment:\n${problems.map((p) => `  ${p.variable}: ${p.message}`).join("\n")}\n` +
        "Fix these variables (see README, 'Environment') and start again.",
    );
    this.name = "EnvError";
    this.variables = problems.map((p) => p.variable);
  }
}

/** Parses the environment; an invalid value throws EnvError naming the variable (never its value). */
export function parseEnv(source: Record<string, string | undefined> = process.env): Env {
  const relevant: Record<string, string> = {};
  for (const key of Object.keys(envSchema.shape)) {
    const value = source[key];
    if (value !== undefined) relevant[key] = value;
  }
  const result = envSchema.safeParse(relevant);
  if (!result.success) {
    throw new EnvError(
      result.error.issues.map((issue) => ({
        variable: String(issue.path[0] ?? "environment"),
        message: issue.message,
      })),
    );
  }
  return Object.freeze(result.data);
}
