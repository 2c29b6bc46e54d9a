import { describe, expect, it } from "vitest";
import type { ErrorCode } from "../../src/errors.ts";
import { failure, request } from "../backends/contract.ts";
import type { FakeReply } from "../fakes/fake-server.ts";
import { talosTarget } from "./talos-target.ts";

// The fault matrix for the talos kind: each fault of Talos itself, or of the Ollama behind it,
// ends in a clear error with the retryable flag the queue needs (or success) — never a hang.
const TEXT = "Once upon a time there was a bakery that sold the best bread in town.";
/** The deadline of the cases that must end in TIMEOUT: their Ollama never finishes, whatever the load. */
const TIMEOUT_MS = 600;
/** Every other case: generous, so a busy machine cannot turn a fault seen at once into a TIMEOUT. */
const GENEROUS_MS = 10_000;
/** A stall longer than any test: such a stream only ends because the deadline ends it. */
const FOREVER_MS = 3_600_000;

const cases: {
  name: string;
  reply: FakeReply | "talos down";
  code?: ErrorCode;
  says: RegExp;
  retryAfter?: number;
}[] = [
  {
    name: "Talos down (connection refused)",
    reply: "talos down",
    code: "TALOS_UNAVAILABLE",
    says: /cannot be reached/,
  },
  {
    name: "Ollama hangs past the timeout",
    reply: { fault: "hang" },
    code: "TIMEOUT",
    says: /did not finish/,
  },
  { name: "Ollama answers 500", reply: { fault: "http500" }, code: "BACKEND_ERROR", says: /HTTP 500/ },
  {
    name: "Ollama answers 429",
    reply: { fault: "http429", retryAfterSeconds: 7 },
    code: "BACKEND_ERROR",
    says: /busy/,
    // Ollama's Retry-After reaches Hermes' queue through the agent.
    retryAfter: 7,
  },
  {
    name: "Ollama sends malformed JSON",
    reply: { fault: "malformed", text: TEXT },
    code: "BACKEND_ERROR",
    says: /done/,
  },
  {
    name: "Ollama's stream is cut midway",
    reply: { fault: "cut", text: TEXT },
    code: "TALOS_UNAVAILABLE",
    says: /Ollama/,
  },
  {
    name: "Ollama stalls mid-answer",
    reply: { chunks: ["one ", "two ", "three"], chunkDelayMs: FOREVER_MS },
    code: "TIMEOUT",
    says: /did not finish/,
  },
];

describe("fault matrix: talos", () => {
  for (const c of cases) {
    it(`${c.name} → ${c.code}, retryable`, async () => {
      const deadlineMs = c.code === "TIMEOUT" ? TIMEOUT_MS : GENEROUS_MS;
      const s = await talosTarget.start({ defaultTimeoutMs: deadlineMs });
      try {
        if (c.reply === "talos down") await s.fake.stop();
        else s.fake.setResponder(() => c.reply as FakeReply);
        const error = await failure(
          s.backend.run(request(s.model, { timeoutMs: deadlineMs }), new AbortController().signal),
        );
        expect(error.code).toBe(c.code);
        expect(error.retryable).toBe(true);
        expect(error.message).toMatch(c.says);
        expect(error.retryAfter).toBe(c.retryAfter);
        // Never stuck: the hanging cases' Ollama never finishes, so a TIMEOUT that says "did not
        // finish" is the deadline ending the call (how soon after it is load, not behaviour).
      } finally {
        await s.fake.stop();
      }
    });
  }

  it("a very slow stream that finishes within the timeout succeeds", async () => {
    const s = await talosTarget.start({ defaultTimeoutMs: 5_000 });
    try {
      s.fake.setResponder(() => ({ chunks: ["a ", "b ", "c"], chunkDelayMs: 150 }));
      const result = await s.backend.run(request(s.model), new AbortController().signal);
      expect(result.text).toBe("a b c");
    } finally {
      await s.fake.stop();
    }
  });

  it("an unknown model is not retryable and says what to do", async () => {
    const s = await talosTarget.start({ defaultTimeoutMs: 5_000 });
    try {
      const error = await failure(s.backend.run(request("no-such-model:1b"), new AbortController().signal));
      expect(error.code).toBe("BACKEND_ERROR");
      expect(error.retryable).toBe(false);
    } finally {
      await s.fake.stop();
    }
  });
});
