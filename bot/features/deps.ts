import { type Context, InputFile } from "grammy";
import type { Env } from "../../src/config/env.ts";
import type { SystemConfig } from "../../src/config/system-config.ts";
import type { AnswerOutcome, QuestionView } from "../../src/engine/conversation/types.ts";
import type { Engine } from "../../src/engine/engine.ts";
import type { Actor, ThreadService } from "../../src/engine/threads/service.ts";
import { optionalCallSignal } from "../telegram/delivery.ts";
import { optional } from "../telegram/safe.ts";
import { splitMessage } from "../telegram/split.ts";
import type { StatusLines } from "../telegram/status-line.ts";

/**
 * What every feature Composer gets (bot/bot.ts builds it once), and the small helpers they share.
 * `submit` and `followUp` are the idea flow of ./ideas.ts, shared because /new, /validate, typed
 * answers and thread replies all end in it.
 */
export interface FeatureDeps {
  engine: Engine;
  threads: ThreadService;
  config: SystemConfig;
  /** The environment: /config shows where it overrides a setting (never a secret unmasked). */
  env: Env;
  statusLines: StatusLines;
  isOwner: (ctx: Context) => boolean;
  submit: (ctx: Context, text: string, options?: { validate?: boolean }) => Promise<void>;
  /** A plain text: answers the open question (echoed on it) or starts a new idea (said so, with an undo). */
  typed: (ctx: Context, text: string) => Promise<void>;
  /** "It's a new idea" under a typed answer: undo it (engine) and start the text as a new idea. */
  newIdeaInstead: (ctx: Context, threadId: number, questionId: number) => Promise<void>;
  /** After an answer: the next question, or the news that the refined draft is on its way. */
  followUp: (ctx: Context, outcome: AnswerOutcome) => Promise<void>;
  /** Shows a question's outcome on its message and removes its buttons; false if it was not sent here. */
  settleQuestion: (ctx: Context, q: QuestionView, outcome: string) => Promise<boolean>;
  /** Settles every question message of a thread still showing buttons (after a cancel). */
  settleQuestions: (ctx: Context, threadId: number, outcome: string) => Promise<void>;
  log: { debug(obj: object, msg: string): void };
}

export const userOf = (ctx: Context) => String(ctx.from?.id);
export const chatOf = (ctx: Context) => String(ctx.chat?.id);
/** The Telegram user as the thread service's actor: an owner, or a guest (limited mode). */
export const actorOf = (ctx: Context, isOwner: (ctx: Context) => boolean): Actor => ({
  userId: userOf(ctx),
  role: isOwner(ctx) ? "owner" : "guest",
});

/** Sends text as messages, or as a file when long (falling back to messages if files are refused). */
export async function sendFileOrText(
  ctx: Context,
  fileName: string,
  text: string,
  caption: string,
  log: FeatureDeps["log"],
) {
  const sent = await optional(
    () =>
      ctx.replyWithDocument(
        new InputFile(Buffer.from(text, "utf8"), fileName),
        { caption },
        optionalCallSignal(),
      ),
    log,
    "sendDocument",
  );
  if (sent) return;
  for (const part of splitMessage(`${caption}\n\n${text}`)) await ctx.reply(part);
}
