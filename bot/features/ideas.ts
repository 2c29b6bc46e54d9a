import type { Api, Bot, Context } from "grammy";
import type { AnswerOutcome, QuestionView } from "../../src/engine/conversation/types.ts";
import type { Actor, ThreadService } from "../../src/engine/threads/service.ts";
import { errorText } from "../telegram/error-text.ts";
import { parseAnswerData, parseRatingData, questionKeyboard, questionText } from "../telegram/keyboards.ts";
import { optional } from "../telegram/safe.ts";
import { cancelButton, type StatusLines } from "../telegram/status-line.ts";
import type { HermesContext } from "./config.ts";

export interface IdeaFlowDeps {
  threads: ThreadService;
  statusLines: StatusLines;
  log: { warn(obj: object, msg: string): void; debug(obj: object, msg: string): void };
  /** Guests in limited mode: local backends only, a daily quota. Undefined = owner. */
  guestLimits?: (ctx: Context) => { guest: true } | undefined;
}

/**
 * The always-keep-moving conversation in Telegram: an idea gets its acknowledgement and, in the
 * same breath, the first question; answers come by button or by typing; replying to any message
 * of a thread continues that thread; drafts get rating buttons (../telegram/delivery.ts).
 */
export function installIdeaFlow(
  bot: Bot<HermesContext>,
  d: IdeaFlowDeps,
): { submit(ctx: Context, text: string, options?: { validate?: boolean }): Promise<void> } {
  const { threads, log } = d;
  const userOf = (ctx: Context) => String(ctx.from?.id);
  const actorOf = (ctx: Context): Actor => ({
    userId: userOf(ctx),
    role: d.guestLimits?.(ctx) ? "guest" : "owner",
  });
  const chatOf = (ctx: Context) => String(ctx.chat?.id);

  async function ask(api: Api, chatId: string, q: QuestionView): Promise<void> {
    const sent = await api.sendMessage(chatId, questionText(q), { reply_markup: questionKeyboard(q) });
    threads.rememberMessage(chatId, sent.message_id, q.threadId, "question");
  }

  /** After an answer: the next question, or the news that the refined draft is on its way. */
  async function followUp(ctx: Context, outcome: AnswerOutcome): Promise<void> {
    const chatId = chatOf(ctx);
    if (outcome.next) return ask(ctx.api, chatId, outcome.next);
    if (outcome.refinedJobId !== undefined) {
      const base = `🛠 Thanks — refining the draft with your answers (clarity ${Math.round(outcome.clarity * 100)}%).`;
      const sent = await ctx.reply(base, { reply_markup: cancelButton(outcome.refinedJobId) });
      d.statusLines.register(outcome.refinedJobId, chatId, sent.message_id, base);
    }
  }

  async function submit(ctx: Context, text: string, options: { validate?: boolean } = {}): Promise<void> {
    try {
      const result = await threads.submit(actorOf(ctx), {
        chatId: chatOf(ctx),
        text,
        source: "telegram",
        validate: options.validate,
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
        );
        if (b.name.includes("ollama"))
          lines.push("To fix: start Ollama (`ollama serve`) or point OLLAMA_HOST at it.");
      } else lines.push(`Drafting now on ${b.name} · ${b.model}. I'll send it here when it's ready.`);
      const base = lines.join("\n");
      const ack = await ctx.reply(base, { reply_markup: cancelButton(result.job.id) });
      threads.rememberMessage(chatOf(ctx), ack.message_id, result.thread.id, "ack");
      d.statusLines.register(result.job.id, chatOf(ctx), ack.message_id, base);
      if (result.question) await ask(ctx.api, chatOf(ctx), result.question);
    } catch (error) {
      log.warn({ err: error instanceof Error ? error.message : String(error) }, "idea not accepted");
      await ctx.reply(errorText(error));
    }
  }

  bot.callbackQuery(/^q:/, async (ctx) => {
    const parsed = parseAnswerData(ctx.callbackQuery.data);
    if (!parsed) return void (await optional(() => ctx.answerCallbackQuery(), log, "answerCallbackQuery"));
    try {
      // The question as Hermes asked it (not as the callback echoes it): for the answered-question line.
      const asked = await threads.pendingQuestionOf(actorOf(ctx), parsed.threadId);
      const outcome = await threads.answer(actorOf(ctx), parsed.threadId, parsed.questionId, parsed.input);
      await optional(() => ctx.answerCallbackQuery({ text: "Noted." }), log, "answerCallbackQuery");
      if (asked?.id === parsed.questionId) {
        const chosen =
          parsed.input.kind === "suggestion"
            ? (asked.suggestions[parsed.input.index] ?? "")
            : parsed.input.kind === "skip"
              ? "(skipped)"
              : "(enough — go ahead)";
        await optional(
          () => ctx.editMessageText(`❓ ${asked.position}. ${asked.text}\n→ ${chosen}`),
          log,
          "editMessageText (answered question)",
        );
      }
      await followUp(ctx, outcome);
    } catch (error) {
      await optional(
        () => ctx.answerCallbackQuery({ text: errorText(error).slice(0, 190) }),
        log,
        "answerCallbackQuery",
      );
    }
  });

  bot.callbackQuery(/^r:/, async (ctx) => {
    const parsed = parseRatingData(ctx.callbackQuery.data);
    if (!parsed) return void (await optional(() => ctx.answerCallbackQuery(), log, "answerCallbackQuery"));
    try {
      const outcome = await threads.feedback(actorOf(ctx), parsed.jobId, parsed.input);
      const thanks = "rating" in parsed.input ? `Thanks for the ${parsed.input.rating}/5.` : "On it.";
      await optional(
        () =>
          ctx.answerCallbackQuery({
            text: [thanks, outcome.learned].filter(Boolean).join(" ").slice(0, 190),
          }),
        log,
        "answerCallbackQuery",
      );
      if (outcome.followUpJobId !== undefined) {
        const what =
          "adjust" in parsed.input && parsed.input.adjust === "shorter" ? "a shorter" : "a more detailed";
        const base = `✏️ Writing ${what} version…`;
        const sent = await ctx.reply(base, { reply_markup: cancelButton(outcome.followUpJobId) });
        d.statusLines.register(outcome.followUpJobId, chatOf(ctx), sent.message_id, base);
      }
    } catch (error) {
      await optional(
        () => ctx.answerCallbackQuery({ text: errorText(error).slice(0, 190) }),
        log,
        "answerCallbackQuery",
      );
    }
  });

  /** A plain text: continues a thread when it replies to one, answers a pending question, or is a new idea. */
  bot.on("message:text", async (ctx, next) => {
    const text = ctx.message.text;
    if (text.startsWith("/")) return next();
    const actor = actorOf(ctx);
    try {
      const replyTo = ctx.message.reply_to_message?.message_id;
      const link = replyTo === undefined ? undefined : threads.threadOfMessage(chatOf(ctx), replyTo);
      if (link) {
        const r = await threads.reply(actor, link.threadId, text);
        if ("answered" in r) return void (await followUp(ctx, r.answered));
        const base = "🛠 Adding that and refining the draft…";
        const sent = await ctx.reply(base, { reply_markup: cancelButton(r.refinedJobId) });
        d.statusLines.register(r.refinedJobId, chatOf(ctx), sent.message_id, base);
        return;
      }
      const pending = await threads.pendingQuestion(actor);
      if (pending) {
        const outcome = await threads.answer(actor, pending.threadId, pending.id, { kind: "text", text });
        return void (await followUp(ctx, outcome));
      }
    } catch (error) {
      return void (await ctx.reply(errorText(error)));
    }
    await submit(ctx, text);
  });

  return { submit };
}
