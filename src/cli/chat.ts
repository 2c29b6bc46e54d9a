import { createInterface } from "node:readline";
import type { Readable, Writable } from "node:stream";
import { createHermes } from "../app/hermes.ts";
import { type Env, EnvError, parseEnv } from "../config/env.ts";
import type { AnswerInput, AnswerOutcome, QuestionView } from "../engine/conversation/types.ts";
import type { EngineEvent } from "../engine/engine.ts";
import type { SubmitIdeaResult } from "../engine/ports.ts";
import { isHermesError } from "../errors.ts";
import { createLogger } from "../log.ts";

/**
 * `npm run chat`: a terminal conversation on the same engine and question flow as Telegram — idea
 * in, questions (a number picks a suggestion, s skips, e says enough, anything else is your
 * answer), draft 1 and the refined draft out — for trying Hermes without a bot token. It keeps its
 * own database (HERMES_CHAT_DB_PATH, default ./data/chat.db) so it never races a running Hermes.
 */
export interface ChatOptions {
  env: Env;
  input: Readable;
  output: Writable;
  random?: () => number;
}

const HELP =
  "Type an idea. While a question is open: 1–4 picks a suggestion, s skips, e = enough, or type your answer.\n" +
  "/new <idea> starts another idea · /answer: that was my answer, not a new idea · /rate 1-5 · /shorter · /more · /threads · /patterns · /cancel · /quit";

