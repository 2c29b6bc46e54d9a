// One contract every backend kind must keep, run against each kind by contract.test.ts (and usable
// by any new kind: export a ContractTarget and call `backendContract(target)` in a .test.ts file).
// A target starts its own loopback fake and builds a backend pointed at it.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Backend, RunProgress, RunRequest, RunResult } from "../../src/backends/backend.ts";
import { OllamaBackend } from "../../src/backends/ollama/backend.ts";
import { OpenAIBackend, type OpenAIProvider } from "../../src/backends/openai/backend.ts";
import { type ErrorCode, HermesError } from "../../src/errors.ts";
import { FakeOllama } from "../fakes/fake-ollama.ts";
import { FakeOpenAI } from "../fakes/fake-openai.ts";
import type { FakeChatRequest, FakeResponder, StructuredResponder } from "../fakes/fake-server.ts";
import { waitUntil } from "../fakes/fake-server.ts";

/** What the contract needs from a fake server (FakeOllama and FakeOpenAI fit; so can a Talos fake). */
export interface ContractFake {
  readonly requests: FakeChatRequest[];
  readonly structuredRequests: FakeChatRequest[];
  setResponder(fn: FakeResponder): void;
  setStructuredResponder(fn: StructuredResponder): void;
  abortedCount(): number;
  inFlight(): number;
  stop(): Promise<void>;
}

export interface ContractSetup {
  backend: Backend;
  fake: ContractFake;
  /** A model the fake serves. */
  model: string;
  /** Target-specific checks of one successful run and the request the fake received. */
  checkRun?(result: RunResult, seen: FakeChatRequest): void;
  /**
   * "per-token" (default): one progress event per streamed chunk. "batched": an agent that is
   * polled (Talos) reports growing totals, several chunks at a time.
   */
  progress?: "per-token" | "batched";
  /** The code for "the server is gone" (Talos says TALOS_UNAVAILABLE). */
  unavailableCode?: ErrorCode;
}

export interface ContractTarget {
  /** Shown in test names, e.g. "ollama", "openai (openrouter)". */
  name: string;
  /** Starts a fresh fake and a backend for it; `defaultTimeoutMs` is the backend's default deadline. */
  start(opts?: { defaultTimeoutMs?: number }): Promise<ContractSetup>;
}

export function request(model: string, extra: Partial<RunRequest> = {}): RunRequest {
  return {
    jobId: 1,
    model,
    messages: [
      { role: "system", content: "You write drafts." },
      { role: "user", content: "a bakery newsletter" },
    ],
    ...extra,
  };
}

/** Runs `promise` expecting a HermesError and returns it. */
export async function failure(promise: Promise<unknown>): Promise<HermesError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(HermesError);
    return err as HermesError;
  }
  throw new Error("expected the call to fail, it succeeded");
}

export function backendContract(target: ContractTarget): void {
  describe(`backend contract: ${target.name}`, () => {
    let s: ContractSetup;
    beforeEach(async () => {
      s = await target.start({ defaultTimeoutMs: 5_000 });
    });
    afterEach(async () => {
      await s.fake.stop();
    });

    it("runs: text, usage, model, latency, progress", async () => {
      s.fake.setResponder(() => ({
        chunks: ["Dear ", "readers, ", "fresh ", "bread."],
        promptTokens: 21,
        evalTokens: 9,
      }));
      const progress: RunProgress[] = [];
      const result = await s.backend.run(
        request(s.model, { maxTokens: 200, temperature: 0.4 }),
        new AbortController().signal,
        (p) => progress.push(p),
      );
      expect(result.text).toBe("Dear readers, fresh bread.");
      expect(result.usage).toEqual({ inputTokens: 21, outputTokens: 9 });
      expect(result.model).toContain(s.model.split(":")[0]);
      expect(result.latencyMs).toBeGreaterThan(0);
      expect(result.firstTokenMs).toBeGreaterThan(0);
      expect(result.firstTokenMs).toBeLessThanOrEqual(result.latencyMs);
      expect(progress.length).toBeGreaterThanOrEqual(1);
      if (s.progress === "batched") {
        const tokens = progress.map((p) => p.tokens);
        expect(tokens).toEqual([...tokens].sort((a, b) => a - b));
        for (const p of progress) expect(result.text.startsWith(p.textSoFar)).toBe(true);
      } else {
        expect(progress.at(-1)).toEqual({ tokens: progress.length, textSoFar: result.text });
        expect(progress.map((p) => p.tokens)).toEqual(progress.map((_, i) => i + 1));
      }

      const seen = s.fake.requests.at(-1);
      expect(seen?.stream).toBe(true);
      expect(seen?.messages).toEqual([
        { role: "system", content: "You write drafts." },
        { role: "user", content: "a bakery newsletter" },
      ]);
      if (seen) s.checkRun?.(result, seen);
    });

    it("structured output: the JSON schema reaches the server and the JSON answer comes back", async () => {
      const schema = {
        type: "object",
        properties: { title: { type: "string" }, complexity: { type: "integer", minimum: 1 } },
        required: ["title", "complexity"],
        additionalProperties: false,
      };
      s.fake.setResponder(() => ({ text: "not the structured answer" }));
      s.fake.setStructuredResponder(() => ({ json: { title: "Bakery news", complexity: 3 } }));
      const result = await s.backend.run(
        request(s.model, { responseFormat: { name: "analysis", schema } }),
        new AbortController().signal,
      );
      expect(JSON.parse(result.text)).toEqual({ title: "Bakery news", complexity: 3 });
      expect(s.fake.structuredRequests.at(-1)?.schema).toEqual(schema);
      // A plain run carries no schema and is answered by the ordinary responder.
      const plain = await s.backend.run(request(s.model, { jobId: 2 }), new AbortController().signal);
      expect(plain.text).toBe("not the structured answer");
      expect(s.fake.structuredRequests).toHaveLength(1);
    });

    it("aborts mid-stream: CANCELLED at once, the server sees the client leave", async () => {
      // One chunk, then the server stalls for an hour: the run can only end because the abort ended
      // it, not because the stream did — however slow this machine is.
      s.fake.setResponder(() => ({ chunks: ["w0 ", "w1 ", "w2 "], chunkDelayMs: 3_600_000 }));
      const controller = new AbortController();
      let firstProgress!: () => void;
      const streaming = new Promise<void>((r) => {
        firstProgress = r;
      });
      const progress: RunProgress[] = [];
      const run = s.backend.run(request(s.model), controller.signal, (p) => {
        progress.push(p);
        firstProgress();
      });
      run.catch(() => {});
      await streaming;
      controller.abort();
      const error = await failure(run);
      expect(error.code).toBe("CANCELLED");
      expect(error.retryable).toBe(false);
      expect(progress.map((p) => p.textSoFar)).toEqual(["w0 "]);
      await waitUntil(() => s.fake.abortedCount() === 1 && s.fake.inFlight() === 0);
    });

    it("an already-aborted signal fails fast with CANCELLED", async () => {
      const controller = new AbortController();
      controller.abort();
      const error = await failure(s.backend.run(request(s.model), controller.signal));
      expect(error.code).toBe("CANCELLED");
    });

    it("health: healthy with latency while up, unhealthy once the server is gone", async () => {
      const up = await s.backend.health();
      expect(up.status).toBe("healthy");
      expect(up.latencyMs).toBeGreaterThan(0);
      await s.fake.stop();
      const down = await s.backend.health();
      expect(down.status).toBe("unhealthy");
      expect(down.detail).toContain(s.backend.name);
    });

    it("models: lists what the server serves", async () => {
      const models = await s.backend.models();
      expect(models.map((m) => m.name)).toContain(s.model);
      for (const m of models) expect(typeof m.name).toBe("string");
      await s.fake.stop();
      const error = await failure(s.backend.models());
      expect(error.code).toBe(s.unavailableCode ?? "BACKEND_UNAVAILABLE");
      expect(error.retryable).toBe(true);
    });
  });
}

