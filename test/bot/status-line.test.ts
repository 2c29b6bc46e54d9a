import type { Api } from "grammy";
import { describe, expect, it } from "vitest";
import { StatusLines } from "../../bot/telegram/status-line.ts";
import type { EngineEvent } from "../../src/engine/engine.ts";

/** The status lines an ack shows, from the edits sent to a recording Api (no throttling). */
function recorder() {
  const shown: string[] = [];
  const api = {
    editMessageText: async (_chat: string, _id: number, text: string) => {
      shown.push(text.split("\n").at(-1) ?? "");
      return true;
    },
  } as unknown as Api;
  const lines = new StatusLines(api, { debug() {} }, 0, () => 0);
  const job = { id: 7 } as never;
  const emit = async (event: Record<string, unknown>) => {
    lines.onEvent({ event: { job, ...event } } as unknown as EngineEvent);
    await new Promise((r) => setImmediate(r));
  };
  lines.register(7, "1", 1, "💡 Got it");
  return { shown, emit };
}

describe("the ack's status line", () => {
  it("while the backend is down it stays 'Waiting for a backend' across attempts, not flipping to 'Drafting…'", async () => {
    const { shown, emit } = await recorder();
    const retry = (n: number) => ({
      type: "retrying",
      retryCount: n,
      nextAttemptAt: 60_000 * n,
      error: { code: "BACKEND_UNAVAILABLE", message: "down" },
    });
    await emit({ type: "started" });
    await emit(retry(1));
    await emit({ type: "started" });
    await emit(retry(2));
    await emit({ type: "started" });
    expect(shown).toEqual([
      "⏳ Drafting…",
      "⏸ Waiting for a backend (attempt 2 at 00:01:00 UTC)",
      "⏸ Waiting for a backend (attempt 3 at 00:02:00 UTC)",
    ]);
    // Once text arrives it is drafting again.
    await emit({ type: "progress", tokens: 12, textSoFar: "x" });
    expect(shown.at(-1)).toBe("⏳ Drafting… 12 tokens so far");
  });
});
