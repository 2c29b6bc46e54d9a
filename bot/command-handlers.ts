import { type Bot, type Context, InlineKeyboard, InputFile } from "grammy";
import { isSecretKey, maskSecret, type SystemConfig } from "../src/config/system-config.ts";
import type { Engine } from "../src/engine/engine.ts";
import type { ThreadActions } from "../src/engine/thread-actions.ts";
import { helpText } from "./commands.ts";
import type { HermesContext } from "./config-conversation.ts";
import { optionalCallSignal } from "./delivery.ts";
import { errorText } from "./error-text.ts";
import { splitMessage } from "./split-message.ts";
import { cancelButton } from "./status-line.ts";
import { optional } from "./telegram-safe.ts";

export interface CommandDeps {
  engine: Engine;
  actions: ThreadActions;
  config: SystemConfig;
  isOwner: (ctx: Context) => boolean;
  /** /new without text: the next plain message of this user is a new idea, whatever is pending. */
  expectNewIdea: (userId: string) => void;
  submit: (ctx: Context, text: string, options?: { validate?: boolean }) => Promise<void>;
  log: { debug(obj: object, msg: string): void };
}

/** Sends text as messages, or as a file when long (falling back to messages if files are refused). */
async function sendFileOrText(
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

export function installCommands(bot: Bot<HermesContext>, d: CommandDeps): void {
  const { engine, actions, log } = d;
  const userOf = (ctx: Context) => String(ctx.from?.id);

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
    await ctx.reply(lines.join("\n"));
  });

  bot.command("backends", async (ctx) => {
    if (!d.isOwner(ctx)) return void (await ctx.reply("Only the owner can manage backends."));
    const [verb, name] = ctx.match.trim().split(/\s+/).filter(Boolean);
    try {
      if ((verb === "enable" || verb === "disable") && name) {
        engine.setBackendEnabled(name, verb === "enable");
        await ctx.reply(`${name} is now ${verb}d.`);
        return;
      }
      if (verb)
        return void (await ctx.reply("Usage: /backends, /backends enable <name>, /backends disable <name>."));
      const lines = engine.backendStatus().map((b) => {
        const state = !b.enabled
          ? "⏸ disabled"
          : b.health === "healthy"
            ? "🟢"
            : b.health === "unhealthy"
              ? "🔴"
              : "🟡";
        return `${state} ${b.name} · ${b.kind}${b.free ? " · free" : " · paid"} · ${b.defaultModel} · ${b.location}`;
      });
      await ctx.reply([...lines, "", "/backends enable <name> or /backends disable <name>"].join("\n"));
    } catch (error) {
      await ctx.reply(errorText(error));
    }
  });

  bot.command("status", async (ctx) => {
    const active = await actions.activeThreads(userOf(ctx));
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
    const details = await actions.threadDetails(userOf(ctx), ref.toLowerCase());
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
      const ids = await actions.cancelJob(userOf(ctx), Number(ctx.match[1]));
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
    const result = await actions.cancel(userOf(ctx), ref);
    await ctx.reply(
      result
        ? `Cancelled ${result.cancelled.length} job(s) of thread ${result.thread.uuid.slice(0, 8)} (${result.thread.title}).`
        : "Nothing is running that I could cancel.",
    );
  });

  bot.command("budget", async (ctx) => {
    const b = engine.budgetSummary();
    const paid = engine.backendStatus().filter((s) => !s.free && s.enabled);

    await ctx.reply(
      [
        `💸 Today (${b.day} UTC): spent ${b.spentCents}¢, reserved for running jobs ${b.reservedCents}¢.`,
        `Daily budget ${b.dailyLimitCents}¢ (${b.remainingCents}¢ left); per idea ${b.projectLimitCents}¢; remote use needs ${b.minRemoteBudgetCents}¢ left.`,
        paid.length === 0
          ? "Only free local backends are enabled: nothing costs money."
          : `Paid backends: ${paid.map((p) => p.name).join(", ")}.`,
        b.alertsSent.length > 0 ? `Alerts sent today at ${b.alertsSent.join("%, ")}%.` : "",
      ]
        .filter(Boolean)
        .join("\n"),
    );
  });

  bot.command("patterns", async (ctx) => {
    const text = await engine.patternsSummary();
    await ctx.reply(text ?? "Nothing learned yet — rate a few drafts and answer some questions first.");
  });

  bot.command("config", async (ctx) => {
    if (!d.isOwner(ctx)) return void (await ctx.reply("Only the owner can see or change settings."));
    const [key, ...rest] = ctx.match.trim().split(/\s+/).filter(Boolean);
    const show = (k: string) => {
      const row = d.config.row(k);
      if (!row) return undefined;
      const value = isSecretKey(k) ? maskSecret(row.config_value) : row.config_value;
      const range = [row.min_value && `min ${row.min_value}`, row.max_value && `max ${row.max_value}`]
        .filter(Boolean)
        .join(", ");
      return `${k} = ${value || "(empty)"}${row.is_user_editable ? "" : " (fixed)"}${range ? ` [${range}]` : ""}\n  ${row.description ?? ""}`;
    };
    try {
      if (!key) {
        const text = d.config
          .list()
          .filter((r) => r.is_user_editable)
          .map(
            (r) =>
              `${r.config_key} = ${isSecretKey(r.config_key) ? maskSecret(r.config_value) : r.config_value}`,
          )
          .join("\n");
        for (const part of splitMessage(`Editable settings (/config <key> <value> to change):\n${text}`))
          await ctx.reply(part);
        return;
      }
      if (rest.length === 0) {
        if (!d.config.has(key)) return void (await ctx.reply(`There is no setting called ${key}.`));
        await ctx.conversation.enter("config-edit", key);
        return;
      }
      const change = await d.config.set(key, rest.join(" "), `telegram:${userOf(ctx)}`);
      await ctx.reply(
        `✅ ${show(key)}${change.requiresRestart ? "\nRestart Hermes for this to take effect." : ""}`,
      );
    } catch (error) {
      await ctx.reply(errorText(error));
    }
  });

  bot.command("export", async (ctx) => {
    const data = actions.exportUserData(userOf(ctx));
    const json = JSON.stringify(data, null, 2);
    await sendFileOrText(
      ctx,
      `hermes-export-${new Date().toISOString().slice(0, 10)}.json`,
      json,
      `Your data: ${data.threads.length} thread(s), ${data.jobs.length} job(s), ${data.conversations.length} answer(s).`,
      log,
    );
  });

  bot.command("forget", async (ctx) => {
    await ctx.reply(
      "This deletes every idea, draft, answer and preference Hermes has stored for you. It cannot be undone. Are you sure?",
      {
        reply_markup: new InlineKeyboard()
          .text("Yes, delete everything", "forget:yes")
          .text("No, keep it", "forget:no"),
      },
    );
  });
  bot.callbackQuery(/^forget:(yes|no)$/, async (ctx) => {
    await optional(() => ctx.answerCallbackQuery(), log, "answerCallbackQuery");
    if (ctx.match[1] !== "yes") {
      await optional(() => ctx.editMessageText("Kept everything."), log, "editMessageText");
      return;
    }
    const counts = await actions.forgetUser(userOf(ctx), String(ctx.chat?.id));
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    await optional(
      () => ctx.editMessageText(`Deleted ${total} record(s). Hermes no longer has any of your data.`),
      log,
      "edit",
    );
  });
}
