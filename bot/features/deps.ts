import { type Context, InputFile } from "grammy";
import type { SystemConfig } from "../../src/config/system-config.ts";
import type { Engine } from "../../src/engine/engine.ts";
import type { Actor, ThreadService } from "../../src/engine/threads/service.ts";
import { optionalCallSignal } from "../telegram/delivery.ts";
import { optional } from "../telegram/safe.ts";
import { splitMessage } from "../telegram/split.ts";

/** What every family of command handlers gets, and the small helpers they share. */
export interface CommandDeps {
  engine: Engine;
  threads: ThreadService;
  config: SystemConfig;
  isOwner: (ctx: Context) => boolean;
  /** /new without text: the next plain message of this user is a new idea, whatever is pending. */
  expectNewIdea: (userId: string) => void;
  submit: (ctx: Context, text: string, options?: { validate?: boolean }) => Promise<void>;
  log: { debug(obj: object, msg: string): void };
}

export const userOf = (ctx: Context) => String(ctx.from?.id);
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
  log: CommandDeps["log"],
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
