import { afterEach, describe, expect, it } from "vitest";
import { isHermesError } from "../../src/errors.ts";
import { createTranscriber } from "../../src/transcription/client.ts";
import { type TranscriptionSettings, transcriptionSettings } from "../../src/transcription/settings.ts";
import { FakeTranscription } from "../fakes/fake-transcription.ts";

const KEY = "sk-transcribe-SECRET-0123456789";
const fakes: FakeTranscription[] = [];
afterEach(async () => {
  for (const f of fakes.splice(0)) await f.stop();
});

async function fake() {
  const f = await FakeTranscription.start();
  fakes.push(f);
  return f;
}

const recording = { data: new Uint8Array([79, 103, 103, 83, 1, 2, 3]), fileName: "voice.ogg" };
const configOf = (rows: Record<string, string>) => ({ string: (k: string) => rows[k] ?? "" });
const noEnv = {
  HERMES_TRANSCRIBE_URL: undefined,
  HERMES_TRANSCRIBE_MODEL: undefined,
  HERMES_TRANSCRIBE_API_KEY: undefined,
};

async function failure(settings: TranscriptionSettings) {
  const error = await createTranscriber({ settings: () => settings })
    .transcribe(settings, recording)
    .catch((e: unknown) => e);
  if (!isHermesError(error)) throw new Error(`expected a HermesError, got ${String(error)}`);
  return error;
}

describe("transcription client (OpenAI-compatible /audio/transcriptions)", () => {
  it("sends the file and the model as multipart with the key, and returns the trimmed text", async () => {
    const f = await fake();
    f.text = "  buy a tandem bike \n";
    const settings = { baseURL: f.url, model: "whisper-large-v3", apiKey: KEY };
    const text = await createTranscriber({ settings: () => settings }).transcribe(settings, recording);
    expect(text).toBe("buy a tandem bike");
    expect(f.requests).toEqual([
      {
        path: "/v1/audio/transcriptions",
        model: "whisper-large-v3",
        fileName: "voice.ogg",
        fileBytes: recording.data.length,
        authorization: `Bearer ${KEY}`,
      },
    ]);
  });

  it("sends no Authorization header to a keyless local server", async () => {
    const f = await fake();
    const settings = { baseURL: f.url, model: "whisper-1", apiKey: undefined };
    await createTranscriber({ settings: () => settings }).transcribe(settings, recording);
    expect(f.requests[0]?.authorization).toBeUndefined();
  });

  it("a refused key is said with the fix, naming the host and never the key", async () => {
    const f = await fake();
    f.status = 401;
    const error = await failure({ baseURL: f.url, model: "whisper-1", apiKey: KEY });
    expect(error.code).toBe("BACKEND_ERROR");
    expect(error.message).toContain(`at ${new URL(f.url).host} answered HTTP 401`);
    expect(error.userAction).toContain("HERMES_TRANSCRIBE_API_KEY");
    expect(JSON.stringify({ m: error.message, a: error.userAction, d: error.details })).not.toContain(KEY);
  });

  it("an unreachable server is BACKEND_UNAVAILABLE, not a crash", async () => {
    const f = await fake();
    const url = f.url;
    await f.stop();
    fakes.splice(0);
    const error = await failure({ baseURL: url, model: "whisper-1", apiKey: KEY });
    expect(error.code).toBe("BACKEND_UNAVAILABLE");
    expect(error.message).not.toContain(KEY);
  });
});

describe("transcription settings", () => {
  it("are off without a URL anywhere", () => {
    expect(
      transcriptionSettings(noEnv, configOf({ "hermes.transcription.model": "whisper-1" })),
    ).toBeUndefined();
  });

  it("come from the settings, with a pasted endpoint path cut back to the API root", () => {
    const s = transcriptionSettings(
      noEnv,
      configOf({
        "hermes.transcription.url": "http://127.0.0.1:8000/v1/audio/transcriptions",
        "hermes.transcription.model": "Systran/faster-whisper-small",
        "hermes.transcription.key": "",
      }),
    );
    expect(s).toEqual({
      baseURL: "http://127.0.0.1:8000/v1",
      model: "Systran/faster-whisper-small",
      apiKey: undefined,
    });
  });

  it("the environment wins over the settings", () => {
    const s = transcriptionSettings(
      {
        HERMES_TRANSCRIBE_URL: "https://api.groq.com/openai/v1",
        HERMES_TRANSCRIBE_MODEL: "whisper-large-v3",
        HERMES_TRANSCRIBE_API_KEY: KEY,
      },
      configOf({
        "hermes.transcription.url": "http://127.0.0.1:8000/v1",
        "hermes.transcription.model": "whisper-1",
        "hermes.transcription.key": "other",
      }),
    );
    expect(s).toEqual({ baseURL: "https://api.groq.com/openai/v1", model: "whisper-large-v3", apiKey: KEY });
  });
});
