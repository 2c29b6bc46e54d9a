import { afterEach, describe, expect, it } from "vitest";
import type { RunRequest } from "../../src/backends/backend.ts";
import { OllamaBackend } from "../../src/backends/ollama/backend.ts";
import { OpenAIBackend } from "../../src/backends/openai/backend.ts";
import { FakeOllama } from "../fakes/fake-ollama.ts";
import { FakeOpenAI } from "../fakes/fake-openai.ts";

/** Images reach a vision model in each protocol's own form: Ollama `images`, OpenAI `image_url` parts. */
const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(stops.splice(0).map((stop) => stop()));
});

const IMAGE = Buffer.from("fake jpeg bytes").toString("base64");
const withImage = (model: string): RunRequest => ({
  jobId: 1,
  model,
  messages: [
    { role: "system", content: "You write drafts." },
    { role: "user", content: "a garden plan from this sketch", images: [IMAGE] },
  ],
});

describe("images to vision backends", () => {
  it("ollama: the user message carries `images` (base64); messages without images carry none", async () => {
    const fake = await FakeOllama.start({ models: ["llava:latest"] });
    stops.push(() => fake.stop());
    await new OllamaBackend({ name: "ollama", host: fake.url }).run(
      withImage("llava:latest"),
      new AbortController().signal,
    );
    const messages = fake.requests.at(-1)?.body.messages as Record<string, unknown>[];
    expect(messages[1]).toEqual({ role: "user", content: "a garden plan from this sketch", images: [IMAGE] });
    expect(messages[0]).not.toHaveProperty("images");
  });

  it("openai: the user message becomes a text part and an image_url data URL part", async () => {
    const fake = await FakeOpenAI.start({ models: ["gpt-4o-mini"] });
    stops.push(() => fake.stop());
    await new OpenAIBackend({
      name: "openai",
      baseURL: fake.url,
      apiKey: "sk-x-123456",
      provider: "openai",
    }).run(withImage("gpt-4o-mini"), new AbortController().signal);
    const messages = fake.requests.at(-1)?.body.messages as Record<string, unknown>[];
    expect(messages[1]).toEqual({
      role: "user",
      content: [
        { type: "text", text: "a garden plan from this sketch" },
        { type: "image_url", image_url: { url: `data:image/jpeg;base64,${IMAGE}` } },
      ],
    });
    expect(messages[0]).toEqual({ role: "system", content: "You write drafts." });
  });
});
