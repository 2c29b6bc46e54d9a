// The `openai` package is imported on first use, and a cold import takes ~400 ms: that start-up must
// not count against the request's deadline (a 300 ms deadline used to end as TIMEOUT before a byte
// was sent). The import is held open here while the deadline's timer is advanced far past it.
import { afterEach, describe, expect, it, vi } from "vitest";
import { OpenAIBackend } from "../../src/backends/openai/backend.ts";
import { request } from "./contract.ts";

const gate = vi.hoisted(() => {
  let release!: () => void;
  let requested!: () => void;
  return {
    released: new Promise<void>((r) => {
      release = r;
    }),
    requestedOnce: new Promise<void>((r) => {
      requested = r;
    }),
    release: () => release(),
    requested: () => requested(),
  };
});

vi.mock("openai", async (importOriginal) => {
  gate.requested();
  await gate.released;
  return importOriginal();
});

/** One streamed answer "hello" in OpenAI's server-sent-event framing. */
function sseAnswer(): Response {
  const chunk = (delta: object, finish: string | null) =>
    `data: ${JSON.stringify({
      id: "c1",
      object: "chat.completion.chunk",
      created: 0,
      model: "m",
      choices: [{ index: 0, delta, finish_reason: finish }],
    })}\n\n`;
  const body = `${chunk({ role: "assistant", content: "hello" }, null)}${chunk({}, "stop")}data: [DONE]\n\n`;
  return new Response(body, { status: 200, headers: { "content-type": "text/event-stream" } });
}

afterEach(() => {
  vi.useRealTimers();
});

describe("openai backend: loading the package", () => {
  it("a slow first import does not eat into the request's deadline", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const backend = new OpenAIBackend({
      name: "openai",
      provider: "custom",
      baseURL: "http://127.0.0.1:1/v1",
      fetch: async () => sseAnswer(),
    });
    const run = backend.run(request("m", { timeoutMs: 300 }), new AbortController().signal);
    run.catch(() => {});
    await gate.requestedOnce;
    // The import takes "10 s": any deadline timer already running fires now.
    vi.advanceTimersByTime(10_000);
    gate.release();
    const result = await run;
    expect(result.text).toBe("hello");
  });
});
