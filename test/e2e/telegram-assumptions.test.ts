import { afterEach, describe, expect, it } from "vitest";
import { PatternsRepo } from "../../src/store/learning/patterns-repo.ts";
import type { BotMessage } from "../fakes/telegram-emulator.ts";
import { OWNER_ID } from "../helpers/hermes-harness.ts";
import { buttons, type Cleanups, startChat, stopAll } from "./chat-setup.ts";

const cleanups: Cleanups = [];
afterEach(() => stopAll(cleanups));

describe("assumptions in Telegram", () => {
  it("an idea shows what was assumed from earlier with a Change button; a tap takes it back", async () => {
    const { tg, h, client } = await startChat(cleanups);
    // A validated habit of the owner for poems (creation): found, then confirmed twice.
    const repo = new PatternsRepo(h.hermes.database.db);
    const now = new Date().toISOString();
    const p = await repo.insert({
      name: `prefill context · creation · user ${OWNER_ID}`,
      description: "test habit",
      impact: "skips the context question",
      userId: String(OWNER_ID),
      ideaType: "creation",
      slot: "context",
      value: "for my book club",
      validationCount: 5,
      successCount: 5,
      confidence: 0.857,
      timeSavedEstimate: 6,
      templateIds: [],
      now,
    });
    await repo.update(p.id, "context", {
      evolution: {
        ...p.evolution,
        history: [...p.evolution.history, { at: now, event: "confirmed" }, { at: now, event: "confirmed" }],
      },
    });
    await client.sendMessage(client.makeMessage("Write a poem about the sea"));
    const shown = await tg.waitFor(
      OWNER_ID,
      (m) => m.text === "🧠 Assumed from earlier — Context: for my book club",
      5000,
      "the assumption",
    );
    const change = buttons(shown).find((b) => b.text === "✏ Change");
    expect(change?.callback_data).toMatch(/^as:\d+:context$/);
    await client.sendCallback(
      client.makeCallbackQuery(change?.callback_data ?? "", {
        message: { message_id: shown.message_id, chat: { id: OWNER_ID }, text: shown.text } as never,
      }),
    );
    const edited = await tg.waitFor(
      OWNER_ID,
      (m: BotMessage) => m.message_id === shown.message_id && m.text.includes("→ Changed"),
      5000,
      "the changed assumption",
    );
    expect(buttons(edited)).toEqual([]);
    const after = await repo.byId(p.id);
    expect(after?.evolution.corrections).toBe(1);
  });
});
