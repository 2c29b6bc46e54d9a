import { Composer } from "grammy";
import { errorText } from "../telegram/error-text.ts";
import { parseRatingData } from "../telegram/keyboards.ts";
import { optional } from "../telegram/safe.ts";
import { cancelButton } from "../telegram/status-line.ts";
import type { HermesContext } from "./config.ts";
import { actorOf, chatOf, type FeatureDeps } from "./deps.ts";

/**
 * Ratings: the buttons under a draft (../telegram/delivery.ts) rate it 1–5, which Hermes learns
 * from, or ask for a shorter or more detailed version, which gets its own status line.
 */
export function ratingsFeature(d: FeatureDeps): Composer<HermesContext> {
  const { threads, log } = d;
  const composer = new Composer<HermesContext>();

  composer.callbackQuery(/^r:/, async (ctx) => {
    const parsed = parseRatingData(ctx.callbackQuery.data);
    if (!parsed) return void (await optional(() => ctx.answerCallbackQuery(), log, "answerCallbackQuery"));
    try {
      const outcome = await threads.feedback(actorOf(ctx, d.isOwner), parsed.jobId, parsed.input);
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

  return composer;
}