export async function runChat({ env, input, output, random }: ChatOptions): Promise<void> {
  const say = (text: string) => output.write(`${text}\n`);
  const hermes = await createHermes({
    env,
    http: false,
    telegram: false,
    random,
    logger: createLogger({
      level: "error",
      secrets: [env.OPENAI_API_KEY, env.OPENROUTER_API_KEY, env.TALOS_TOKEN],
    }),
  });
  await hermes.start();
  const { engine, threadService: threads } = hermes;
  const actor = { userId: "cli", role: "owner" } as const;
  const userId = "cli";
  const waiting = new Set<number>();
  /** The last text taken as a new idea instead of an answer: /answer undoes that. */
  let setAside: { ideaThreadId: number; threadId: number; questionId: number } | undefined;
  let lastDraftJob: number | undefined;
  let closed = false;
  let closeWhenDone = false;
  const finish = async () => {
    if (closed) return;
    closed = true;
    await hermes.stop();
  };

  const ask = (q: QuestionView | undefined) => {
    if (!q) return;
    say(`❓ ${q.position}. ${q.text}   (idea ${q.idea.shortId} · ${q.idea.title})`);
    say(q.suggestions.map((s, i) => `   ${i + 1}) ${s}`).join("\n"));
    say("   s) skip   e) enough — go ahead   or type your own answer");
  };
  /** Every answer gets a visible reply: the next question, the refining news, or why nothing happened. */
  const afterAnswer = (o: AnswerOutcome) => {
    if (o.stale)
      return say("That question is closed — nothing was recorded. Type an idea to start a new one.");
    if (o.refinedJobId !== undefined) {
      waiting.add(o.refinedJobId);
      say(`🛠 Refining the draft with your answers (clarity ${Math.round(o.clarity * 100)}%).`);
    } else if (o.stopReason !== undefined && !o.next)
      // Nothing was answered: a refine would repeat draft 1's prompt, so none is run.
      say("👍 No more questions. Draft 1 stands as it is — nothing was answered to refine it with.");
    else if (!o.next) say("Noted.");
    ask(o.next);
  };
  const fail = (error: unknown) =>
    say(
      isHermesError(error)
        ? `✗ ${error.message}${error.userAction ? ` ${error.userAction}` : ""}`
        : `✗ ${String(error)}`,
    );

  engine.onEvent(({ event, thread, shortId }: EngineEvent) => {
    if (thread.user_id !== userId) return;
    if (event.type === "completed") {
      waiting.delete(event.job.id);
      lastDraftJob = event.job.id;
      say(
        `\n── Draft ${event.job.job_sequence} · ${shortId} · ${event.job.backend_used}/${event.job.model_used} ──\n`,
      );
      say(event.job.full_result ?? "");
      say("\n(/rate 1-5, /shorter, /more)");
    } else if (event.type === "retrying" && event.retryCount === 1) {
      say(
        `⏳ ${shortId} is queued: ${event.error.message}${event.error.userAction ? `\n   ${event.error.userAction}` : ""}`,
      );
    } else if (event.type === "failed" || event.type === "cancelled") {
      waiting.delete(event.job.id);
      say(`✗ ${shortId} ${event.type}: ${event.type === "failed" ? event.error.message : event.reason}`);
    } else return;
    if (closeWhenDone && waiting.size === 0) void finish();
  });

  const announce = (r: SubmitIdeaResult) => {
    waiting.add(r.job.id);
    say(
      `💡 ${r.shortId}: “${r.thread.title}” — drafting on ${r.backend ? `${r.backend.name} · ${r.backend.model}` : "(no backend)"}…`,
    );
  };
  const submit = async (text: string) => {
    const r = await threads.submit(actor, { text, source: "cli" });
    announce(r);
    ask(r.question);
  };
  /** Typed text: the engine decides whether it answers the open question or is a new idea, and says which. */
  const typed = async (text: string) => {
    const r = await threads.typed(actor, { text, source: "cli" });
    if (r.kind === "answered") {
      if (!r.outcome.stale)
        say(`✍ Answer to question ${r.question.position} of ${r.question.idea.shortId}: ${r.answer}`);
      return afterAnswer(r.outcome);
    }
    announce(r.idea);
    if (r.setAside) {
      const q = r.setAside.question;
      setAside = { ideaThreadId: r.idea.thread.id, threadId: q.threadId, questionId: q.id };
      say(
        `   Taken as a new idea, not as the answer to question ${q.position} of ${q.idea.shortId} (${r.setAside.reason}); that question is still open. /answer takes it as the answer instead.`,
      );
    }
    ask(r.idea.question);
  };
  /** One number, s or e: a pick for the open question. */
  const pickOf = (line: string): AnswerInput | undefined =>
    /^[1-4]$/.test(line)
      ? { kind: "suggestion", index: Number(line) - 1 }
      : line.toLowerCase() === "s"
        ? { kind: "skip" }
        : line.toLowerCase() === "e"
          ? { kind: "enough" }
          : undefined;

  say(`Hermes terminal chat. ${HELP}`);
  const rl = createInterface({ input, terminal: false });
  for await (const raw of rl) {
    const line = raw.trim();
    if (line === "") continue;
    if (line === "/quit" || line === "/exit") break;
    try {
      if (line === "/help") say(HELP);
      // What the toasts say was learned, as Telegram's /patterns shows it.
      else if (line === "/patterns")
        say(
          (await engine.patternsSummary(userId)) ??
            "Nothing learned yet — rate a few drafts and answer some questions first.",
        );
      else if (line === "/threads") {
        const threads = await engine.recentThreads(userId, 10);
        say(
          threads.length
            ? threads.map((t) => `${t.uuid.slice(0, 8)} · ${t.status} · ${t.title}`).join("\n")
            : "No ideas yet.",
        );
      } else if (line === "/cancel") {
        const r = await threads.cancel(actor);
        say(
          r
            ? `Cancelled ${r.cancelled.length} job(s) of ${r.thread.uuid.slice(0, 8)}${r.questionsClosed ? " and closed its questions" : ""}.`
            : "Nothing to cancel.",
        );
      } else if (line === "/answer") {
        if (!setAside) say("Nothing to undo: no text was taken as a new idea.");
        else {
          const u = setAside;
          setAside = undefined;
          const r = await threads.answerInstead(actor, u.ideaThreadId, u.threadId, u.questionId);
          say(
            `↩ Not a new idea: cancelled it, and took “${r.answer}” as the answer to question ${r.question.position}.`,
          );
          afterAnswer(r.outcome);
        }
      } else if (line.startsWith("/new ")) {
        await submit(line.slice(5));
      } else if (/^\/rate [1-5]$/.test(line) || line === "/shorter" || line === "/more") {
        if (lastDraftJob === undefined) say("No draft to rate yet.");
        else {
          const fb = line.startsWith("/rate")
            ? { rating: Number(line.slice(6)) as 1 | 2 | 3 | 4 | 5 }
            : { adjust: line === "/shorter" ? ("shorter" as const) : ("more_detail" as const) };
          const o = await threads.feedback(actor, lastDraftJob, fb);
          if (o.followUpJobId !== undefined) waiting.add(o.followUpJobId);
          say(o.learned ? `Noted. ${o.learned}` : "Noted.");
        }
      } else if (pickOf(line)) {
        // The open question is asked of the engine, never remembered here: after /cancel it is gone.
        const q = await threads.pendingQuestion(actor);
        if (!q) say(`No question is open, so “${line}” is not an answer. Type an idea, or /help.`);
        else afterAnswer(await threads.answer(actor, q.threadId, q.id, pickOf(line) as AnswerInput));
      } else await typed(line);
    } catch (error) {
      fail(error);
    }
  }
  // End of input: wait for the drafts still on their way, then stop.
  if (waiting.size > 0 && !closed) {
    say(`(waiting for ${waiting.size} draft(s)… Ctrl+C to leave now)`);
    closeWhenDone = true;
    await new Promise<void>((resolve) => {
      const t = setInterval(() => {
        if (closed || waiting.size === 0) {
          clearInterval(t);
          resolve();
        }
      }, 50);
    });
  }
  await finish();
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  try {
    const env = parseEnv({
      ...process.env,
      HERMES_DB_PATH: process.env.HERMES_CHAT_DB_PATH ?? "./data/chat.db",
      TELEGRAM_BOT_TOKEN: "",
    });
    process.once("SIGINT", () => process.exit(0));
    await runChat({ env, input: process.stdin, output: process.stdout });
    process.exit(0);
  } catch (error) {
    process.stderr.write(`${error instanceof EnvError ? error.message : `chat failed: ${String(error)}`}\n`);
    process.exit(1);
  }
}
