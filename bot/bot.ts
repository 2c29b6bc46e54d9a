import { autoRetry } from "@grammyjs/auto-retry";
import { Bot, type Composer, type Context, type MiddlewareFn, type Transformer } from "grammy";
import type { BotCommandScope } from "grammy/types";
import type { Env } from "../src/config/env.ts";
import type { SystemConfig } from "../src/config/system-config.ts";
import type { Engine } from "../src/engine/engine.ts";
import type { ThreadService } from "../src/engine/threads/service.ts";
import type { Transcriber } from "../src/transcription/client.ts";
import { commandsFor, GUEST_COMMANDS } from "./features/commands.ts";
import { type ConversationStateStore, configFeature, type HermesContext } from "./features/config.ts";
import type { FeatureDeps } from "./features/deps.ts";
import { createIdeaFlow, ideasFeature } from "./features/ideas.ts";
import { mediaFeature } from "./features/media.ts";
import { questionsFeature } from "./features/questions.ts";
import { ratingsFeature } from "./features/ratings.ts";
import { systemFeature } from "./features/system.ts";
import { threadsFeature } from "./features/threads.ts";
import { userDataFeature } from "./features/user-data.ts";
import { ChatOrder } from "./telegram/chat-order.ts";
import { createDelivery, type DeliveryLog } from "./telegram/delivery.ts";
import { DraftStreams } from "./telegram/draft-stream.ts";
import { telegramFetch } from "./telegram/fetch.ts";
import { telegramFiles } from "./telegram/files.ts";
import { backticksToEntities } from "./telegram/markdown.ts";
import { OwedDeliveries } from "./telegram/owed.ts";
import { reachabilityReporter } from "./telegram/reachability.ts";
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
  /** Voice notes to text; absent or unconfigured: the bot says how to turn them on. */
  transcriber?: Transcriber | undefined;
  /** Persists in-progress conversations (the conversations plugin); in-memory when absent. */
  conversationStore?: ConversationStateStore;
  /** The update_ids already handled (durable), so an update Telegram delivers again is skipped. */
  updates?: HandledUpdates;
}

/** Which updates a bot has handled; kept in the database so it holds across restarts. */
export interface HandledUpdates {
  handled(botId: string, updateId: number): boolean;
  record(botId: string, updateId: number): void;
}

export interface HermesBot {
  bot: Bot<HermesContext>;
  /** Resolves once the bot is polling (getMe succeeded); then sends what earlier runs still owe. */
  start(): Promise<void>;
  /** Stops taking updates and waits for the ones being handled; drafts are still delivered. */
  stopIntake(): Promise<void>;
  /**
   * stopIntake, then waits up to `deliveryGraceMs` for deliveries under way and stops delivering;
   * calls still under way are aborted (what was not sent stays owed for the next start).
   */
  stop(deliveryGraceMs?: number): Promise<void>;
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
  // Telegram 429 (after its retry_after) and 5xx are retried by grammY's plugin, bounded so a
  // message never waits for minutes. A personal bot stays far below Telegram's limits, and edits are
  // already paced to one a second per chat (status lines, draft streaming), so no throttler: grammY's
  // docs call transformer-throttler legacy next to auto-retry, and its bottleneck dependency only
  // added start-up noise.
  bot.api.config.use(reachabilityReporter(log));
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
  if (options.updates) bot.use(handledOnce(options.updates, () => String(bot.botInfo.id), log));
  bot.use((ctx, next) => (ctx.chat ? order.turn(String(ctx.chat.id), next) : next()));
  bot.api.config.use(formatBackticks);
  const media = mediaFeature({
    ...deps,
    log,
    files: telegramFiles(bot.api, options.token, options.apiRoot),
    transcriber: options.transcriber,
  });
  // Outermost (installed last): after stop(), no call made by this bot is retried or sent any more.
  const stopped = new AbortController();
  bot.api.config.use(abortWhen(stopped.signal));
  useFeatures(bot, deps, media, options.conversationStore ?? memoryStore());
  bot.catch((err) => {
    log.error(
      {
        err: err.error instanceof Error ? err.error.message : String(err.error),
        update: err.ctx.update.update_id,
      },
      "bot handler failed",
    );
  });

  return controls(bot, owners, log, {
    ...forwardEngineEvents(bot, options, statusLines, order),
    abortCalls: () => stopped.abort(),
  });
}

/**
 * Each update once, across restarts: Telegram delivers an update again until a later getUpdates
 * confirms it, so one handled just before a crash (or after stop() confirmed an earlier offset)
 * comes back. It is recorded once handled (or failed: a failing update is not retried forever);
 * one fetched but never handled is not recorded, so it is handled when it comes again.
 */
