import { type Bot, type Context, InlineKeyboard } from "grammy";
import { errorText } from "../telegram/error-text.ts";
import { optional } from "../telegram/safe.ts";
import { cancelButton } from "../telegram/status-line.ts";
import { helpText } from "./commands.ts";
import type { HermesContext } from "./config.ts";
import { actorOf, type CommandDeps, sendFileOrText, userOf } from "./deps.ts";

/**
 * Commands about a user's ideas: help, starting one (/new, /validate), what is in progress
 * (/status), past threads (/threads, /thread and its "open" button) and cancelling (/cancel and
 * the cancel button of a status line).
 */
export function installThreadCommands(bot: Bot<HermesContext>, d: CommandDeps): void {
  const { engine, threads, log } = d;

  bot.command(["start", "help"], (ctx) => ctx.reply(helpText(d.isOwner(ctx))));

  bot.command("validate", async (ctx) => {
    const text = ctx.match.trim();
    if (!text)
      return void (await ctx.reply(
        "Usage: /validate <idea> — drafts it on several backends and checks they agree.",
      ));
    await d.submit(ctx, text, { validate: true });
  });

  bot.command("new", async (ctx) => {
    const text = ctx.match.trim();
    if (text) return d.submit(ctx, text);
    d.expectNewIdea(userOf(ctx));
    await ctx.reply("Send me the new idea.");
  });

  bot.command("status", async (ctx) => {
    const active = await threads.activeThreads(actorOf(ctx, d.isOwner));
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

  bot.command("threads", async (ctx) => {
    const threads = await engine.recentThreads(userOf(ctx), 10);
    if (threads.length === 0) return void (await ctx.reply("No ideas yet. Send me one!"));
    const kb = new InlineKeyboard();
    for (const t of threads)
      kb.text(`${t.uuid.slice(0, 8)} · ${t.title.slice(0, 40)}`, `open:${t.uuid.slice(0, 8)}`).row();
    await ctx.reply(
      threads
        .map((t) => `${t.uuid.slice(0, 8)} · ${t.status} · ${t.draft_count} draft(s) · ${t.title}`)
        .join("\n"),
      { reply_markup: kb },
    );
  });

  const showThread = async (ctx: Context, ref: string) => {
    if (!/^[0-9a-f-]{4,36}$/i.test(ref))
      return void (await ctx.reply("Usage: /thread <id> (the 8-character id from /threads)."));
    const details = await threads.threadDetails(actorOf(ctx, d.isOwner), ref.toLowerCase());
    if (!details) return void (await ctx.reply(`No thread ${ref} of yours.`));
    const { thread, jobs, answers } = details;
    const lines = [
      `🧵 ${thread.uuid.slice(0, 8)} · ${thread.title}`,
      `Status: ${thread.status} · type: ${thread.idea_type ?? "?"} · clarity ${Math.round(thread.initial_clarity_score * 100)}% → ${Math.round(thread.final_clarity_score * 100)}%`,
      `Idea: ${thread.original_request.slice(0, 500)}`,
      ...(answers.length > 0
        ? [
            "",
            "Questions:",
            ...answers.map((a) => `${a.position}. ${a.question}\n   → ${a.answer ?? "(skipped)"}`),
          ]
        : []),
      "",
      ...jobs.map(
        (j) =>
          `Draft ${j.job_sequence} (${j.job_subtype ?? "draft"}) · ${j.status}${j.model_used ? ` · ${j.backend_used}/${j.model_used}` : ""}`,
      ),
    ];
    await ctx.reply(lines.join("\n"));
    const latest = [...jobs].reverse().find((j) => j.status === "completed" && j.full_result);
    if (latest?.full_result) {
      await sendFileOrText(
        ctx,
        `hermes-${thread.uuid.slice(0, 8)}.md`,
        latest.full_result,
        `Latest draft (${latest.job_sequence})`,
        log,
      );
    }
  };
  bot.command("thread", (ctx) => showThread(ctx, ctx.match.trim()));
  bot.callbackQuery(/^open:([0-9a-f]{8})$/, async (ctx) => {
    await optional(() => ctx.answerCallbackQuery(), log, "answerCallbackQuery");
    await showThread(ctx, ctx.match[1] as string);
  });

  bot.callbackQuery(/^cancel:(\d+)$/, async (ctx) => {
    try {
      const ids = await threads.cancelJob(actorOf(ctx, d.isOwner), Number(ctx.match[1]));
      const text = ids.length > 0 ? "Cancelled." : "It had already finished.";
      await optional(() => ctx.answerCallbackQuery({ text }), log, "answerCallbackQuery");
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
    const result = await threads.cancel(actorOf(ctx, d.isOwner), { ref });
    await ctx.reply(
      result
        ? `Cancelled ${result.cancelled.length} job(s) of thread ${result.thread.uuid.slice(0, 8)} (${result.thread.title})${result.questionsClosed ? " and stopped its questions" : ""}.`
        : "Nothing is running that I could cancel.",
    );
  });
}
