import { Composer, InlineKeyboard } from "grammy";
import { NO_BUTTONS } from "../telegram/keyboards.ts";
import { optional } from "../telegram/safe.ts";
import type { HermesContext } from "./config.ts";
import { actorOf, type FeatureDeps, sendFileOrText } from "./deps.ts";

/** User data, a user's own: /export sends all of it as a file; /forget deletes it after a confirmation. */
export function userDataFeature(d: FeatureDeps): Composer<HermesContext> {
  const { threads, log } = d;
  const composer = new Composer<HermesContext>();

  composer.command("export", async (ctx) => {
    const data = threads.exportUserData(actorOf(ctx, d.isOwner));
    const json = JSON.stringify(data, null, 2);
    await sendFileOrText(
      ctx,
      `hermes-export-${new Date().toISOString().slice(0, 10)}.json`,
      json,
      `Your data: ${data.threads.length} thread(s), ${data.jobs.length} job(s), ${data.conversations.length} answer(s).`,
      log,
    );
  });

  composer.command("forget", async (ctx) => {
    await ctx.reply(
      "This deletes every idea, draft, answer and preference Hermes has stored for you. It cannot be undone. Are you sure?",
      {
        reply_markup: new InlineKeyboard()
          .text("Yes, delete everything", "forget:yes")
          .text("No, keep it", "forget:no"),
      },
    );
  });
  composer.callbackQuery(/^forget:(yes|no)$/, async (ctx) => {
    await optional(() => ctx.answerCallbackQuery(), log, "answerCallbackQuery");
    if (ctx.match[1] !== "yes") {
      await optional(
        () => ctx.editMessageText("Kept everything.", { reply_markup: NO_BUTTONS }),
        log,
        "editMessageText",
      );
      return;
    }
    const counts = await threads.forget(actorOf(ctx, d.isOwner), String(ctx.chat?.id));
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    await optional(
      // The question is answered: its buttons go (a second "Yes" would delete nothing and say "Deleted 0").
      () =>
        ctx.editMessageText(`Deleted ${total} record(s). Hermes no longer has any of your data.`, {
          reply_markup: NO_BUTTONS,
        }),
      log,
      "edit",
    );
  });

  return composer;
}
