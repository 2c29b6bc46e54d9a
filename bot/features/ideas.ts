import { type Api, Composer, type Context, type InlineKeyboard } from "grammy";
import type { AnswerOutcome, QuestionView, WithdrawOutcome } from "../../src/engine/conversation/types.ts";
import type { SubmitIdeaResult } from "../../src/engine/ports.ts";
import type { Actor, ThreadService, TypedOutcome } from "../../src/engine/threads/service.ts";
import { errorText } from "../telegram/error-text.ts";
import {
  answerInsteadKeyboard,
  assumptionKeyboard,
  assumptionText,
  NO_BUTTONS,
  newIdeaKeyboard,
  questionKeyboard,
  questionText,
  settledQuestionText,
} from "../telegram/keyboards.ts";
import { optional } from "../telegram/safe.ts";
import { cancelButton, type StatusLines } from "../telegram/status-line.ts";
import { attachmentOf } from "./attachments.ts";
import type { HermesContext } from "./config.ts";
import { chatOf, type FeatureDeps, userOf } from "./deps.ts";

export interface IdeaFlowDeps {
  threads: ThreadService;
  statusLines: StatusLines;
  log: { warn(obj: object, msg: string): void; debug(obj: object, msg: string): void };
  /** Guests in limited mode: local backends only, a daily quota. Undefined = owner. */
  guestLimits?: (ctx: Context) => { guest: true } | undefined;
}

/** Sending an idea, routing typed text and what follows an answer; the features share it through {@link FeatureDeps}. */
export type IdeaFlow = Pick<
  FeatureDeps,
  "submit" | "typed" | "newIdeaInstead" | "followUp" | "settleQuestion" | "settleQuestions"
>;

/**
 * The always-keep-moving conversation in Telegram: an idea gets its acknowledgement and, in the
 * same breath, the first question; each answer (./questions.ts) brings the next question or the
 * refined draft; drafts get rating buttons (../telegram/delivery.ts, ./ratings.ts). A question
 * message is settled once it is answered, closed or cancelled: it shows the outcome and loses
 * its buttons.
 */
export function createIdeaFlow(d: IdeaFlowDeps): IdeaFlow {
  const { threads, log } = d;
  const actorOf = (ctx: Context): Actor => ({
    userId: userOf(ctx),
    role: d.guestLimits?.(ctx) ? "guest" : "owner",
  });
  const asked = new AskedQuestions(threads, log);
  const settleQuestion = (ctx: Context, q: QuestionView, outcome: string) => asked.settle(ctx, q, outcome);
  const settleQuestions = (ctx: Context, threadId: number, outcome: string) =>
    asked.settleThread(ctx, threadId, outcome);
  const followUp = (ctx: Context, outcome: AnswerOutcome) => followUpAnswer(d, asked, ctx, outcome);

  async function submit(ctx: Context, text: string, options: { validate?: boolean } = {}): Promise<void> {
    try {
      const result = await threads.submit(actorOf(ctx), {
        chatId: chatOf(ctx),
        text,
        source: "telegram",
        validate: options.validate,
        images: attachmentOf(ctx)?.images,
      });
      noteSeen(ctx, result);
      await acknowledge(d, asked, ctx, result);
    } catch (error) {
      log.warn({ err: error instanceof Error ? error.message : String(error) }, "idea not accepted");
      await ctx.reply(errorText(error));
    }
  }

  /**
   * A plain text: the answer to the open question asked last (echoed on it, with a one-tap "It's a
   * new idea"; named when another idea has a question open too), or a new idea (said so, with an undo).
   */
  async function typed(ctx: Context, text: string): Promise<void> {
    try {
      const images = attachmentOf(ctx)?.images;
      const r = await threads.typed(actorOf(ctx), { chatId: chatOf(ctx), text, source: "telegram", images });
      if (r.kind === "idea") {
        noteSeen(ctx, r.idea);
        return await acknowledge(d, asked, ctx, r.idea, r.setAside);
      }
      if (r.outcome.stale) return void (await ctx.reply(STALE_TEXT));
      await echoAnswer(asked, ctx, r);
      await followUp(ctx, r.outcome);
    } catch (error) {
      log.warn({ err: error instanceof Error ? error.message : String(error) }, "text not accepted");
      await ctx.reply(errorText(error));
    }
  }

  const newIdeaInstead = (ctx: Context, threadId: number, questionId: number) =>
    undoTypedAnswer(d, asked, actorOf(ctx), ctx, threadId, questionId);
  return { submit, typed, newIdeaInstead, followUp, settleQuestion, settleQuestions };
}

/**
 * "It's a new idea" under a typed answer: the engine undoes the answer (and what was learned
 * from it); the question asks again with its buttons, a question asked after it is taken back,
 * and the text starts a new idea.
 */
async function undoTypedAnswer(
  d: IdeaFlowDeps,
  asked: AskedQuestions,
  actor: Actor,
  ctx: Context,
  threadId: number,
  questionId: number,
): Promise<void> {
  const r = await d.threads.newIdeaInstead(actor, threadId, questionId, {
    chatId: chatOf(ctx),
    source: "telegram",
  });
  await showUndoneAnswer(asked, ctx, r.withdrawn, d.log);
  await acknowledge(d, asked, ctx, r.idea);
}

