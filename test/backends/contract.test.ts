import { afterEach, describe, expect, it } from "vitest";
import { OllamaBackend } from "../../src/backends/ollama/backend.ts";
import { OpenAIBackend } from "../../src/backends/openai/backend.ts";
import { generationParams } from "../../src/backends/openai/stream.ts";
import { FakeOllama } from "../fakes/fake-ollama.ts";
import { FakeOpenAI } from "../fakes/fake-openai.ts";
import { backendContract, builtinTargets, request } from "./contract.ts";

for (const target of builtinTargets) backendContract(target);

describe("kind specifics", () => {
  const stops: (() => Promise<void>)[] = [];
  afterEach(async () => {
    await Promise.all(stops.splice(0).map((stop) => stop()));
  });

  it("openai: reasoning-era models take max_completion_tokens and only the default temperature", async () => {
    expect(generationParams("openai", "gpt-5-mini", 100, 0.2)).toEqual({ max_completion_tokens: 100 });
    expect(generationParams("openai", "o3-mini", 100, 1)).toEqual({
      max_completion_tokens: 100,
      temperature: 1,
    });
    expect(generationParams("openai", "gpt-4o-mini", 100, 0.2)).toEqual({
      max_tokens: 100,
      temperature: 0.2,
    });
    expect(generationParams("openrouter", "openai/gpt-5", 100, 0.2)).toEqual({
      max_tokens: 100,
      temperature: 0.2,
    });
    expect(generationParams("openai", "gpt-5", undefined, undefined)).toEqual({});

    const fake = await FakeOpenAI.start({ models: ["gpt-5-mini"] });
    stops.push(() => fake.stop());
    const backend = new OpenAIBackend({
      name: "openai",
      baseURL: fake.url,
      apiKey: "sk-x-123456",
      provider: "openai",
    });
    await backend.run(
      request("gpt-5-mini", { maxTokens: 50, temperature: 0.3 }),
      new AbortController().signal,
    );
    const seen = fake.requests.at(-1);
    expect(seen?.options?.max_completion_tokens).toBe(50);
    expect(seen?.options).not.toHaveProperty("max_tokens");
    expect(seen?.options).not.toHaveProperty("temperature");
  });

  it("openai: without reported usage, output tokens are estimated and cost stays unknown", async () => {
    const fake = await FakeOpenAI.start({ models: ["local-model"] });
    stops.push(() => fake.stop());
    // A server that ignores stream_options sends no usage chunk: simulate by stripping it.
    const noUsage: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (!res.body || !res.headers.get("content-type")?.includes("event-stream")) return res;
      const text = (await res.text()).replace(/data: \{[^\n]*"choices":\[\][^\n]*\n\n/, "");
      return new Response(text, { status: res.status, headers: res.headers });
    };
    const backend = new OpenAIBackend({
      name: "llamacpp",
      baseURL: fake.url,
      provider: "custom",
      local: true,
      fetch: noUsage,
    });
    fake.setResponder(() => ({ text: "x".repeat(40), promptTokens: 77, evalTokens: 99 }));
    const result = await backend.run(request("local-model"), new AbortController().signal);
    expect(result.text).toBe("x".repeat(40));
    expect(result.usage.outputTokens).toBe(10);
    expect(result.usage.inputTokens).toBe(Math.ceil("You write drafts.\na bakery newsletter".length / 4));
    expect(result.costCents).toBeUndefined();
  });

  it("ollama: health reports the models loaded in memory", async () => {
    const fake = await FakeOllama.start({
      models: ["llama3.1:8b", "qwen2.5-coder:7b"],
      loaded: ["qwen2.5-coder:7b"],
    });
    stops.push(() => fake.stop());
    const backend = new OllamaBackend({ name: "ollama", host: fake.url });
    const health = await backend.health();
    expect(health).toMatchObject({ status: "healthy", warmModels: ["qwen2.5-coder:7b"] });
    const models = await backend.models();
    expect(models.find((m) => m.name === "llama3.1:8b")).toMatchObject({ family: "llama" });
    expect(models[0]?.sizeBytes).toBeGreaterThan(0);
  });
});
