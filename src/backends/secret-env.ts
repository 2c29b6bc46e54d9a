/**
 * Which environment variables a backend changed or added at runtime (API) may send as its key.
 * Without this list an admin-token holder could add a backend at any URL with `secret_env:
 * TELEGRAM_BOT_TOKEN` and receive the bot token (or TALOS_TOKEN, the admin token…) as a Bearer key.
 * Allowed: the usual provider key variables and anything named HERMES_BACKEND_KEY_<NAME>, which
 * exists for exactly this. Component secrets (bot token, Talos token, admin token) never are.
 */
export const BACKEND_KEY_ENV_PREFIX = "HERMES_BACKEND_KEY_";

export const BACKEND_KEY_ENV_ALLOWED: ReadonlySet<string> = new Set([
  "OPENAI_API_KEY",
  "OPENROUTER_API_KEY",
  "GROQ_API_KEY",
  "ANTHROPIC_API_KEY",
  "MISTRAL_API_KEY",
  "TOGETHER_API_KEY",
  "DEEPSEEK_API_KEY",
  "FIREWORKS_API_KEY",
  "GEMINI_API_KEY",
  "XAI_API_KEY",
]);

export function isBackendKeyEnv(name: string): boolean {
  if (BACKEND_KEY_ENV_ALLOWED.has(name)) return true;
  return (
    name.startsWith(BACKEND_KEY_ENV_PREFIX) &&
    /^[A-Z0-9_]+$/.test(name.slice(BACKEND_KEY_ENV_PREFIX.length)) &&
    name.length > BACKEND_KEY_ENV_PREFIX.length
  );
}

/** For error texts: what may be used instead. */
export const BACKEND_KEY_ENV_HINT = `one of ${[...BACKEND_KEY_ENV_ALLOWED].join(", ")} or ${BACKEND_KEY_ENV_PREFIX}<NAME>`;