const cut = (s: string, max: number) => (s.length > max ? `${s.slice(0, max - 1)}…` : s);

/**
 * A typed answer on its question (with the one-tap "It's a new idea"); when another idea has a
 * question open too, which idea it went to, and how to answer the other.
 */
async function echoAnswer(
  asked: AskedQuestions,
  ctx: Context,
  r: Extract<TypedOutcome, { kind: "answered" }>,
): Promise<void> {
  const q = r.question;
  await asked.settle(ctx, q, `✍ ${r.answer}`, newIdeaKeyboard(q));
  if (r.othersOpen.length === 0) return;
  const others = r.othersOpen.map((o) => `question ${o.position} of ${o.idea.shortId} (“${o.idea.title}”)`);
  await ctx.reply(
    `✍ Taken as your answer to question ${q.position} of ${q.idea.shortId} (“${q.idea.title}”), the question asked last. ` +
      `Still open: ${others.join(", ")} — reply to that question's message to answer it.`,
  );
}

/** After "It's a new idea": the question asks again (with its buttons) and the user is told what was undone. */
async function showUndoneAnswer(
  asked: AskedQuestions,
  ctx: Context,
  w: WithdrawOutcome,
  log: IdeaFlowDeps["log"],
): Promise<void> {
  const q = w.question;
  const message = ctx.callbackQuery?.message;
  if (message) {
    await optional(
      () => ctx.editMessageText(questionText(q), { reply_markup: questionKeyboard(q) }),
      log,
      "editMessageText (question asked again)",
    );
    asked.track(chatOf(ctx), message.message_id, q);
  }
  for (const id of w.removedQuestionIds)
    await asked.settleById(ctx, id, "(taken back — the answer before it was a new idea)");
  await ctx.reply(
    [
      `↩ Not an answer: “${cut(w.text, 80)}” is a new idea now; question ${q.position} of ${q.idea.shortId} is open again.`,
      ...(w.cancelledRefinedJob !== undefined ? ["The refined draft it had started was cancelled."] : []),
      ...(w.refinedDraftKept !== undefined
        ? ["The refined draft already written with it stays as it is."]
        : []),
    ].join(" "),
  );
}

/** Where a photo sent with this idea went, for ./media.ts to tell the user. */
function noteSeen(ctx: Context, result: SubmitIdeaResult): void {
  const attachment = attachmentOf(ctx);
  if (attachment && result.vision) attachment.seenBy = result.vision;
}

/** Question messages still showing buttons, by question id (lost on restart: a stale tap settles it). */
class AskedQuestions {
  private readonly asked = new Map<number, { chatId: string; messageId: number; q: QuestionView }>();
  private readonly threads: ThreadService;
  private readonly log: IdeaFlowDeps["log"];

  constructor(threads: ThreadService, log: IdeaFlowDeps["log"]) {
    this.threads = threads;
    this.log = log;
  }

  /**
   * Per thread, the settled question still offering "It's a new idea": only an idea's latest
   * answer can be undone, so the button goes when the next question of the idea is settled.
   */
  private readonly undoable = new Map<number, { chatId: string; messageId: number; text: string }>();

  async ask(api: Api, chatId: string, q: QuestionView): Promise<void> {
    const sent = await api.sendMessage(chatId, questionText(q), { reply_markup: questionKeyboard(q) });
    this.threads.rememberMessage(chatId, sent.message_id, q.threadId, "question");
    this.track(chatId, sent.message_id, q);
  }

  /** A question message showing buttons (sent, or asked again after an undo). */
  track(chatId: string, messageId: number, q: QuestionView): void {
    this.asked.set(q.id, { chatId, messageId, q });
    if (this.undoable.get(q.threadId)?.messageId === messageId) this.undoable.delete(q.threadId);
    if (this.asked.size > 1000) this.asked.delete(this.asked.keys().next().value as number);
  }

  async settle(ctx: Context, q: QuestionView, outcome: string, keyboard?: InlineKeyboard): Promise<boolean> {
    const where = this.asked.get(q.id);
    this.asked.delete(q.id);
    await this.dropUndo(ctx, q.threadId);
    if (!where) return false;
    const text = settledQuestionText(q, outcome);
    await optional(
      () =>
        ctx.api.editMessageText(where.chatId, where.messageId, text, {
          reply_markup: keyboard ?? NO_BUTTONS,
        }),
      this.log,
      "editMessageText (settled question)",
    );
    if (keyboard) this.undoable.set(q.threadId, { chatId: where.chatId, messageId: where.messageId, text });
    return true;
  }

  async settleById(ctx: Context, questionId: number, outcome: string): Promise<void> {
    const where = this.asked.get(questionId);
    if (where) await this.settle(ctx, where.q, outcome);
  }

  /** The previous answer of the idea can no longer be undone: its button goes. */
  private async dropUndo(ctx: Context, threadId: number): Promise<void> {
    const u = this.undoable.get(threadId);
    if (!u) return;
    this.undoable.delete(threadId);
    await optional(
      () => ctx.api.editMessageText(u.chatId, u.messageId, u.text, { reply_markup: NO_BUTTONS }),
      this.log,
      "editMessageText (undo no longer possible)",
    );
  }

