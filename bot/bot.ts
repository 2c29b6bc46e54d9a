import { autoRetry } from "@grammyjs/auto-retry";
import { apiThrottler } from "@grammyjs/transformer-throttler";
import { Bot, type Context, type MiddlewareFn, type Transformer } from "grammy";
import type { BotCommandScope } from "grammy/types";
import type { Env } from "../src/config/env.ts";
import type { SystemConfig } from "../src/config/system-config.ts";
import type { Engine } from "../src/engine/engine.ts";
import type { ThreadService } from "../src/engine/threads/service.ts";
import { commandsFor, GUEST_COMMANDS } from "./features/commands.ts";
import { type ConversationStateStore, configFeature, type HermesContext } from "./features/config.ts";
import type { FeatureDeps } from "./features/deps.ts";
import { createIdeaFlow, ideasFeature } from "./features/ideas.ts";
import { questionsFeature } from "./features/questions.ts";
import { ratingsFeature } from "./features/ratings.ts";
import { systemFeature } from "./features/system.ts";
import { threadsFeature } from "./features/threads.ts";
import { userDataFeature } from "./features/user-data.ts";
import { ChatOrder } from "./telegram/chat-order.ts";
import { createDelivery, type DeliveryLog } from "./telegram/delivery.ts";
import { DraftStreams } from "./telegram/draft-stream.ts";
import { telegramFetch } from "./telegram/fetch.ts";
import { backticksToEntities } from "./telegram/markdown.ts";
import { optional } from "./telegram/safe.ts";
import { StatusLines } from "./telegram/status-line.ts";
import { TypingIndicator } from "./telegram/typing.ts";

