import { afterEach, describe, expect, it } from "vitest";
import { FakeOllama } from "../fakes/fake-ollama.ts";
import { RedeliveringTelegram } from "../fakes/redelivering-telegram.ts";
import { TelegramEmulator } from "../fakes/telegram-emulator.ts";
import { OWNER_ID, startTestHermes } from "../helpers/hermes-harness.ts";
import { type Cleanups, stopAll } from "./chat-setup.ts";

const cleanups: Cleanups = [];
afterEach(() => stopAll(cleanups));

const until = async (cond: () => boolean, what: string) => {
  const deadline = Date.now() + 10_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

/**
 * Issue 16 item 9, the graceful path: grammY's stop() confirms the offset after the update being
 * handled, but the rest of the fetched batch is still handled before polling ends — and Telegram
 * delivers those again at the next start. Before: handled twice (a second idea); after: once.
 */
describe("Telegram updates across a graceful stop", () => {
  it("an update handled after stop() confirmed an earlier offset makes one idea, not two", async () => {
    const tg = await TelegramEmulator.start();
    cleanups.push(() => tg.stop());
    const api = await RedeliveringTelegram.start(tg);
    cleanups.push(() => api.stop());
    const ollama = await FakeOllama.start();
    cleanups.push(() => ollama.stop());
    ollama.setResponder(() => ({ text: "a draft" }));
    // One batch, waiting before the start: an idea, /help (its reply is slow), another idea.
    const client = tg.client(OWNER_ID);
    await client.sendCommand(client.makeCommand("/new Plan a garden alpha"));
    await client.sendCommand(client.makeCommand("/help"));
    await client.sendCommand(client.makeCommand("/new Plan a garden gamma"));
    api.hold(
      (method, body) =>
        method === "sendMessage" && String(body.text).startsWith("Send any idea in plain words"),
    );
    const h = await startTestHermes({
      TELEGRAM_BOT_TOKEN: tg.token,
      TELEGRAM_API_ROOT: api.apiRoot,
      OLLAMA_HOST: ollama.url,
    });
    cleanups.push(() => h.stop());
    await until(() => api.heldCount() === 1, "Hermes inside /help");
    const batch = [...api.handedOut];
    expect(batch).toHaveLength(3);
    const gamma = batch[2] ?? -1;

    const stopping = h.hermes.stop();
    // stop() confirmed the offset after /help; the batch's last update is still to be handled.
    await until(() => h.hermes.bot?.isRunning() === false, "intake to stop");
    expect(api.confirmed()).toBe(gamma);
    api.release(true);
    await stopping;

    const timesGamma = () => api.handedOut.filter((id) => id === gamma).length;
    const before = timesGamma();
    await h.restart();
    await until(() => api.confirmed() > gamma, "the restarted bot to get past the redelivered update");
    // Telegram did deliver it again to the new process.
    expect(timesGamma()).toBeGreaterThan(before);
    const ideas = h.hermes.database.sqlite
      .prepare("SELECT original_request FROM idea_threads ORDER BY id")
      .pluck()
      .all();
    expect(ideas).toEqual(["Plan a garden alpha", "Plan a garden gamma"]);
  });
});
