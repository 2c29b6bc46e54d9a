import { autoRetry } from "@grammyjs/auto-retry";
import { apiThrottler } from "@grammyjs/transformer-throttler";
import { Bot, type Context } from "grammy";
import type { SystemConfig } from "../src/config/system-config.ts";
import type { Engine } from "../src/engine/engine.ts";
import type { ThreadService } from "../src/engine/threads/service.ts";
import { COMMANDS } from "./features/commands.ts";
import {
  type ConversationStateStore,
  type HermesContext,
  installConfigConversation,
} from "./features/config.ts";
import { installCommands } from "./features/handlers.ts";
import { installIdeaFlow } from "./features/ideas.ts";
import { createDelivery, type DeliveryLog } from "./telegram/delivery.ts";
import { telegramFetch } from "./telegram/fetch.ts";
import { optional } from "./telegram/safe.ts";
import { StatusLines } from "./telegram/status-line.ts";

export interface BotOptions {
  token: string;
  apiRoot?: string | undefined;
  ownerIds: readonly string[];
  engine: Engine;
  threads: ThreadService;
  config: SystemConfig;
  log: DeliveryLog & { info(obj: object, msg: string): void };
  /** Persists in-progress conversations (the conversations plugin); in-memory when absent. */
  conversationStore?: ConversationStateStore;
}

export interface HermesBot {
  bot: Bot<HermesContext>;
  /** Resolves once the bot is polling (getMe succeeded). */
  start(): Promise<void>;
  stop(): Promise<void>;
  isRunning(): boolean;
  /** Sends a text to every owner's private chat (alerts). Throws only if no owner got it. */
  notifyOwners(text: string): Promise<void>;
}

const REFUSAL =
  "Hi! This Hermes is a private assistant and only answers its owner. Nothing you send here is stored.";
/** What a guest in limited mode may use. */
const GUEST_COMMANDS = new Set([
  "start",
  "help",
  "new",
  "status",
  "threads",
  "thread",
  "cancel",
  "export",
  "forget",
]);

export function createBot(options: BotOptions): HermesBot {
  const { engine, threads, config, log } = options;
  const owners = new Set(options.ownerIds);
  const bot = new Bot<HermesContext>(options.token, {
    client: { fetch: telegramFetch, ...(options.apiRoot ? { apiRoot: options.apiRoot } : {}) },
  });
  // Telegram 429 (after retry_after) and 5xx are retried by grammY's plugin, bounded so a message
  // never waits for minutes; the throttler keeps outgoing messages under Telegram's rate limits.
  // Global 30 msg/s as Telegram documents; per private chat a short gap instead of the plugin's
  // 1 s default, so an acknowledgement and the first question arrive together (bursts are allowed;
  // a 429 is still retried after its retry_after by autoRetry).
  bot.api.config.use(apiThrottler({ out: { maxConcurrent: 1, minTime: 100 } }));
  bot.api.config.use(autoRetry({ maxRetryAttempts: 3, maxDelaySeconds: 30 }));

  const isOwner = (ctx: Context) => ctx.from !== undefined && owners.has(String(ctx.from.id));
  const guestMode = () => config.string("hermes.guests.mode");

  // Access: owners have everything; guests are refused (nothing stored) or, in limited mode, get
  // ideas on local backends with a daily quota and never config or alerts.
  bot.use(async (ctx, next) => {
    if (isOwner(ctx)) return next();
    if (ctx.chat?.type !== "private" && !ctx.callbackQuery) return;
    if (guestMode() === "limited" && ctx.from) {
      const command = /^\/(\w+)/.exec(ctx.message?.text ?? "")?.[1];
      if (command === undefined || GUEST_COMMANDS.has(command)) return next();
      await ctx.reply("Guests can't use that command.");
      return;
    }
    if (ctx.callbackQuery) {
      await optional(
        () => ctx.answerCallbackQuery({ text: "Private assistant." }),
        log,
        "answerCallbackQuery",
      );
      return;
    }
    if (ctx.message) await ctx.reply(REFUSAL);
  });

  installConfigConversation(bot, config, options.conversationStore ?? memoryStore());
  const statusLines = new StatusLines(bot.api, log);
  const awaitingNewIdea = new Set<string>();
  // /new without text: the next plain message is a new idea, even with a question pending.
  bot.on("message:text", async (ctx, next) => {
    const id = String(ctx.from.id);
    if (ctx.message.text.startsWith("/") || !awaitingNewIdea.has(id)) return next();
    awaitingNewIdea.delete(id);
    await flow.submit(ctx, ctx.message.text);
  });
  const flow = installIdeaFlow(bot, {
    threads,
    statusLines,
    log,
    guestLimits: (ctx) => (isOwner(ctx) ? undefined : { guest: true as const }),
  });
  installCommands(bot, {
    engine,
    threads,
    config,
    isOwner,
    expectNewIdea: (userId) => awaitingNewIdea.add(userId),
    submit: (ctx, text, opts) => flow.submit(ctx, text, opts),
    log,
  });
  bot.on("message:text", (ctx) => ctx.reply("I don't know that command. /help lists the ones I have."));
  bot.on("message", (ctx) => ctx.reply("For now I understand text only — describe your idea in words."));

  bot.catch((err) => {
    log.error(
      {
        err: err.error instanceof Error ? err.error.message : String(err.error),
        update: err.ctx.update.update_id,
      },
      "bot handler failed",
    );
  });

  const deliver = createDelivery(bot.api, log, (chatId, messageId, threadId, kind) =>
    threads.rememberMessage(chatId, messageId, threadId, kind),
  );
  const unsubscribe = engine.onEvent(async (e) => {
    statusLines.onEvent(e);
    await deliver(e);
  });
  let running = false;
  let polling: Promise<void> | undefined;

  return {
    bot,
    isRunning: () => running,
    async notifyOwners(text: string) {
      const results = await Promise.allSettled([...owners].map((id) => bot.api.sendMessage(id, text)));
      if (results.length > 0 && results.every((r) => r.status === "rejected")) {
        throw new Error("no owner could be reached");
      }
    },
    async start() {
      await bot.init();
      await optional(
        () => bot.api.setMyCommands(COMMANDS.map(({ command, description }) => ({ command, description }))),
        log,
        "setMyCommands",
      );
      await new Promise<void>((resolve, reject) => {
        polling = bot
          .start({
            drop_pending_updates: false,
            onStart: () => {
              running = true;
              resolve();
            },
          })
          .catch((error: unknown) => {
            running = false;
            log.error({ err: error instanceof Error ? error.message : String(error) }, "bot polling stopped");
            reject(error);
          });
      });
    },
    async stop() {
      unsubscribe();
      if (running) await bot.stop();
      running = false;
      await polling?.catch(() => {});
    },
  };
}

function memoryStore(): ConversationStateStore {
  const m = new Map<string, unknown>();
  return { read: (k) => m.get(k), write: (k, v) => void m.set(k, v), delete: (k) => void m.delete(k) };
}