export interface BotOptions {
  token: string;
  apiRoot?: string | undefined;
  ownerIds: readonly string[];
  engine: Engine;
  threads: ThreadService;
  config: SystemConfig;
  /** The environment, for /config to show where it overrides a setting. */
  env: Env;
  log: DeliveryLog & { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
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

export function createBot(options: BotOptions): HermesBot {
  const { engine, threads, config, env, log } = options;
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
  const statusLines = new StatusLines(bot.api, log);
  const flow = createIdeaFlow({
    threads,
    statusLines,
    log,
    guestLimits: (ctx) => (isOwner(ctx) ? undefined : { guest: true as const }),
  });
  const deps: FeatureDeps = { engine, threads, config, env, statusLines, isOwner, ...flow, log };
  // One turn per chat: a draft waits while an update is answered (ack + first question, answer +
  // what comes next), so it never lands before the question or between a status and its subject.
  const order = new ChatOrder();
  bot.use((ctx, next) => (ctx.chat ? order.turn(String(ctx.chat.id), next) : next()));
  bot.api.config.use(formatBackticks);
  useFeatures(bot, deps, options.conversationStore ?? memoryStore());
  bot.catch((err) => {
    log.error(
      {
        err: err.error instanceof Error ? err.error.message : String(err.error),
        update: err.ctx.update.update_id,
      },
      "bot handler failed",
    );
  });

  return controls(bot, owners, log, forwardEngineEvents(bot, options, statusLines, order));
}

/** Engine events into the chat: typing, streamed drafts, status lines and delivery. Returns the stop. */
function forwardEngineEvents(
  bot: Bot<HermesContext>,
  { engine, threads, log }: BotOptions,
  statusLines: StatusLines,
  order: ChatOrder,
): () => void {
  const deliver = createDelivery(
    bot.api,
    log,
    (chatId, messageId, threadId, kind) => threads.rememberMessage(chatId, messageId, threadId, kind),
    order,
  );
  const streams = new DraftStreams(bot.api, log);
  const typing = new TypingIndicator(bot.api);
  const unsubscribe = engine.onEvent(async (e) => {
    typing.onEvent(e);
    streams.onEvent(e);
    // A finished job's status line changes only once its draft is in the chat, so it never
    // announces a draft that is not there yet; token counts only where no draft is streamed.
    if (e.event.type !== "completed" && !streams.covers(e)) statusLines.onEvent(e);
    await deliver(e);
    if (e.event.type === "completed") statusLines.onEvent(e);
  });
  return () => {
    unsubscribe();
    typing.stopAll();
  };
}

/**
 * The middleware in the order it runs. Each command and each button belongs to exactly one
 * feature, and every plain-text handler passes on text starting with "/", so commands work wherever
 * their feature sits and an unknown one falls through to the reply at the end. What does depend
 * on order, and why:
 * - access first: a refused guest reaches no feature;
 * - config next: its conversations plugin must see every update, so the value typed during a
 *   /config edit goes to the conversation rather than becoming an idea;
 * - plain text goes to the first feature that claims it: threads (after a bare /new it is the new
 *   idea; a reply to a thread's message continues that thread), then questions (it answers the
 *   pending question), then ideas (anything else is a new idea);
 * - last, the replies for what no feature handled.
 */
function useFeatures(
  bot: Bot<HermesContext>,
  deps: FeatureDeps,
  conversationStore: ConversationStateStore,
): void {
  bot.use(accessGate(deps));
  bot.use(configFeature(deps, conversationStore));
  bot.use(systemFeature(deps), userDataFeature(deps), ratingsFeature(deps));
  // Plain text: in this order (see above).
  bot.use(threadsFeature(deps), questionsFeature(deps), ideasFeature(deps));
  bot.on("message:text", (ctx) => ctx.reply("I don't know that command. /help lists the ones I have."));
  bot.on("message", (ctx) => ctx.reply("For now I understand text only — describe your idea in words."));
}

/**
 * Access: owners have everything; guests are refused (nothing stored) or, in limited mode, get
 * ideas on local backends with a daily quota and never config or alerts.
 */
function accessGate({ isOwner, config, log }: FeatureDeps): MiddlewareFn<HermesContext> {
  const guestMode = () => config.string("hermes.guests.mode");
  return async (ctx, next) => {
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
  };
}

/** Starting and stopping the polling, and alerts to the owners. */
function controls(
  bot: Bot<HermesContext>,
  owners: ReadonlySet<string>,
  log: BotOptions["log"],
  unsubscribe: () => void,
): HermesBot {
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
      await publishCommandMenus(bot, owners, log);
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

/**
 * The command menus: everyone (the default scope) sees the commands a guest may use; each owner's
 * private chat (its id is the owner's user id) sees all of them. A refusal (older Bot API servers,
 * the test emulator) leaves the menus as they were and is logged once; the bot runs on.
 */
async function publishCommandMenus(
  bot: Bot<HermesContext>,
  owners: ReadonlySet<string>,
  log: BotOptions["log"],
): Promise<void> {
  const menu = (isOwner: boolean) =>
    commandsFor(isOwner).map(({ command, description }) => ({ command, description }));
  const scopes: [BotCommandScope, boolean][] = [
    [{ type: "default" }, false],
    ...[...owners].map((id): [BotCommandScope, boolean] => [{ type: "chat", chat_id: Number(id) }, true]),
  ];
  const refused: string[] = [];
  for (const [scope, isOwner] of scopes) {
    try {
      await bot.api.setMyCommands(menu(isOwner), { scope });
    } catch (error) {
      refused.push(error instanceof Error ? error.message : String(error));
    }
  }
  if (refused.length > 0) {
    log.warn(
      { err: refused[0], refused: refused.length, of: scopes.length },
      "command menus not set (setMyCommands refused); the commands work anyway",
    );
  }
}

function memoryStore(): ConversationStateStore {
  const m = new Map<string, unknown>();
  return { read: (k) => m.get(k), write: (k, v) => void m.set(k, v), delete: (k) => void m.delete(k) };
}

/**
 * Hermes' own texts quote commands in backticks ("start Ollama (`ollama serve`)"): sent as code
 * entities rather than literal backticks. Only plain texts (no entities or parse mode of their own).
 */
const formatBackticks: Transformer = (prev, method, payload, signal) => {
  if (method === "sendMessage" || method === "editMessageText") {
    const p = payload as { text?: string; entities?: unknown; parse_mode?: unknown };
    const f = p.text && !p.entities && !p.parse_mode ? backticksToEntities(p.text) : undefined;
    if (f) return prev(method, { ...payload, text: f.text, entities: f.entities }, signal);
  }
  return prev(method, payload, signal);
};
