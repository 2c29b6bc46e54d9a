import type OpenAI from "openai";
import { z } from "zod";
import { HermesError } from "../errors.ts";
import type { TranscriptionSettings } from "./settings.ts";

/** One recording to transcribe: its bytes and a file name whose extension tells the server the format. */
export interface Recording {
  data: Uint8Array;
  fileName: string;
}

/**
 * Speech to text over an OpenAI-compatible `POST <root>/audio/transcriptions` (multipart: file,
 * model; answer `{ text }`): OpenAI, Groq, faster-whisper-server, whisper.cpp's server. Undefined
 * settings mean voice notes are off; the transport says how to turn them on.
 */
export interface Transcriber {
  /** The settings as of now (undefined: not configured). */
  settings(): TranscriptionSettings | undefined;
  /** The recording's text, trimmed. Failures are HermesError naming the host, never the key. */
  transcribe(settings: TranscriptionSettings, recording: Recording, signal?: AbortSignal): Promise<string>;
}

export interface TranscriberOptions {
  settings: () => TranscriptionSettings | undefined;
  /** Transport override (tests). */
  fetch?: typeof fetch;
  /** Deadline of one transcription (default 2 minutes: a long voice note on a slow CPU server). */
  timeoutMs?: number;
}

const TranscriptionSchema = z.object({ text: z.string() });
const DEFAULT_TIMEOUT_MS = 120_000;

export function createTranscriber(options: TranscriberOptions): Transcriber {
  // The SDK is loaded on the first voice note: a Hermes that never gets one never pays its memory.
  let sdk: Promise<typeof import("openai")> | undefined;
  const load = () => {
    sdk ??= import("openai");
    return sdk;
  };
  return {
    settings: options.settings,
    async transcribe(settings, recording, signal) {
      const mod = await load();
      const client = new mod.default(clientOptions(settings, options));
      const file = await mod.toFile(recording.data, recording.fileName);
      try {
        const answer: unknown = await client.audio.transcriptions.create(
          { file, model: settings.model },
          { ...(signal ? { signal } : {}) },
        );
        const parsed = TranscriptionSchema.safeParse(answer);
        if (!parsed.success)
          throw new HermesError("BACKEND_ERROR", `${where(settings)} answered without a transcript.`);
        return parsed.data.text.trim();
      } catch (error) {
        throw transcriptionError(mod, settings, error);
      }
    },
  };
}

/**
 * Hermes owns every decision, as in the OpenAI backend: no retries, nothing read from the
 * environment (the SDK would pick up OPENAI_API_KEY and send it to this server), no console logs.
 */
function clientOptions(
  s: TranscriptionSettings,
  o: TranscriberOptions,
): ConstructorParameters<typeof OpenAI>[0] {
  return {
    apiKey: s.apiKey ?? "no-key",
    organization: null,
    project: null,
    baseURL: s.baseURL,
    maxRetries: 0,
    timeout: o.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    // A keyless local server gets no Authorization header at all (the SDK insists on a key).
    defaultHeaders: s.apiKey ? {} : { Authorization: null },
    logLevel: "off",
    ...(o.fetch ? { fetch: o.fetch } : {}),
  };
}

/** The host the user configured, without path or credentials: safe in a chat message. */
function where(s: TranscriptionSettings): string {
  try {
    return `The transcription service at ${new URL(s.baseURL).host}`;
  } catch {
    return "The transcription service";
  }
}

/** The SDK's failure as a HermesError; built from the status only, so no server text (or key) leaks. */
function transcriptionError(
  mod: typeof import("openai"),
  s: TranscriptionSettings,
  error: unknown,
): HermesError {
  if (error instanceof HermesError) return error;
  if (error instanceof mod.APIUserAbortError) return new HermesError("CANCELLED", "Transcription cancelled.");
  if (error instanceof mod.APIConnectionTimeoutError)
    return new HermesError("TIMEOUT", `${where(s)} did not answer in time.`);
  if (error instanceof mod.APIConnectionError)
    return new HermesError("BACKEND_UNAVAILABLE", `${where(s)} is not reachable.`, {
      userAction: "Check that it is running and that its URL is right, then send the voice note again.",
    });
  const status = error instanceof mod.APIError ? error.status : undefined;
  return new HermesError("BACKEND_ERROR", `${where(s)} answered HTTP ${status ?? "?"}.`, {
    userAction: statusAdvice(status, s.model),
    retryable: status === undefined || status >= 500 || status === 429,
  });
}

function statusAdvice(status: number | undefined, model: string): string | undefined {
  if (status === 401 || status === 403)
    return "It refused the key: check HERMES_TRANSCRIBE_API_KEY or hermes.transcription.key.";
  if (status === 404 || status === 400)
    return `Check hermes.transcription.url (an API root ending in /v1) and that it serves the model ${model}.`;
  if (status === 413) return "The recording is too large for it; send a shorter one.";
  return undefined;
}
