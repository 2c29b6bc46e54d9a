import type { Env } from "../config/env.ts";
import type { SystemConfig } from "../config/system-config.ts";

/** Where voice notes are transcribed: an OpenAI-compatible API root (…/v1), a model and maybe a key. */
export interface TranscriptionSettings {
  /** The API root, without `/audio/transcriptions` (the client adds it). */
  baseURL: string;
  model: string;
  /** Bearer key; undefined for a local server without auth. Never logged or shown. */
  apiKey: string | undefined;
}

/** The whole endpoint path some people paste; the SDK appends it to the root itself. */
const ENDPOINT_PATH = /\/audio\/transcriptions\/?$/;

/**
 * The settings as of now: the environment (HERMES_TRANSCRIBE_*) over the hermes.transcription.*
 * rows, as OPENAI_API_KEY is over backend.gpt5.key. Read on every voice note, so a /config change
 * applies to the next one. Undefined when no URL is set anywhere: voice notes are off.
 */
export function transcriptionSettings(
  env: Pick<Env, "HERMES_TRANSCRIBE_URL" | "HERMES_TRANSCRIBE_MODEL" | "HERMES_TRANSCRIBE_API_KEY">,
  config: Pick<SystemConfig, "string">,
): TranscriptionSettings | undefined {
  const url = env.HERMES_TRANSCRIBE_URL ?? config.string("hermes.transcription.url").trim();
  if (!url) return undefined;
  return {
    baseURL: url.replace(ENDPOINT_PATH, "").replace(/\/+$/, ""),
    model: env.HERMES_TRANSCRIBE_MODEL ?? config.string("hermes.transcription.model"),
    apiKey: env.HERMES_TRANSCRIBE_API_KEY ?? (config.string("hermes.transcription.key") || undefined),
  };
}

/** The one line a user gets when voice notes are off: what to set. */
export const ENABLE_TRANSCRIPTION_HINT =
  "🎙 Voice notes are off: set HERMES_TRANSCRIBE_URL (an OpenAI-compatible /v1 API — OpenAI, Groq or a local Whisper server) and restart, or `/config hermes.transcription.url <url>`.";