// ---- the built-in kinds ----------------------------------------------------------------------

export const OPENAI_KEY = "sk-test-contract-0123456789";
export const OPENROUTER_COST_USD = 0.0123;

export const ollamaTarget: ContractTarget = {
  name: "ollama",
  async start(opts = {}) {
    const fake = await FakeOllama.start({ models: ["llama3.1:8b", "qwen2.5-coder:7b"] });
    const backend = new OllamaBackend({ name: "ollama", host: fake.url, keepAlive: "10m", ...opts });
    return {
      backend,
      fake,
      model: "llama3.1:8b",
      checkRun(_result, seen) {
        expect(seen.path).toBe("/api/chat");
        expect(seen.keep_alive).toBe("10m");
        expect(seen.options).toMatchObject({ num_predict: 200, temperature: 0.4 });
        expect(backend.local).toBe(true);
      },
    };
  },
};

function openAITarget(provider: OpenAIProvider): ContractTarget {
  const name = provider === "openai" ? "openai" : provider === "openrouter" ? "openrouter" : "vllm";
  return {
    name: `openai (${provider})`,
    async start(opts = {}) {
      const model = provider === "openrouter" ? "meta-llama/llama-3.1-8b-instruct" : "gpt-4o-mini";
      const fake = await FakeOpenAI.start({
        models: [model, "gpt-5-mini"],
        ...(provider === "custom" ? {} : { apiKey: OPENAI_KEY }),
        ...(provider === "openrouter" ? { reportCostUsd: OPENROUTER_COST_USD } : {}),
      });
      const backend = new OpenAIBackend({
        name,
        baseURL: fake.url,
        provider,
        ...(provider === "custom" ? { local: true } : { apiKey: OPENAI_KEY }),
        ...(provider === "openrouter" ? { appUrl: "https://hermes.example" } : {}),
        ...opts,
      });
      return {
        backend,
        fake,
        model,
        checkRun(result, seen) {
          expect(seen.path).toBe("/v1/chat/completions");
          expect(seen.options).toMatchObject({ stream_options: { include_usage: true }, temperature: 0.4 });
          expect(seen.options?.max_tokens).toBe(200);
          if (provider === "openrouter") {
            expect(seen.headers["http-referer"]).toBe("https://hermes.example");
            expect(seen.headers["x-title"]).toBe("Hermes");
            expect(seen.options?.usage).toEqual({ include: true });
            expect(result.costCents).toBeCloseTo(OPENROUTER_COST_USD * 100, 10);
          } else {
            expect(seen.headers["x-title"]).toBeUndefined();
            expect(seen.options?.usage).toBeUndefined();
            expect(result.costCents).toBeUndefined();
          }
          if (provider === "custom") {
            expect(seen.headers.authorization).toBeUndefined();
            expect(backend.local).toBe(true);
          } else {
            expect(seen.headers.authorization).toBe(`Bearer ${OPENAI_KEY}`);
            expect(backend.local).toBe(false);
          }
        },
      };
    },
  };
}

export const openaiTarget = openAITarget("openai");
export const openrouterTarget = openAITarget("openrouter");
export const selfHostedTarget = openAITarget("custom");

/** Every kind built so far; a new kind adds its target here or calls backendContract itself. */
export const builtinTargets: ContractTarget[] = [
  ollamaTarget,
  openaiTarget,
  openrouterTarget,
  selfHostedTarget,
];
