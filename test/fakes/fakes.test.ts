// Proves the loopback fakes speak the real protocols: driven through the real `ollama` and `openai`
// npm clients, including every fault. Also pins how those clients surface errors and aborts.
import { Ollama } from "ollama";
import OpenAI, {
  APIConnectionError,
  APIUserAbortError,
  AuthenticationError,
  InternalServerError,
  NotFoundError,
  RateLimitError,
} from "openai";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { FakeOllama } from "./fake-ollama.ts";
import { FakeOpenAI } from "./fake-openai.ts";
import { waitUntil } from "./fake-server.ts";

const user = (content: string) => [{ role: "user", content }];

/** What a rejected promise threw (fails the test if it resolved). */
async function caught(p: Promise<unknown>): Promise<Record<string, unknown> & Error> {
  try {
    await p;
  } catch (err) {
    return err as Record<string, unknown> & Error;
  }
  throw new Error("expected a rejection");
}

describe("FakeOllama", () => {
  let fake: FakeOllama;
  let ollama: Ollama;
  beforeEach(async () => {
    fake = await FakeOllama.start();
    ollama = new Ollama({ host: fake.url });
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await fake.stop();
  });

  it("streams a chat as NDJSON through the ollama client", async () => {
    const stream = await ollama.chat({
      model: "llama3.1:8b",
      messages: user("a poem about tea"),
      stream: true,
      options: { temperature: 0.2 },
      keep_alive: "10m",
    });
    const parts = [];
    for await (const part of stream) parts.push(part);
    expect(parts.map((p) => p.message.content).join("")).toBe("Draft: a poem about tea");
    expect(parts.length).toBeGreaterThan(2);
    const last = parts.at(-1)!;
    expect(last).toMatchObject({ done: true, done_reason: "stop", model: "llama3.1:8b" });
    expect(last.eval_count).toBeGreaterThan(0);
    expect(last.prompt_eval_count).toBeGreaterThan(0);
    expect(last.eval_duration).toBeGreaterThan(0);
    expect(last.total_duration).toBeGreaterThanOrEqual(last.eval_duration + last.load_duration);

    const req = fake.requests[0]!;
    expect(req).toMatchObject({ path: "/api/chat", model: "llama3.1:8b", stream: true, keep_alive: "10m" });
    expect(req.options).toEqual({ temperature: 0.2 });
    expect(req.messages).toEqual(user("a poem about tea"));
    expect(String(req.headers["user-agent"])).toMatch(/^ollama-js\//);
    expect(fake.inFlight()).toBe(0);
    expect(fake.abortedCount()).toBe(0);
  });

  it("answers non-streaming chat and generate in one object", async () => {
    fake.setResponder(() => ({ text: "whole answer", promptTokens: 11, evalTokens: 3 }));
    const chat = await ollama.chat({ model: "llama3.1:8b", messages: user("x"), stream: false });
    expect(chat).toMatchObject({
      message: { role: "assistant", content: "whole answer" },
      done: true,
      prompt_eval_count: 11,
      eval_count: 3,
    });
    const gen = await ollama.generate({ model: "qwen2.5-coder:7b", prompt: "write fizzbuzz" });
    expect(gen).toMatchObject({ response: "whole answer", done: true, done_reason: "stop" });
    expect(fake.requests[1]).toMatchObject({
      path: "/api/generate",
      prompt: "write fizzbuzz",
      stream: false,
    });
    expect(fake.requests[1]!.messages).toEqual(user("write fizzbuzz"));
  });

  it("speaks the raw wire format: stream defaults to true, application/x-ndjson lines", async () => {
    fake.setResponder(() => ({ chunks: ["He", "llo"] }));
    const res = await fetch(`${fake.url}/api/chat`, {
      method: "POST",
      body: JSON.stringify({ model: "llama3.1:8b", messages: user("hi") }),
    });
    expect(res.headers.get("content-type")).toBe("application/x-ndjson");
    const lines = (await res.text())
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => (l.message as { content: string }).content)).toEqual(["He", "llo", ""]);
    expect(lines.map((l) => l.done)).toEqual([false, false, true]);
    expect(typeof lines[0]!.created_at).toBe("string");
    expect(Object.keys(lines[2]!)).toEqual(
      expect.arrayContaining(["load_duration", "prompt_eval_duration", "eval_count", "eval_duration"]),
    );
    expect(await (await fetch(fake.url)).text()).toBe("Ollama is running");
  });

  it("lists models, shows loaded ones (loaded on use, unloaded by keep_alive 0), version, show", async () => {
    const tags = await ollama.list();
    expect(tags.models.map((m) => m.name)).toEqual(["llama3.1:8b", "qwen2.5-coder:7b"]);
    expect(tags.models[0]!.details).toMatchObject({
      family: "llama",
      parameter_size: "8.0B",
      format: "gguf",
    });
    expect(tags.models[0]!.digest).toMatch(/^[0-9a-f]{64}$/);
    expect((await ollama.ps()).models).toEqual([]);

    await ollama.chat({ model: "llama3.1:8b", messages: user("warm up"), stream: false });
    const ps = await ollama.ps();
    expect(ps.models.map((m) => m.name)).toEqual(["llama3.1:8b"]);
    expect(ps.models[0]!.size_vram).toBeGreaterThan(0);
    expect(new Date(ps.models[0]!.expires_at).getTime()).toBeGreaterThan(Date.now());

    await ollama.chat({ model: "llama3.1:8b", messages: [], keep_alive: 0 });
    expect((await ollama.ps()).models).toEqual([]);

    fake.setModels(["mistral:7b"], ["mistral:7b"]);
    expect((await ollama.list()).models.map((m) => m.name)).toEqual(["mistral:7b"]);
    expect((await ollama.ps()).models.map((m) => m.name)).toEqual(["mistral:7b"]);
    expect((await ollama.version()).version).toMatch(/^\d+\.\d+\.\d+$/);
    const show = await ollama.show({ model: "mistral:7b" });
    expect(show.details.family).toBe("mistral");
    expect(show.capabilities).toContain("completion");
  });

  it("unknown model → 404 ResponseError with Ollama's message", async () => {
    const err = await caught(ollama.chat({ model: "nope:1b", messages: user("x"), stream: false }));
    expect(err.name).toBe("ResponseError");
    expect(err.status_code).toBe(404);
    expect(err.message).toBe('model "nope:1b" not found, try pulling it first');
  });

  it("fault http500 → ResponseError status_code 500 (stream and not)", async () => {
    fake.setResponder(() => ({ fault: "http500" }));
    const errs = [
      await caught(ollama.chat({ model: "llama3.1:8b", messages: user("x"), stream: false })),
      await caught(ollama.chat({ model: "llama3.1:8b", messages: user("x"), stream: true })),
    ];
    for (const err of errs) expect(err).toMatchObject({ name: "ResponseError", status_code: 500 });
  });

  it("fault http429 → 429 with Retry-After (the client exposes only status_code)", async () => {
    fake.setResponder(() => ({ fault: "http429", retryAfterSeconds: 7 }));
    const err = await caught(ollama.chat({ model: "llama3.1:8b", messages: user("x"), stream: false }));
    expect(err).toMatchObject({ name: "ResponseError", status_code: 429 });
    const res = await fetch(`${fake.url}/api/chat`, {
      method: "POST",
      body: JSON.stringify({ model: "llama3.1:8b", messages: user("x") }),
    });
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("7");
    expect(await res.json()).toHaveProperty("error");
  });

  it("fault malformed → stream ends without done (client skips bad line); non-stream → SyntaxError", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    fake.setResponder(() => ({ text: "some answer", fault: "malformed" }));
    const stream = await ollama.chat({ model: "llama3.1:8b", messages: user("x"), stream: true });
    const err = await caught(
      (async () => {
        for await (const _ of stream) {
        }
      })(),
    );
    expect(err.message).toBe("Did not receive done or success response in stream.");
    expect(warn).toHaveBeenCalled();
    const err2 = await caught(ollama.chat({ model: "llama3.1:8b", messages: user("x"), stream: false }));
    expect(err2).toBeInstanceOf(SyntaxError);
  });

  it("fault cut → TypeError 'terminated' (cause UND_ERR_SOCKET) after some chunks", async () => {
    fake.setResponder(() => ({ text: "abcdefghijklmnopqrstuvwx", fault: "cut" }));
    const stream = await ollama.chat({ model: "llama3.1:8b", messages: user("x"), stream: true });
    let got = "";
    const err = await caught(
      (async () => {
        for await (const p of stream) got += p.message.content;
      })(),
    );
    expect(got).toBe("abcdefgh");
    expect(err).toBeInstanceOf(TypeError);
    expect(err.message).toBe("terminated");
    expect((err.cause as { code?: string }).code).toBe("UND_ERR_SOCKET");
    expect(fake.abortedCount()).toBe(0); // the server cut it, not the client
  });

  it("fault hang + AbortController (via a custom fetch) → AbortError, abortedCount increments", async () => {
    fake.setResponder(() => ({ fault: "hang" }));
    const ac = new AbortController();
    // ollama-js takes no signal for chat(); a custom fetch is the only way to abort before headers.
    const client = new Ollama({
      host: fake.url,
      fetch: (url, init) =>
        fetch(url, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, ac.signal]) : ac.signal }),
    });
    const pending = caught(client.chat({ model: "llama3.1:8b", messages: user("x"), stream: false }));
    await waitUntil(() => fake.inFlight() === 1);
    ac.abort();
    const err = await pending;
    expect(err.name).toBe("AbortError");
    await waitUntil(() => fake.abortedCount() === 1);
    expect(fake.inFlight()).toBe(0);
  });

  it("iterator.abort() mid-stream → AbortError from the loop, abortedCount increments", async () => {
    fake.setResponder(() => ({ text: "x".repeat(80), chunkDelayMs: 20 }));
    const stream = await ollama.chat({ model: "llama3.1:8b", messages: user("x"), stream: true });
    const err = await caught(
      (async () => {
        for await (const _ of stream) stream.abort();
      })(),
    );
    expect(err.name).toBe("AbortError");
    await waitUntil(() => fake.abortedCount() === 1);
  });

  it("fault slow streams with gaps; inFlight counts the open stream", async () => {
    fake.setResponder(() => ({ chunks: ["a", "b", "c"], fault: "slow", chunkDelayMs: 40 }));
    const started = Date.now();
    const stream = await ollama.chat({ model: "llama3.1:8b", messages: user("x"), stream: true });
    let text = "";
    for await (const p of stream) {
      if (p.message.content === "a") expect(fake.inFlight()).toBe(1); // "b" and "c" still to come
      text += p.message.content;
    }
    expect(text).toBe("abc");
    expect(Date.now() - started).toBeGreaterThanOrEqual(75);
    await waitUntil(() => fake.inFlight() === 0);
  });

  it("stop() kills an open stream at once; connection refused while down; start again on the same port", async () => {
    fake.setResponder(() => ({ text: "y".repeat(200), chunkDelayMs: 30 }));
    const stream = await ollama.chat({ model: "llama3.1:8b", messages: user("x"), stream: true });
    const reading = caught(
      (async () => {
        for await (const _ of stream) {
        }
      })(),
    );
    const port = fake.port;
    await fake.stop();
    expect(fake.inFlight()).toBe(0);
    expect(fake.abortedCount()).toBe(0);
    expect((await reading).message).toBe("terminated");

    const refused = await caught(ollama.list());
    expect(refused).toBeInstanceOf(TypeError);
    expect(refused.message).toBe("fetch failed");
    expect((refused.cause as { code?: string }).code).toBe("ECONNREFUSED");

    fake = await FakeOllama.start({ port });
    expect(fake.port).toBe(port);
    const res = await ollama.chat({ model: "llama3.1:8b", messages: user("back"), stream: false });
    expect(res.message.content).toBe("Draft: back");
  });
});

