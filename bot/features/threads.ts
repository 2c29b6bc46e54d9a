import { Composer, type Context, InlineKeyboard } from "grammy";
import { describeCancel } from "../../src/engine/threads/cancel.ts";
import type { DraftInProgress } from "../../src/engine/threads/views.ts";
import { errorText } from "../telegram/error-text.ts";
import { optional } from "../telegram/safe.ts";
import { cancelButton } from "../telegram/status-line.ts";
import { helpText, welcomeText } from "./commands.ts";
import type { HermesContext } from "./config.ts";
import { actorOf, chatOf, type FeatureDeps, sendFileOrText, userOf } from "./deps.ts";

/**
 * Threads, a user's ideas as conversations: help, starting one (/new, /validate), past threads
 * (/threads, /thread and its "open" button), what is in progress (/status) and cancelling it
 * (/cancel and the cancel button of a status line), and continuing one by replying to any of its
 * messages. Its plain-text handlers go before questions and ideas (see bot/bot.ts).
 */
export function threadsFeature(d: FeatureDeps): Composer<HermesContext> {
  return new Composer<HermesContext>(startingIdeas(d), threadViews(d), cancelling(d), threadReplies(d));
}

/** Help and starting an idea: /validate, /new with the idea, or /new and then the idea. */
function startingIdeas(d: FeatureDeps): Composer<HermesContext> {
  const composer = new Composer<HermesContext>();
  /** Users who sent /new without text: their next plain message is a new idea, whatever is pending. */
  const awaitingNewIdea = new Set<string>();

  composer.command("start", (ctx) => {
    const owner = d.isOwner(ctx);
    return ctx.reply(welcomeText(owner, owner ? undefined : d.config.number("hermes.guests.daily_quota")));
  });
  composer.command("help", (ctx) => ctx.reply(helpText(d.isOwner(ctx))));

  composer.command("validate", async (ctx) => {
    const text = ctx.match.trim();
    if (!text)
      return void (await ctx.reply(
        "Usage: /validate <idea> — drafts it on several backends and checks they agree.",
      ));
    await d.submit(ctx, text, { validate: true });
  });

  composer.command("new", async (ctx) => {
    const text = ctx.match.trim();
    if (text) return d.submit(ctx, text);
    awaitingNewIdea.add(userOf(ctx));
    await ctx.reply("Send me the new idea.");
  });

  // /new without text: the next plain message is a new idea, even with a question pending.
  composer.on("message:text", async (ctx, next) => {
    const id = String(ctx.from.id);
    if (ctx.message.text.startsWith("/") || !awaitingNewIdea.has(id)) return next();
    awaitingNewIdea.delete(id);
    await d.submit(ctx, ctx.message.text);
  });

  return composer;
}

