import { FakeOllama } from "../fakes/fake-ollama.ts";
import { type BotMessage, TelegramEmulator } from "../fakes/telegram-emulator.ts";
import { OWNER_ID, startTestHermes } from "../helpers/hermes-harness.ts";

/** Stops what a test started, newest first; call `stopAll` from afterEach. */
export type Cleanups = (() => Promise<unknown>)[];

export async function stopAll(cleanups: Cleanups): Promise<void> {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
}

/**
 * The emulator, a fake Ollama and Hermes polling the emulator, with the owner's client;
 * `config` overrides settings at start.
 */
export async function startChat(cleanups: Cleanups, config: Record<string, string> = {}) {
  const tg = await TelegramEmulator.start();
  cleanups.push(() => tg.stop());
  const ollama = await FakeOllama.start();
  cleanups.push(() => ollama.stop());
  const h = await startTestHermes(
    {
      TELEGRAM_BOT_TOKEN: tg.token,
      TELEGRAM_API_ROOT: tg.apiRoot,
      OLLAMA_HOST: ollama.url,
    },
    config,
  );
  cleanups.push(() => h.stop());
  return { tg, ollama, h, client: tg.client(OWNER_ID) };
}

type Markup = { inline_keyboard: { text: string; callback_data: string }[][] };
/** The inline buttons of a bot message (none: []). */
export const buttons = (m: BotMessage) =>
  (m.reply_markup as Markup | undefined)?.inline_keyboard.flat() ?? [];