  async settleThread(ctx: Context, threadId: number, outcome: string): Promise<void> {
    for (const { q } of [...this.asked.values()].filter((a) => a.q.threadId === threadId))
      await this.settle(ctx, q, outcome);
  }
}

/** After an answer: the next question, or the news that the refined draft is on its way. */
async function followUpAnswer(
  d: IdeaFlowDeps,
  asked: AskedQuestions,
  ctx: Context,
  outcome: AnswerOutcome,
): Promise<void> {
  const chatId = chatOf(ctx);
  if (outcome.next) return asked.ask(ctx.api, chatId, outcome.next);
  if (outcome.refinedJobId !== undefined) {
    const base = `🛠 Thanks — refining the draft with your answers (clarity ${Math.round(outcome.clarity * 100)}%).`;
    const sent = await ctx.reply(base, { reply_markup: cancelButton(outcome.refinedJobId) });
    d.statusLines.register(outcome.refinedJobId, chatId, sent.message_id, base);
  } else if (outcome.stopReason !== undefined)
    // Nothing was answered: a refine would repeat draft 1's prompt, so none is run.
    await ctx.reply(
      "👍 No more questions. Draft 1 stands as it is — nothing was answered to refine it with. " +
        "Reply to the draft to add something, or use ✂ Shorter / ➕ More detail under it.",
    );
}

async function acknowledge(
  d: IdeaFlowDeps,
  asked: AskedQuestions,
  ctx: Context,
  result: SubmitIdeaResult,
  setAside?: SetAside,
): Promise<void> {
  // No first question: the acknowledgement says why (the user never waits for one that won't come).
  const base = [
    `💡 Got it — thread ${result.shortId}: “${result.thread.title}”.`,
    ...backendLines(result),
    ...(result.question || result.noQuestion === undefined ? [] : [result.noQuestion]),
  ].join("\n");
  const ack = await ctx.reply(base, { reply_markup: cancelButton(result.job.id) });
  d.threads.rememberMessage(chatOf(ctx), ack.message_id, result.thread.id, "ack");
  d.statusLines.register(result.job.id, chatOf(ctx), ack.message_id, base);
  // Its own message: the acknowledgement's buttons go when the draft is done, the undo must stay.
  if (setAside) {
    const q = setAside.question;
    await ctx.reply(
      `↪ Taken as a new idea, not as the answer to question ${q.position} of ${q.idea.shortId} (${setAside.reason}); that question is still open.`,
      { reply_markup: answerInsteadKeyboard(result.thread.id, q) },
    );
  }
  // Every assumption from earlier conversations is shown, each with its one-tap correction.
  for (const a of result.assumptions ?? [])
    await ctx.reply(assumptionText(a), { reply_markup: assumptionKeyboard(result.thread.id, a) });
  if (result.question) await asked.ask(ctx.api, chatOf(ctx), result.question);
}

type SetAside = { question: QuestionView; reason: string };

export const STALE_TEXT = "That question is closed — nothing was recorded.";

/**
 * Ideas: a plain text that no feature before this one claimed (bot/bot.ts keeps threads ahead of
 * it) answers the open question or is a new idea — the engine decides (ThreadService.typed).
 */
export function ideasFeature(d: FeatureDeps): Composer<HermesContext> {
  const { typed } = d;
  const composer = new Composer<HermesContext>();

  composer.on("message:text", async (ctx, next) => {
    const text = ctx.message.text;
    if (text.startsWith("/")) return next();
    await typed(ctx, text);
  });

  return composer;
}

/**
 * The acknowledgement's word on where the draft runs, with the remedy that fits when it cannot run
 * now: a backend that is down (start it), turned off (/backends enable, no restart), or none at all.
 */
function backendLines(result: SubmitIdeaResult): string[] {
  const b = result.backend;
  const down = b?.health === "unhealthy" ? [{ name: b.name, location: b.location }] : undefined;
  const unreachable = down ?? (b ? [] : (result.unreachableBackends ?? []));
  const off = result.disabledBackends ?? [];
  if (unreachable.length > 0) {
    const u = unreachable[0] as { name: string; location: string };
    return [
      `${u.name} at ${u.location} is not reachable right now. Your idea is queued and will run as soon as it is back — no need to resend.`,
      ...(u.name.includes("ollama")
        ? ["To fix: start Ollama (`ollama serve`) or point OLLAMA_HOST at it."]
        : []),
    ];
  }
  if (!b && off.length > 0)
    return [
      `It waits in the queue: ${off.join(", ")} ${off.length === 1 ? "is" : "are"} turned off. ` +
        `Turn it back on with /backends enable ${off[0]} — no restart needed.`,
    ];
  if (!b)
    return ["No backend is configured, so it waits in the queue. Set OLLAMA_HOST or TALOS_URL and restart."];
  return [`Drafting now on ${b.name} · ${b.model}. I'll send it here when it's ready.`];
}
