import { autoRetry } from "@grammyjs/auto-retry";
import { Bot, type Context } from "grammy";
import type { Engine } from "../src/engine/engine.ts";
import type { ThreadActions } from "../src/engine/thread-actions.ts";
import { COMMANDS, helpText } from "./commands.ts";
import { createDelivery, type DeliveryLog } from "./delivery.ts";
import { errorText } from "./error-text.ts";
import { cancelButton, StatusLines } from "./status-line.ts";
import { optional } from "./telegram-safe.ts";

export interface BotOptions {
  token: string;
  apiRoot?: string | undefined;
  ownerIds: readonly string[];
  engine: Engine;
  actions: ThreadActions;
  log: DeliveryLog & { info(obj: object, msg: string): void };
}

export interface HermesBot {
  bot: Bot;
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
  const { engine, actions, log } = options;
  const owners = new Set(options.ownerIds);
  const bot = new Bot(options.token, options.apiRoot ? { client: { apiRoot: options.apiRoot } } : {});
  // Telegram 429 (with retry_after) and 5xx are retried by grammY's own plugin; bounded so a
  // message never waits for minutes.
  bot.api.config.use(autoRetry({ maxRetryAttempts: 3, maxDelaySeconds: 30 }));

  // Access: owners have everything; everyone else gets a polite refusal and nothing is stored.
  bot.use(async (ctx, next) => {
    const id = ctx.from?.id;
    if (id !== undefined && owners.has(String(id))) return next();
    if (ctx.callbackQuery) {
      await optional(
        () => ctx.answerCallbackQuery({ text: "Private assistant." }),
        log,
        "answerCallbackQuery",
      );
      return;
    }
    if (ctx.chat?.type === "private" && ctx.message) await ctx.reply(REFUSAL);
  });

  bot.command(["start", "help"], (ctx) => ctx.reply(helpText()));

  bot.command("health", async (ctx) => {
    const lines = engine.backendStatus().map((b) => {
      const icon =
        b.health === "healthy" ? "🟢" : b.health === "degraded" ? "🟡" : b.health === "unknown" ? "⚪" : "🔴";
      const err = b.health === "healthy" || !b.lastError ? "" : ` — ${b.lastError}`;
      return `${icon} ${b.name} (${b.kind}, ${b.location}) · ${b.defaultModel} · ${b.running}/${b.concurrency} running${err}`;
    });
    const q = engine.queueCounts();
    lines.push(
      "",
      `Queue: ${q.queued ?? 0} queued, ${q.running ?? 0} running, ${q.retrying ?? 0} retrying, ${q.pending ?? 0} waiting on others`,
    );
    await ctx.reply(lines.join("\n") || "No backends are configured.");
  });

  bot.command("threads", async (ctx) => {
    const threads = await engine.recentThreads(String(ctx.from?.id), 10);
    if (threads.length === 0) return void (await ctx.reply("No ideas yet. Send me one!"));
    await ctx.reply(
      threads
        .map((t) => `${t.uuid.slice(0, 8)} · ${t.status} · ${t.draft_count} draft(s) · ${t.title}`)
        .join("\n"),
    );
  });

  bot.command("status", async (ctx) => {
    const active = await actions.activeThreads(String(ctx.from?.id));
    const q = engine.queueCounts();
    const head = `Queue: ${q.queued ?? 0} queued, ${q.running ?? 0} running, ${q.retrying ?? 0} waiting to retry.`;
    if (active.length === 0) return void (await ctx.reply(`${head}\nNothing of yours is in progress.`));
    await ctx.reply(head);
    for (const { thread, jobs } of active.slice(0, 10)) {
      for (const job of jobs) {
        await ctx.reply(
          `${thread.uuid.slice(0, 8)} · draft ${job.job_sequence} · ${job.status} · ${thread.title}`,
          {
            reply_markup: cancelButton(job.id),
          },
        );
      }
    }
  });

  bot.callbackQuery(/^cancel:(\d+)$/, async (ctx) => {
    const jobId = Number(ctx.match[1]);
    try {
      const ids = await actions.cancelJob(String(ctx.from.id), jobId);
      await optional(
        () => ctx.answerCallbackQuery({ text: ids.length > 0 ? "Cancelled." : "It had already finished." }),
        log,
        "answerCallbackQuery",
      );
    } catch (error) {
      await optional(
        () => ctx.answerCallbackQuery({ text: errorText(error).slice(0, 190) }),
        log,
        "answerCallbackQuery",
      );
    }
  });

  bot.command("cancel", async (ctx) => {
    const ref = ctx.match.trim() || undefined;
    const result = await actions.cancel(String(ctx.from?.id), ref);
    await ctx.reply(
      result
        ? `Cancelled ${result.cancelled.length} job(s) of thread ${result.thread.uuid.slice(0, 8)} (${result.thread.title}).`
        : "Nothing is running that I could cancel.",
    );
  });

  bot.on("message:text", async (ctx) => {
    const text = ctx.message.text;
    if (text.startsWith("/")) {
      await ctx.reply("I don't know that command. /help lists the ones I have.");
      return;
    }
    await submit(ctx, text);
  });

  bot.on("message", (ctx) => ctx.reply("For now I understand text only — describe your idea in words."));

  async function submit(ctx: Context, text: string): Promise<void> {
    try {
      const result = await engine.submitIdea({
        userId: String(ctx.from?.id),
        chatId: String(ctx.chat?.id),
        text,
        source: "telegram",
      });
      const b = result.backend;
      const lines = [`💡 Got it — thread ${result.shortId}: “${result.thread.title}”.`];
      if (!b)
        lines.push(
          "No backend is configured, so it waits in the queue. Set OLLAMA_HOST or TALOS_URL and restart.",
        );
      else if (b.health === "unhealthy") {
        lines.push(
          `${b.name} at ${b.location} is not reachable right now. Your idea is queued and will run as soon as it is back — no need to resend.`,
          b.name.includes("ollama")
            ? "To fix: start Ollama (`ollama serve`) or point OLLAMA_HOST at it."
            : "",
        );
      } else lines.push(`Drafting now on ${b.name} · ${b.model}. I'll send it here when it's ready.`);
      const base = lines.filter(Boolean).join("\n");
      const ack = await ctx.reply(base, { reply_markup: cancelButton(result.job.id) });
      statusLines.register(result.job.id, String(ack.chat.id), ack.message_id, base);
    } catch (error) {
      log.warn({ err: error instanceof Error ? error.message : String(error) }, "idea not accepted");
      await ctx.reply(errorText(error));
    }
  }

  bot.catch((err) => {
    log.error(
      {
        err: err.error instanceof Error ? err.error.message : String(err.error),
        update: err.ctx.update.update_id,
      },
      "bot handler failed",
    );
  });

  const statusLines = new StatusLines(bot.api, log);
  const deliver = createDelivery(bot.api, log);
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
      await optional(() => bot.api.setMyCommands(COMMANDS), log, "setMyCommands");
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
