import { afterEach, describe, expect, it } from "vitest";
import { FakeOllama } from "../fakes/fake-ollama.ts";
import { RedeliveringTelegram } from "../fakes/redelivering-telegram.ts";
import { TelegramEmulator } from "../fakes/telegram-emulator.ts";
import { OWNER_ID, startTestHermes } from "../helpers/hermes-harness.ts";
import { type Cleanups, stopAll } from "./chat-setup.ts";

const cleanups: Cleanups = [];
afterEach(() => stopAll(cleanups));

/**
 * Issue 16 item 8: a draft owed to a Telegram chat is delivered exactly once, whether it completes
 * while Hermes stops or Telegram does not take it before the process ends (then the next start
 * sends it from the outbox). Before: the bot stopped delivering before the jobs' grace period, so
 * a draft finishing in it was recorded but never sent, not even after a restart.
 */
async function setup() {
  const tg = await TelegramEmulator.start();
  cleanups.push(() => tg.stop());
  const api = await RedeliveringTelegram.start(tg);
  cleanups.push(() => api.stop());
  const ollama = await FakeOllama.start();
  cleanups.push(() => ollama.stop());
  // The draft is held until the test releases it; other calls (if any) answer at once.
  let release!: () => void;
  const released = new Promise<void>((r) => {
    release = r;
  });
  let draftAsked!: () => void;
  const asked = new Promise<void>((r) => {
    draftAsked = r;
  });
  ollama.setResponder(async (req) => {
    const prompt = req.messages.at(-1)?.content ?? "";
    if (!prompt.includes("Plan a garden")) return { text: "ok" };
    draftAsked();
    await released;
    return { text: "GARDEN DRAFT: beds, paths, water." };
  });
  const h = await startTestHermes({
    TELEGRAM_BOT_TOKEN: tg.token,
    TELEGRAM_API_ROOT: api.apiRoot,
    OLLAMA_HOST: ollama.url,
  });
  cleanups.push(() => h.stop());
  const client = tg.client(OWNER_ID);
  await client.sendMessage(client.makeMessage("Plan a garden"));
  await tg.waitFor(OWNER_ID, (m) => m.text.includes("Got it"), 10_000, "the acknowledgement");
  await asked;
  return { tg, api, h, release };
}

const isDraft = (m: { text: string }) => m.text.startsWith("📝 Draft 1") && m.text.includes("GARDEN DRAFT");

const owedCount = (h: Awaited<ReturnType<typeof setup>>["h"]) =>
  h.hermes.database.sqlite
    .prepare("SELECT count(*) FROM telegram_outbox WHERE delivered_at IS NULL")
    .pluck()
    .get() as number;

async function waitForNothingOwed(h: Awaited<ReturnType<typeof setup>>["h"]): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (owedCount(h) > 0) {
    if (Date.now() > deadline) throw new Error("the outbox still owes a message");
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("Telegram deliveries survive a stop", () => {
  it("a draft that completes while Hermes stops reaches the chat, exactly once across the restart", async () => {
    const { tg, h, release } = await setup();
    const stopping = h.hermes.stop();
    // Intake is off (no more updates taken); the draft's job is in its grace period.
    while (h.hermes.bot?.isRunning()) await new Promise((r) => setTimeout(r, 5));
    release();
    await stopping;
    await h.restart();
    await tg.waitFor(OWNER_ID, isDraft, 10_000, "the draft that completed during the stop");
    await waitForNothingOwed(h);
    expect(tg.botMessages(OWNER_ID).filter(isDraft)).toHaveLength(1);
  });

  it("a draft Telegram did not take before the process ended is sent at the next start, once", async () => {
    const { tg, api, h, release } = await setup();
    api.hold((method, body) => method === "sendMessage" && String(body.text).includes("GARDEN DRAFT"));
    release();
    while (api.heldCount() === 0) await new Promise((r) => setTimeout(r, 5));
    // Telegram hangs on the draft: the stop's bounded wait ends, the call is abandoned, the draft stays owed.
    await h.hermes.stop();
    api.release();
    expect(tg.botMessages(OWNER_ID).filter(isDraft)).toHaveLength(0);
    await h.restart();
    await tg.waitFor(OWNER_ID, isDraft, 10_000, "the owed draft after the restart");
    await waitForNothingOwed(h);
    expect(tg.botMessages(OWNER_ID).filter(isDraft)).toHaveLength(1);
  });
});
