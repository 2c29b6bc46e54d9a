import { Composer } from "grammy";
import { errorText } from "../telegram/error-text.ts";
import {
  NO_BUTTONS,
  parseAnswerData,
  parseAnswerInsteadData,
  parseAssumptionData,
  parseNewIdeaData,
  settledQuestionText,
} from "../telegram/keyboards.ts";
import { optional } from "../telegram/safe.ts";
import type { HermesContext } from "./config.ts";
import { actorOf, type FeatureDeps } from "./deps.ts";
import { STALE_TEXT } from "./ideas.ts";

/**
 * Questions: Hermes's questions about an idea are answered by tapping a button (the question then
 * shows the chosen answer and loses its buttons) or by typing (./ideas.ts routes typed text). A tap
 * on a question that is closed — answered, cancelled, over — says so and removes its buttons.
 * "That was my answer" under a text taken as a new idea undoes that: the idea is cancelled and its
 * text answers the question; "It's a new idea" under a typed answer undoes the answer instead.
 */
export function questionsFeature(d: FeatureDeps): Composer<HermesContext> {
  const composer = new Composer<HermesContext>();
  const toast = (ctx: HermesContext, text: string) =>
    optional(() => ctx.answerCallbackQuery({ text: text.slice(0, 190) }), d.log, "answerCallbackQuery");
  onAnswerTap(composer, d, toast);
  onAnswerInsteadTap(composer, d, toast);
  onNewIdeaTap(composer, d, toast);
  onChangeAssumptionTap(composer, d, toast);
  return composer;
}

/**
 * "Change" under an assumption: it no longer counts for this idea (and counts against the habit it
 * came from); the message says what happened and loses its button.
 */
function onChangeAssumptionTap(composer: Composer<HermesContext>, d: FeatureDeps, toast: Toast): void {
  const { threads, log, followUp } = d;
  composer.callbackQuery(/^as:/, async (ctx) => {
    const parsed = parseAssumptionData(ctx.callbackQuery.data);
    if (!parsed) return void (await optional(() => ctx.answerCallbackQuery(), log, "answerCallbackQuery"));
    try {
      const actor = actorOf(ctx, d.isOwner);
      const before = await threads.pendingQuestionOf(actor, parsed.threadId);
      const out = await threads.correctAssumption(actor, parsed.threadId, parsed.slot);
      await toast(ctx, "Noted — I won't assume that.");
      const note = out.questionsOver
        ? "→ Changed: I won't assume it again until your answers confirm it. The refined draft was already on its way with it — reply to the draft with the right answer."
        : "→ Changed: not assumed for this idea, and not again until your answers confirm it. Reply to this idea's messages with the right answer if it matters.";
      const text = ctx.callbackQuery.message?.text ?? "";
      await optional(
        () => ctx.editMessageText(`${text}\n${note}`, { reply_markup: NO_BUTTONS }),
        log,
        "editMessageText (assumption changed)",
      );
      // A new question only when none was open (the open one stays where it is).
      if (out.next && out.next.id !== before?.id)
        await followUp(ctx, {
          clarity: out.clarity,
          next: out.next,
          refinedJobId: undefined,
          stopReason: undefined,
        });
      else if (!out.next && out.refinedJobId !== undefined)
        await followUp(ctx, {
          clarity: out.clarity,
          next: undefined,
          refinedJobId: out.refinedJobId,
          stopReason: undefined,
        });
    } catch (error) {
      await toast(ctx, errorText(error));
    }
  });
}

type Toast = (ctx: HermesContext, text: string) => Promise<unknown>;

/** A tap on one of a question's answer buttons. */
function onAnswerTap(composer: Composer<HermesContext>, d: FeatureDeps, toast: Toast): void {
  const { threads, log, followUp } = d;
  composer.callbackQuery(/^q:/, async (ctx) => {
    const parsed = parseAnswerData(ctx.callbackQuery.data);
    if (!parsed) return void (await optional(() => ctx.answerCallbackQuery(), log, "answerCallbackQuery"));
    try {
      const actor = actorOf(ctx, d.isOwner);
      // The question as Hermes asked it (not as the callback echoes it): for the answered-question line.
      const asked = await threads.pendingQuestionOf(actor, parsed.threadId);
      const outcome = await threads.answer(actor, parsed.threadId, parsed.questionId, parsed.input);
      if (outcome.stale || asked?.id !== parsed.questionId) {
        await toast(ctx, STALE_TEXT);
        await optional(
          () => ctx.editMessageReplyMarkup({ reply_markup: NO_BUTTONS }),
          log,
          "editMessageReplyMarkup (closed question)",
        );
        return;
      }
      await toast(ctx, "Noted.");
      const chosen =
        parsed.input.kind === "suggestion"
          ? (asked.suggestions[parsed.input.index] ?? "")
          : parsed.input.kind === "skip"
            ? "(skipped)"
            : "(enough — go ahead)";
      // A question not sent by this process (a restart since) is settled on the message tapped.
      if (!(await d.settleQuestion(ctx, asked, chosen)))
        await optional(
          () => ctx.editMessageText(settledQuestionText(asked, chosen), { reply_markup: NO_BUTTONS }),
          log,
          "editMessageText (answered question)",
        );
      await followUp(ctx, outcome);
    } catch (error) {
      await toast(ctx, errorText(error));
    }
  });
}

/** "That was my answer" under a text taken as a new idea. */
function onAnswerInsteadTap(composer: Composer<HermesContext>, d: FeatureDeps, toast: Toast): void {
  const { threads, log, followUp } = d;
  composer.callbackQuery(/^ans:/, async (ctx) => {
    const parsed = parseAnswerInsteadData(ctx.callbackQuery.data);
    if (!parsed) return void (await optional(() => ctx.answerCallbackQuery(), log, "answerCallbackQuery"));
    try {
      const r = await threads.answerInstead(
        actorOf(ctx, d.isOwner),
        parsed.ideaThreadId,
        parsed.threadId,
        parsed.questionId,
      );
      await toast(ctx, "Taken as your answer; the new idea is cancelled.");
      await optional(
        () =>
          ctx.editMessageText(
            `↩ Not a new idea — taken as your answer instead, to question ${r.question.position} of ${r.question.idea.shortId}; the new idea is cancelled.`,
            {
              reply_markup: NO_BUTTONS,
            },
          ),
        log,
        "editMessageText (undone idea)",
      );
      await d.settleQuestions(ctx, parsed.ideaThreadId, "(cancelled)");
      await d.settleQuestion(ctx, r.question, `✍ ${r.answer}`);
      await followUp(ctx, r.outcome);
    } catch (error) {
      await toast(ctx, errorText(error));
    }
  });
}

/** "It's a new idea" under a question answered by typing: the answer is undone, the text starts an idea. */
function onNewIdeaTap(composer: Composer<HermesContext>, d: FeatureDeps, toast: Toast): void {
  composer.callbackQuery(/^ni:/, async (ctx) => {
    const parsed = parseNewIdeaData(ctx.callbackQuery.data);
    if (!parsed) return void (await optional(() => ctx.answerCallbackQuery(), d.log, "answerCallbackQuery"));
    try {
      await d.newIdeaInstead(ctx, parsed.threadId, parsed.questionId);
      await toast(ctx, "Undone — started as a new idea.");
    } catch (error) {
      await toast(ctx, errorText(error));
      // The answer stays (a later answer, a restart): the button cannot do anything any more.
      await optional(
        () => ctx.editMessageReplyMarkup({ reply_markup: NO_BUTTONS }),
        d.log,
        "editMessageReplyMarkup (undo no longer possible)",
      );
    }
  });
}
