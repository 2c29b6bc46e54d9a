import type { Api } from "grammy";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { DraftStreams } from "../../bot/telegram/draft-stream.ts";
import { TypingIndicator } from "../../bot/telegram/typing.ts";
import type { EngineEvent } from "../../src/engine/ports.ts";

const thread = { source: "telegram", chat_id: "42" } as EngineEvent["thread"];
const job = { id: 7 } as never;
const progress = (textSoFar: string): EngineEvent => ({
  event: { type: "progress", job, tokens: textSoFar.length, textSoFar },
  thread,
  shortId: "abc",
});
const completed: EngineEvent = { event: { type: "completed", job } as never, thread, shortId: "abc" };

beforeEach(() => vi.useFakeTimers({ now: 0 }));
afterEach(() => vi.useRealTimers());

function fakeApi(fail?: { error_code: number }) {
  const calls: { chatId: number; draftId: number; text: string; entities: unknown }[] = [];
  const api = {
    sendMessageDraft: async (chatId: number, draftId: number, text: string, other: { entities: unknown }) => {
      calls.push({ chatId, draftId, text, entities: other.entities });
      if (fail) throw Object.assign(new Error("Not Found"), fail);
      return true;
    },
    sendChatAction: vi.fn(async () => true),
  };
  return { api: api as unknown as Api, calls, raw: api };
}

const log = { debug: () => {} };

describe("DraftStreams", () => {
  it("streams the text so far, formatted, at most once a second, always ending on the newest text", async () => {
    const { api, calls } = fakeApi();
    const s = new DraftStreams(api, log, 1000, () => Date.now());
    s.onEvent(progress("**Hel"));
    await vi.advanceTimersByTimeAsync(0);
    for (const t of ["**Hello**", "**Hello** wo", "**Hello** world"]) s.onEvent(progress(t));
    await vi.advanceTimersByTimeAsync(999);
    expect(calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toHaveLength(2);
    expect(calls[1]).toEqual({
      chatId: 42,
      draftId: 7,
      text: "Hello world",
      entities: [{ type: "bold", offset: 0, length: 5 }],
    });
    s.onEvent(progress("**Hello** world!"));
    s.onEvent(completed);
    await vi.advanceTimersByTimeAsync(5000);
    expect(calls).toHaveLength(2);
  });

  it("remembers a 404 (no such method) and never tries again, handing progress back to the status line", async () => {
    const { api, calls } = fakeApi({ error_code: 404 });
    const s = new DraftStreams(api, log, 1000, () => Date.now());
    expect(s.covers(progress("a"))).toBe(true);
    s.onEvent(progress("a"));
    await vi.advanceTimersByTimeAsync(0);
    for (let i = 0; i < 20; i++) {
      s.onEvent(progress(`a${i}`));
      await vi.advanceTimersByTimeAsync(1000);
    }
    expect(calls).toHaveLength(1);
    expect(s.covers(progress("a"))).toBe(false);
  });
});

describe("TypingIndicator", () => {
  it("keeps typing while the job runs and stops when it ends", async () => {
    const { api, raw } = fakeApi();
    const t = new TypingIndicator(api, 4500);
    t.onEvent({ event: { type: "started", job } as never, thread, shortId: "abc" });
    await vi.advanceTimersByTimeAsync(20_000);
    expect(raw.sendChatAction).toHaveBeenCalledTimes(5);
    t.onEvent(completed);
    await vi.advanceTimersByTimeAsync(20_000);
    expect(raw.sendChatAction).toHaveBeenCalledTimes(5);
  });
});
