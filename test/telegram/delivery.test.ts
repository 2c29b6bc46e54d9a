import type { Api } from "grammy";
import { describe, expect, it } from "vitest";
import { sendDraft } from "../../bot/telegram/delivery.ts";
import { ratingKeyboard } from "../../bot/telegram/keyboards.ts";

const log = { debug: () => {}, warn: () => {}, error: () => {} };

describe("sendDraft", () => {
  it("sends the same text plain when Telegram refuses its entities, buttons kept", async () => {
    const calls: { text: string; other: { entities?: unknown; reply_markup?: unknown } }[] = [];
    const api = {
      sendMessage: async (_chat: string, text: string, other: { entities?: unknown }) => {
        calls.push({ text, other });
        if (other.entities)
          throw Object.assign(new Error("Bad Request: can't parse entities"), { error_code: 400 });
        return { message_id: calls.length };
      },
    } as unknown as Api;
    const ids = await sendDraft(api, "1", {
      header: "📝 Draft 1",
      body: "**Hello** [x](https://example.org)",
      fileName: "d.md",
      keyboard: ratingKeyboard(3),
      log,
    });
    expect(ids).toEqual([2]);
    expect(calls.map((c) => c.text)).toEqual(["📝 Draft 1\n\nHello x", "📝 Draft 1\n\nHello x"]);
    expect(calls[1]?.other.entities).toBeUndefined();
    expect(calls[1]?.other.reply_markup).toEqual(ratingKeyboard(3));
  });
});