describe("FakeOpenAI", () => {
  const KEY = "sk-test";
  let fake: FakeOpenAI;
  let client: OpenAI;
  beforeEach(async () => {
    fake = await FakeOpenAI.start({ apiKey: KEY, reportCostUsd: 0.0012 });
    client = new OpenAI({ baseURL: fake.url, apiKey: KEY, maxRetries: 0, logLevel: "off" });
  });
  afterEach(async () => {
    await fake.stop();
  });
  const messages = [{ role: "user" as const, content: "an idea" }];

  it("streams SSE chunks with include_usage (usage chunk with cost) and records headers", async () => {
    const router = new OpenAI({
      baseURL: fake.url,
      apiKey: KEY,
      maxRetries: 0,
      defaultHeaders: { "HTTP-Referer": "https://hermes.local", "X-Title": "Hermes" },
    });
    const stream = await router.chat.completions.create({
      model: "meta-llama/llama-3.1-8b-instruct",
      messages,
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: 100,
      temperature: 0.3,
    });
    const chunks: OpenAI.Chat.ChatCompletionChunk[] = [];
    for await (const c of stream) chunks.push(c);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? "").join("")).toBe("Draft: an idea");
    expect(chunks[0]!.choices[0]!.delta.role).toBe("assistant");
    expect(chunks.at(-2)!.choices[0]!.finish_reason).toBe("stop");
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage).toMatchObject({
      prompt_tokens: expect.any(Number),
      completion_tokens: 4,
      cost: 0.0012,
    });
    expect(last.usage!.total_tokens).toBe(last.usage!.prompt_tokens + last.usage!.completion_tokens);
    expect(chunks.every((c) => c.object === "chat.completion.chunk" && c.id === chunks[0]!.id)).toBe(true);

    const req = fake.requests[0]!;
    expect(req).toMatchObject({
      path: "/v1/chat/completions",
      stream: true,
      model: "meta-llama/llama-3.1-8b-instruct",
    });
    expect(req.options).toMatchObject({
      max_tokens: 100,
      temperature: 0.3,
      stream_options: { include_usage: true },
    });
    expect(req.headers["http-referer"]).toBe("https://hermes.local");
    expect(req.headers["x-title"]).toBe("Hermes");
    expect(req.headers.authorization).toBe(`Bearer ${KEY}`);
  });

  it("speaks raw SSE: text/event-stream, data: lines, [DONE]", async () => {
    fake.setResponder(() => ({ chunks: ["Hi"] }));
    const res = await fetch(`${fake.url}/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-4o-mini", messages, stream: true }),
    });
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const events = (await res.text()).split("\n\n").filter(Boolean);
    expect(events.every((e) => e.startsWith("data: "))).toBe(true);
    expect(events.at(-1)).toBe("data: [DONE]");
    expect(events).toHaveLength(4); // role, "Hi", finish, [DONE] (no usage chunk without include_usage)
  });

  it("answers non-streaming chat.completion with usage", async () => {
    fake.setResponder(() => ({ text: "done", promptTokens: 12, evalTokens: 5 }));
    const res = await client.chat.completions.create({
      model: "gpt-4o-mini",
      messages,
      max_completion_tokens: 50,
    });
    expect(res.object).toBe("chat.completion");
    expect(res.choices[0]).toMatchObject({
      index: 0,
      message: { role: "assistant", content: "done" },
      finish_reason: "stop",
    });
    expect(res.usage).toEqual({ prompt_tokens: 12, completion_tokens: 5, total_tokens: 17, cost: 0.0012 });
    expect(fake.requests[0]!.stream).toBe(false);
  });

  it("lists models", async () => {
    const list = await client.models.list();
    expect(list.data.map((m) => m.id)).toEqual(["gpt-4o-mini", "meta-llama/llama-3.1-8b-instruct"]);
    expect(list.data[1]).toMatchObject({ object: "model", owned_by: "meta-llama" });
  });

  it("401 AuthenticationError without the key or with a wrong one", async () => {
    for (const apiKey of ["wrong", undefined]) {
      const bad = new OpenAI({ baseURL: fake.url, apiKey: "unused", maxRetries: 0 });
      const opts = apiKey
        ? { headers: { Authorization: `Bearer ${apiKey}` } }
        : { headers: { Authorization: null } };
      const err = await caught(bad.models.list(opts));
      expect(err).toBeInstanceOf(AuthenticationError);
      expect(err).toMatchObject({ status: 401, code: "invalid_api_key", type: "invalid_request_error" });
    }
  });

  it("unknown model → NotFoundError code model_not_found", async () => {
    const err = await caught(client.chat.completions.create({ model: "gpt-9", messages }));
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err).toMatchObject({ status: 404, code: "model_not_found" });
  });

  it("fault http500 → InternalServerError", async () => {
    fake.setResponder(() => ({ fault: "http500" }));
    const err = await caught(
      client.chat.completions.create({ model: "gpt-4o-mini", messages, stream: true }),
    );
    expect(err).toBeInstanceOf(InternalServerError);
    expect(err).toMatchObject({ status: 500, type: "server_error" });
  });

  it("fault http429 → RateLimitError with Retry-After; the SDK's own retries honour it", async () => {
    fake.setResponder(() => ({ fault: "http429", retryAfterSeconds: 7 }));
    const err = await caught(client.chat.completions.create({ model: "gpt-4o-mini", messages }));
    expect(err).toBeInstanceOf(RateLimitError);
    expect(err).toMatchObject({ status: 429, code: "rate_limit_exceeded" });
    expect((err.headers as Headers).get("retry-after")).toBe("7");

    let calls = 0;
    fake.setResponder(() => (++calls === 1 ? { fault: "http429", retryAfterSeconds: 0 } : { text: "ok" }));
    const retrying = new OpenAI({ baseURL: fake.url, apiKey: KEY }); // default maxRetries: 2
    const res = await retrying.chat.completions.create({ model: "gpt-4o-mini", messages });
    expect(res.choices[0]!.message.content).toBe("ok");
    expect(calls).toBe(2);
  });

  it("fault malformed → SyntaxError (stream and not)", async () => {
    fake.setResponder(() => ({ text: "some answer", fault: "malformed" }));
    const stream = await client.chat.completions.create({ model: "gpt-4o-mini", messages, stream: true });
    const err = await caught(
      (async () => {
        for await (const _ of stream) {
        }
      })(),
    );
    expect(err).toBeInstanceOf(SyntaxError);
    expect(err.message).toMatch(/malformed server-sent event JSON/);
    expect(await caught(client.chat.completions.create({ model: "gpt-4o-mini", messages }))).toBeInstanceOf(
      SyntaxError,
    );
  });

  it("fault cut → raw TypeError 'terminated' (not an APIError)", async () => {
    fake.setResponder(() => ({ text: "abcdefghijklmnop", fault: "cut" }));
    const stream = await client.chat.completions.create({ model: "gpt-4o-mini", messages, stream: true });
    let got = "";
    const err = await caught(
      (async () => {
        for await (const c of stream) got += c.choices[0]?.delta.content ?? "";
      })(),
    );
    expect(got).toBe("abcdefgh");
    expect(err).toBeInstanceOf(TypeError);
    expect(err.message).toBe("terminated");
    const err2 = await caught(client.chat.completions.create({ model: "gpt-4o-mini", messages }));
    expect(err2).toBeInstanceOf(TypeError);
  });

  it("fault hang + AbortController → APIUserAbortError, abortedCount increments", async () => {
    fake.setResponder(() => ({ fault: "hang" }));
    const ac = new AbortController();
    const pending = caught(
      client.chat.completions.create({ model: "gpt-4o-mini", messages }, { signal: ac.signal }),
    );
    await waitUntil(() => fake.inFlight() === 1);
    ac.abort();
    expect(await pending).toBeInstanceOf(APIUserAbortError);
    await waitUntil(() => fake.abortedCount() === 1);
    expect(fake.inFlight()).toBe(0);
  });

  it("abort mid-stream ends the for-await silently (no throw); the server sees the disconnect", async () => {
    fake.setResponder(() => ({ text: "z".repeat(80), chunkDelayMs: 20 }));
    const ac = new AbortController();
    const stream = await client.chat.completions.create(
      { model: "gpt-4o-mini", messages, stream: true },
      { signal: ac.signal },
    );
    let got = "";
    for await (const c of stream) {
      got += c.choices[0]?.delta.content ?? "";
      if (got) ac.abort();
    }
    expect(got).toBe("z".repeat(8));
    await waitUntil(() => fake.abortedCount() === 1);
  });

  it("connection refused → APIConnectionError; start again on the same port", async () => {
    const port = fake.port;
    await fake.stop();
    const err = await caught(client.models.list());
    expect(err).toBeInstanceOf(APIConnectionError);
    expect(((err.cause as Error).cause as { code?: string }).code).toBe("ECONNREFUSED");
    fake = await FakeOpenAI.start({ port, apiKey: KEY });
    expect(fake.url).toBe(`http://127.0.0.1:${port}/v1`);
    expect((await client.models.list()).data.length).toBe(2);
  });
});
