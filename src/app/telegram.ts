import type { HermesBot } from "../../bot/bot.ts";
import { KvRepo } from "../store/system/kv-repo.ts";
import { TelegramUpdatesRepo } from "../store/system/telegram-updates-repo.ts";
import { createTranscriber } from "../transcription/client.ts";
import { transcriptionSettings } from "../transcription/settings.ts";
import type { ConversationPart } from "./conversation.ts";
import type { Foundation } from "./foundation.ts";

/** The Telegram bot when TELEGRAM_BOT_TOKEN is set; undefined (and a warning) otherwise. */
export async function createTelegram(
  f: Foundation,
  { engine, threadService }: ConversationPart,
): Promise<HermesBot | undefined> {
  const { env, config, log, database, notifier, clock } = f;
  if (!env.TELEGRAM_BOT_TOKEN) {
    log.warn(
      {},
      "Telegram bot is OFF: TELEGRAM_BOT_TOKEN is not set. HTTP and the job runner run anyway. " +
        "To turn the bot on, create a bot with @BotFather, then set TELEGRAM_BOT_TOKEN and HERMES_OWNER_IDS and restart.",
    );
    return undefined;
  }
  // Loaded only when there is a bot to run: grammY is the largest dependency at idle.
  const { createBot } = await import("../../bot/bot.ts");
  const bot = createBot({
    token: env.TELEGRAM_BOT_TOKEN,
    apiRoot: env.TELEGRAM_API_ROOT,
    ownerIds: env.HERMES_OWNER_IDS,
    engine,
    threads: threadService,
    config,
    env,
    log,
    conversationStore: new KvRepo(database.sqlite),
    transcriber: createTranscriber({ settings: () => transcriptionSettings(env, config) }),
    updates: handledUpdates(new TelegramUpdatesRepo(database.sqlite), () => clock.now()),
  });
  notifier.connect((text) => bot.notifyOwners(text));
  if (env.HERMES_OWNER_IDS.length === 0)
    log.warn({}, "HERMES_OWNER_IDS is empty: the bot will refuse everyone. Add your Telegram user id.");
  return bot;
}

/** Starts polling; a bot that cannot start is logged, and HTTP and the job runner keep running. */
export async function startTelegram(f: Foundation, bot: HermesBot | undefined): Promise<void> {
  if (!bot) return;
  try {
    await bot.start();
    f.log.info({ owners: f.env.HERMES_OWNER_IDS.length }, "Telegram bot polling");
  } catch (error) {
    f.log.error(
      { err: error instanceof Error ? error.message : String(error) },
      "Telegram bot could not start (check TELEGRAM_BOT_TOKEN / TELEGRAM_API_ROOT); HTTP and the job runner keep running",
    );
  }
}

function handledUpdates(repo: TelegramUpdatesRepo, now: () => number) {
  return {
    handled: (botId: string, updateId: number) => repo.handled(botId, updateId),
    record: (botId: string, updateId: number) => repo.record(botId, updateId, now()),
  };
}
