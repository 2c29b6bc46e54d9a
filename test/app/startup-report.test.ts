import { HttpError } from "grammy";
import { describe, expect, it } from "vitest";
import { reachabilityReporter } from "../../bot/telegram/reachability.ts";
import { describeBackends, reachabilityAdvice } from "../../src/app/startup-report.ts";
import type { BackendStatus } from "../../src/backends/manager/types.ts";

const ollama: BackendStatus = {
  name: "ollama",
  kind: "ollama",
  type: "local",
  local: true,
  free: true,
  enabled: true,
  primary: false,
  location: "http://127.0.0.1:11434",
  defaultModel: "llama3.1:8b",
  health: "healthy",
  circuit: "closed",
  consecutiveFailures: 0,
  lastCheck: "2026-12-06T00:00:00.000Z",
  lastError: undefined,
  latencyMs: 3,
  running: 0,
  concurrency: 1,
  availableModels: ["llama3.1:8b"],
  preferredFor: [],
  fallbacks: [],
};

describe("start-up report", () => {
  it("summarises which backends are on, which are off and why, in one line", () => {
    const gpt5 = {
      ...ollama,
      name: "gpt5",
      kind: "openai",
      enabled: false,
      location: "https://api.openai.com/v1",
    };
    const line = describeBackends([ollama, gpt5], [{ name: "talos", reason: "TALOS_URL is not set" }]);
    expect(line).toBe(
      "backends: ollama on (llama3.1:8b at http://127.0.0.1:11434); " +
        "gpt5 off: switched off (turn on with /backends enable gpt5); talos off: TALOS_URL is not set",
    );
  });

  it("says at start that Ollama is unreachable, with the commands that fix it", () => {
    const down = {
      ...ollama,
      health: "unhealthy" as const,
      consecutiveFailures: 1,
      lastError: "connection refused",
    };
    expect(reachabilityAdvice(down)).toBe(
      "Ollama is not reachable at http://127.0.0.1:11434 (connection refused). Start it with `ollama serve`, " +
        "then `ollama pull llama3.1:8b`; ideas wait in the queue until it answers.",
    );
    expect(reachabilityAdvice({ ...down, enabled: false })).toBeUndefined();
  });

  it("says when Ollama answers but lacks the model, and is quiet when all is well", () => {
    expect(reachabilityAdvice({ ...ollama, availableModels: ["qwen2.5:7b"] })).toBe(
      "Ollama answers at http://127.0.0.1:11434 but has no llama3.1:8b: run `ollama pull llama3.1:8b` (it has qwen2.5:7b).",
    );
    expect(reachabilityAdvice({ ...ollama, availableModels: ["llama3.1:8b:latest"] })).toBeUndefined();
    expect(reachabilityAdvice(ollama)).toBeUndefined();
  });
});

describe("Telegram reachability", () => {
  it("logs once when the API cannot be reached, with the reason, and once when it is back", async () => {
    const lines: { level: string; msg: string; obj: object }[] = [];
    const log = {
      warn: (obj: object, msg: string) => lines.push({ level: "warn", msg, obj }),
      info: (obj: object, msg: string) => lines.push({ level: "info", msg, obj }),
    };
    const reporter = reachabilityReporter(log);
    let fail = true;
    const prev = (async () => {
      if (fail) throw new HttpError("Network request for 'getMe' failed!", new Error("ECONNREFUSED"));
      return { ok: true, result: true };
    }) as unknown as Parameters<typeof reporter>[0];
    const call = () => reporter(prev, "getMe", {} as never, undefined);
    await expect(call()).rejects.toThrow(HttpError);
    await expect(call()).rejects.toThrow(HttpError);
    fail = false;
    await call();
    expect(lines.map((l) => l.level)).toEqual(["warn", "info"]);
    expect(lines[0]?.msg).toMatch(/Telegram API unreachable/);
    expect(lines[0]?.obj).toMatchObject({ method: "getMe", err: "Network request for 'getMe' failed!" });
  });
});
