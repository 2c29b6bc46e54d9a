import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it, vi } from "vitest";
import { OllamaBackend } from "../../src/backends/ollama/backend.ts";
import { ndjsonLineShape } from "../../src/backends/ollama/stream.ts";

// Ollama's streamed /api/chat is parsed once, by the package; Hermes looks at each line's ends as
// it arrives and counts the parts the package yields, so no malformed line goes unnoticed.

let server: Server | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  const s = server;
  server = undefined;
  if (!s) return;
  s.closeAllConnections();
  await new Promise((r) => s.close(r));
});

const line = (content: string, done = false) =>
  `${JSON.stringify({ model: "m", created_at: "2026-01-01T00:00:00Z", message: { role: "assistant", content }, done, ...(done ? { done_reason: "stop", eval_count: 2, prompt_eval_count: 3 } : {}) })}\n`;

/** An Ollama that answers /api/chat with these lines. */
async function ollamaSending(lines: string[]): Promise<OllamaBackend> {
  server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      res.writeHead(200, { "content-type": "application/x-ndjson" });
      for (const l of lines) res.write(l);
      res.end();
    });
  });
  await new Promise<void>((r) => server?.listen(0, "127.0.0.1", r));
  const host = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return new OllamaBackend({ name: "ollama", host });
}

const run = (backend: OllamaBackend) =>
  backend.run(
    { jobId: 1, model: "m", messages: [{ role: "user", content: "hi" }] },
    new AbortController().signal,
  );

describe("Ollama's NDJSON stream", () => {
  it("reads a well-formed answer, blank lines between its lines allowed", async () => {
    const backend = await ollamaSending([line("Hel"), "\n", line("lo"), line("", true)]);
    await expect(run(backend)).resolves.toMatchObject({
      text: "Hello",
      usage: { inputTokens: 3, outputTokens: 2 },
    });
  });

  it("fails the call at a line cut short, as it arrives", async () => {
    const backend = await ollamaSending([
      line("Hel"),
      '{"model":"m","message":{"role":"assis\n',
      line("", true),
    ]);
    await expect(run(backend)).rejects.toMatchObject({
      code: "BACKEND_ERROR",
      message: /malformed JSON line/,
    });
  });

  it("fails the call when a line that looks like an object is not JSON (the package skips it)", async () => {
    vi.spyOn(console, "warn").mockImplementation(() => {}); // the package's own warning
    const backend = await ollamaSending([line("Hel"), '{"model":"m", oops}\n', line("lo"), line("", true)]);
    await expect(run(backend)).rejects.toMatchObject({
      code: "BACKEND_ERROR",
      message: /malformed JSON line/,
    });
  });

  it("tells a line's shape by its ends", () => {
    expect(["", "  \r", '{"a":1}', ' {"a":1}\r', "{", "[1]", "x}", "{}"].map(ndjsonLineShape)).toEqual([
      "blank",
      "blank",
      "object",
      "object",
      "bad",
      "bad",
      "bad",
      "object",
    ]);
  });
});
