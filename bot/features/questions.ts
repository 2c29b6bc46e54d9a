import { Composer } from "grammy";
import { errorText } from "../telegram/error-text.ts";
import { parseAnswerData } from "../telegram/keyboards.ts";
import { optional } from "../telegram/safe.ts";
import type { HermesContext } from "./config.ts";
import { actorOf, type FeatureDeps } from "./deps.ts";

/**
 * Questions: Hermes's questions about an idea are answered by tapping a button (the pressed
 * question then shows the chosen answer) or by typing while a question is pending. Either way the
 * idea flow follows up with the next question or the refined draft.
 */
export function questionsFeature(d: FeatureDeps): Composer<HermesContext> {
  const { threads, log, followUp } = d;
  const composer = new Composer<HermesContext>();

  composer.callbackQuery(/^q:/, async (ctx) => {
    const parsed = parseAnswerData(ctx.callbackQuery.data);
    if (!parsed) return void (await optional(() => ctx.answerCallbackQuery(), log, "answerCallbackQuery"));
    try {
      // The question as Hermes asked it (not as the callback echoes it): for the answered-question line.
      const asked = await threads.pendingQuestionOf(actorOf(ctx, d.isOwner), parsed.threadId);
      const outcome = await threads.answer(
        actorOf(ctx, d.isOwner),
        parsed.threadId,
        parsed.questionId,
        parsed.input,
      );
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

  /** A plain text while a question is pending answers it (bot/bot.ts: after thread replies, before new ideas). */
  composer.on("message:text", async (ctx, next) => {
    const text = ctx.message.text;
    if (text.startsWith("/")) return next();
    const actor = actorOf(ctx, d.isOwner);
    try {
      const pending = await threads.pendingQuestion(actor);
      if (pending) {
        const outcome = await threads.answer(actor, pending.threadId, pending.id, { kind: "text", text });
        return void (await followUp(ctx, outcome));
      }
    } catch (error) {
      return void (await ctx.reply(errorText(error)));
    }
    await next();
  });

  return composer;
}