function handledOnce(
  updates: HandledUpdates,
  botId: () => string,
  log: BotOptions["log"],
): MiddlewareFn<HermesContext> {
  return async (ctx, next) => {
    const id = ctx.update.update_id;
    if (updates.handled(botId(), id)) {
      log.info({ update: id }, "update already handled; Telegram delivered it again");
      return;
    }
    try {
      await next();
    } finally {
      updates.record(botId(), id);
    }
  };
}

interface Forwarding {
  owed: OwedDeliveries;
  /** Stops listening to the engine (typing indicators too). */
  unsubscribe: () => void;
}

/** Every API call also ends when `signal` aborts (a call already under way, and autoRetry's waits). */
function abortWhen(signal: AbortSignal): Transformer {
  return async (prev, method, payload, own) => {
    // grammY may hand over its abort-controller polyfill's signal, which AbortSignal.any refuses.
    const theirs = own as unknown as Pick<
      AbortSignal,
      "aborted" | "addEventListener" | "removeEventListener"
    >;
    const both = new AbortController();
    const abort = () => both.abort();
    if (signal.aborted || theirs?.aborted) abort();
    signal.addEventListener("abort", abort, { once: true });
    theirs?.addEventListener("abort", abort, { once: true });
    try {
      return await prev(method, payload, both.signal as never);
    } finally {
      signal.removeEventListener("abort", abort);
      theirs?.removeEventListener("abort", abort);
    }
  };
}

/** Engine events into the chat: typing, streamed drafts, status lines and delivery. */
function forwardEngineEvents(
  bot: Bot<HermesContext>,
  { engine, threads, log }: BotOptions,
  statusLines: StatusLines,
  order: ChatOrder,
): Forwarding {
  const deliver = createDelivery(
    bot.api,
    log,
    (chatId, messageId, threadId, kind) => threads.rememberMessage(chatId, messageId, threadId, kind),
    order,
  );
  const owed = new OwedDeliveries(engine, deliver, log);
  const streams = new DraftStreams(bot.api, log);
  const typing = new TypingIndicator(bot.api);
  const unsubscribe = engine.onEvent(async (e) => {
    typing.onEvent(e);
    streams.onEvent(e);
    // A finished job's status line changes only once its draft is in the chat, so it never
    // announces a draft that is not there yet; token counts only where no draft is streamed.
    if (e.event.type !== "completed" && !streams.covers(e)) statusLines.onEvent(e);
    await owed.send(e);
    if (e.event.type === "completed") statusLines.onEvent(e);
  });
  return {
    owed,
    unsubscribe: () => {
      unsubscribe();
      typing.stopAll();
    },
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
 * - media (voice, photos, documents) before plain text: it turns them into a text and hands that
 *   on to the plain-text features, so a transcript or a caption goes exactly where typed text goes;
 * - plain text goes to the first feature that claims it: threads (after a bare /new it is the new
 *   idea; a reply to a thread's message continues that thread), then questions (it answers the
 *   pending question), then ideas (anything else is a new idea);
 * - last, the replies for what no feature handled.
 */
function useFeatures(
  bot: Bot<HermesContext>,
  deps: FeatureDeps,
  media: Composer<HermesContext>,
  conversationStore: ConversationStateStore,
): void {
  bot.use(accessGate(deps));
  bot.use(configFeature(deps, conversationStore));
  bot.use(systemFeature(deps), userDataFeature(deps), ratingsFeature(deps));
  bot.use(media);
  // Plain text: in this order (see above).
  bot.use(threadsFeature(deps), questionsFeature(deps), ideasFeature(deps));
  bot.on("message:text", (ctx) => ctx.reply("I don't know that command. /help lists the ones I have."));
  bot.on("message", (ctx) =>
    ctx.reply(
      "I understand text, voice notes, captions and .txt/.md documents — describe your idea in words.",
    ),
  );
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
  forwarding: Forwarding & { abortCalls: () => void },
): HermesBot {
  let running = false;
  let polling: Promise<void> | undefined;
  const stopIntake = async () => {
    if (running) await bot.stop().catch(() => {});
    running = false;
    await polling?.catch(() => {});
  };

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
              void forwarding.owed.sendOwed();
            },
          })
          .catch((error: unknown) => {
            running = false;
            log.error({ err: error instanceof Error ? error.message : String(error) }, "bot polling stopped");
            reject(error);
          });
      });
    },
    stopIntake,
    async stop(deliveryGraceMs = 5000) {
      await stopIntake();
      await forwarding.owed.idle(deliveryGraceMs);
      forwarding.unsubscribe();
      forwarding.abortCalls();
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