/** What is in progress, with cancel buttons; past threads as a list with "open" buttons, or in full. */
function threadViews(d: FeatureDeps): Composer<HermesContext> {
  const { engine, log } = d;
  const composer = new Composer<HermesContext>();

  // What matters to a person: where each of their drafts stands and what waits for them — not
  // the queue's counters. Each unfinished draft gets its own line with a cancel button.
  composer.command("status", async (ctx) => {
    const { drafts, open } = await d.threads.status(actorOf(ctx, d.isOwner));
    if (drafts.length === 0 && open.length === 0)
      return void (await ctx.reply("Nothing of yours is in progress. Send me an idea to start one."));
    const waiting = open.map(
      (q) => `❓ Waiting for your answer: question ${q.position} of ${q.idea.shortId} (${q.idea.title}).`,
    );
    await ctx.reply(
      [
        `Your ideas in progress: ${drafts.length} draft(s) on the way, ${open.length} question(s) for you.`,
        ...waiting,
      ].join("\n"),
    );
    for (const draft of drafts.slice(0, 10))
      await ctx.reply(draftStatusLine(draft), { reply_markup: cancelButton(draft.jobId) });
  });

  composer.command("threads", async (ctx) => {
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

  const showThread = threadDetails(d);
  composer.command("thread", (ctx) => showThread(ctx, ctx.match.trim()));
  composer.callbackQuery(/^open:([0-9a-f]{8})$/, async (ctx) => {
    await optional(() => ctx.answerCallbackQuery(), log, "answerCallbackQuery");
    await showThread(ctx, ctx.match[1] as string);
  });

  return composer;
}

/** One of the user's drafts in /status, said as where it stands: "Your idea “X” (ab12cd34): draft 1 is waiting; 1 ahead of it." */
export function draftStatusLine(draft: DraftInProgress): string {
  const where =
    draft.status === "running"
      ? "is being written now"
      : draft.status === "retrying"
        ? `hit a problem and will be tried again automatically${draft.ahead > 0 ? `; ${draft.ahead} ahead of it` : ""}`
        : draft.status === "pending"
          ? "starts when the draft it builds on is finished"
          : draft.ahead === 0
            ? "is next in line"
            : `is waiting its turn; ${draft.ahead} ahead of it`;
  return `Your idea “${draft.thread.title}” (${draft.thread.shortId}): draft ${draft.draftNumber} ${where}.`;
}

/** How a question without an answer reads in /thread. */
const ANSWER_STATE = {
  answered: "",
  open: "(open — waiting for your answer)",
  skipped: "(skipped)",
  closed: "(not answered — the questions stopped)",
} as const;

/** One thread in full: its answers, what the user added, its drafts, and the latest draft as a file. */
function threadDetails({ threads, isOwner, log }: FeatureDeps): (ctx: Context, ref: string) => Promise<void> {
  return async (ctx: Context, ref: string) => {
    if (!/^[0-9a-f-]{4,36}$/i.test(ref))
      return void (await ctx.reply("Usage: /thread <id> (the 8-character id from /threads)."));
    const details = await threads.threadDetails(actorOf(ctx, isOwner), ref.toLowerCase());
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
            ...answers.map((a) => `${a.position}. ${a.question}\n   → ${a.answer ?? ANSWER_STATE[a.state]}`),
          ]
        : []),
      ...(details.information.length > 0
        ? ["", "Added by you:", ...details.information.map((i) => `• ${i.slice(0, 500)}`)]
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
}

/** Cancelling: /cancel, and the cancel button of a status line or of /status. */
function cancelling(d: FeatureDeps): Composer<HermesContext> {
  const { threads, log } = d;
  const composer = new Composer<HermesContext>();

  composer.callbackQuery(/^cancel:(\d+)$/, async (ctx) => {
    try {
      const r = await threads.cancelJob(actorOf(ctx, d.isOwner), Number(ctx.match[1]));
      const text =
        r.cancelled.length > 0
          ? `Cancelled.${r.questionsClosed ? " Its questions are closed." : ""}`
          : r.questionsClosed
            ? "The draft had finished; the idea's questions are closed."
            : "It had already finished.";
      await optional(() => ctx.answerCallbackQuery({ text }), log, "answerCallbackQuery");
      await d.settleQuestions(ctx, r.thread.id, "(cancelled)");
    } catch (error) {
      await optional(
        () => ctx.answerCallbackQuery({ text: errorText(error).slice(0, 190) }),
        log,
        "answerCallbackQuery",
      );
    }
  });

  composer.command("cancel", async (ctx) => {
    const ref = ctx.match.trim() || undefined;
    const result = await threads.cancel(actorOf(ctx, d.isOwner), { ref });
    if (result) await d.settleQuestions(ctx, result.thread.id, "(cancelled)");
    await ctx.reply(result ? describeCancel(result) : "Nothing is running that I could cancel.");
  });

  return composer;
}

/** A plain text replying to any message of a thread continues that thread. */
function threadReplies(d: FeatureDeps): Composer<HermesContext> {
  const { threads, followUp } = d;
  const composer = new Composer<HermesContext>();

  composer.on("message:text", async (ctx, next) => {
    const text = ctx.message.text;
    if (text.startsWith("/")) return next();
    const actor = actorOf(ctx, d.isOwner);
    try {
      const replyTo = ctx.message.reply_to_message?.message_id;
      const link = replyTo === undefined ? undefined : threads.threadOfMessage(chatOf(ctx), replyTo);
      if (link) {
        const open = await threads.pendingQuestionOf(actor, link.threadId);
        const r = await threads.reply(actor, link.threadId, text, link.kind);
        if ("kept" in r) {
          const q = r.kept.open;
          return void (await ctx.reply(
            `📎 Added to ${q.idea.shortId} — it goes into the refined draft, together with your answers. Question ${q.position} is still open.`,
          ));
        }
        if ("answered" in r) {
          if (open && !r.answered.stale) await d.settleQuestion(ctx, open, `✍ ${text.trim()}`);
          return void (await followUp(ctx, r.answered));
        }
        const base = "🛠 Adding that and refining the draft…";
        const sent = await ctx.reply(base, { reply_markup: cancelButton(r.refinedJobId) });
        d.statusLines.register(r.refinedJobId, chatOf(ctx), sent.message_id, base);
        return;
      }
    } catch (error) {
      return void (await ctx.reply(errorText(error)));
    }
    await next();
  });

  return composer;
}
