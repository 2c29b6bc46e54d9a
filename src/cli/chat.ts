import { createInterface } from "node:readline";
import type { Readable, Writable } from "node:stream";
import { createHermes, type Hermes } from "../app/hermes.ts";
import { type Env, EnvError, parseEnv } from "../config/env.ts";
import type { AnswerInput, AnswerOutcome, QuestionView } from "../engine/conversation/types.ts";
import type { EngineEvent } from "../engine/engine.ts";
import type { SubmitIdeaResult } from "../engine/ports.ts";
import { describeCancel } from "../engine/threads/cancel.ts";
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
  "/new <idea> starts another idea · /answer: that was my answer, not a new idea · /idea: that answer was a new idea · /rate 1-5 · /shorter · /more · /threads · /patterns · /cancel · /quit";

export async function runChat({ env, input, output, random }: ChatOptions): Promise<void> {
  const hermes = await createHermes({
    env,
    http: false,
    telegram: false,
    random,
    logger: createLogger({
      level: "error",
      secrets: [env.OPENAI_API_KEY, env.OPENROUTER_API_KEY, env.TALOS_TOKEN, env.HERMES_TRANSCRIBE_API_KEY],
    }),
  });
  await hermes.start();
  const chat = new ChatSession(hermes, output);
  hermes.engine.onEvent((e) => chat.onEvent(e));
  chat.say(`Hermes terminal chat. ${HELP}`);
  const rl = createInterface({ input, terminal: false });
  for await (const raw of rl) {
    const line = raw.trim();
    if (line === "") continue;
    if (line === "/quit" || line === "/exit") break;
    try {
      await chat.handle(line);
    } catch (error) {
      chat.fail(error);
    }
  }
  await chat.drainAndFinish();
}

const USER_ID = "cli";
const ACTOR = { userId: USER_ID, role: "owner" } as const;

/** The terminal conversation: its own state (drafts waited for, the last draft, a set-aside text) and the commands. */
class ChatSession {
  private readonly engine: Hermes["engine"];
  private readonly threads: Hermes["threadService"];
  private readonly waiting = new Set<number>();
  /** Jobs already over: a fast draft can finish before the call that queued it returns. */
  private readonly ended = new Set<number>();
  /** The last text taken as a new idea instead of an answer: /answer undoes that. */
  private setAside: { ideaThreadId: number; threadId: number; questionId: number } | undefined;
  /** The last typed text taken as an answer: /idea undoes that and starts it as a new idea. */
  private typedAnswer: { threadId: number; questionId: number } | undefined;
  private lastDraftJob: number | undefined;
  private closed = false;
  private closeWhenDone = false;

  private readonly hermes: Hermes;
  private readonly output: Writable;

  constructor(hermes: Hermes, output: Writable) {
    this.hermes = hermes;
    this.output = output;
    this.engine = hermes.engine;
    this.threads = hermes.threadService;
  }

  say(text: string): void {
    this.output.write(`${text}\n`);
  }

  fail(error: unknown): void {
    this.say(
      isHermesError(error)
        ? `✗ ${error.message}${error.userAction ? ` ${error.userAction}` : ""}`
        : `✗ ${String(error)}`,
    );
  }

  private async finish(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.hermes.stop();
  }

  /** End of input: wait for the drafts still on their way, then stop. */
  async drainAndFinish(): Promise<void> {
    if (this.waiting.size > 0 && !this.closed) {
      this.say(`(waiting for ${this.waiting.size} draft(s)… Ctrl+C to leave now)`);
      this.closeWhenDone = true;
      await new Promise<void>((resolve) => {
        const t = setInterval(() => {
          if (this.closed || this.waiting.size === 0) {
            clearInterval(t);
            resolve();
          }
        }, 50);
      });
    }
    await this.finish();
  }

  private ask(q: QuestionView | undefined): void {
    if (!q) return;
    this.say(`❓ ${q.position}. ${q.text}   (idea ${q.idea.shortId} · ${q.idea.title})`);
    this.say(q.suggestions.map((s, i) => `   ${i + 1}) ${s}`).join("\n"));
    this.say("   s) skip   e) enough — go ahead   or type your own answer");
  }

  /** Every answer gets a visible reply: the next question, the refining news, or why nothing happened. */
  private afterAnswer(o: AnswerOutcome): void {
    if (o.stale) {
      this.say("That question is closed — nothing was recorded. Type an idea to start a new one.");
      return;
    }
    if (o.refinedJobId !== undefined) {
      this.expect(o.refinedJobId);
      this.say(`🛠 Refining the draft with your answers (clarity ${Math.round(o.clarity * 100)}%).`);
    } else if (o.stopReason !== undefined && !o.next)
      // Nothing was answered: a refine would repeat draft 1's prompt, so none is run.
      this.say("👍 No more questions. Draft 1 stands as it is — nothing was answered to refine it with.");
    else if (!o.next) this.say("Noted.");
    this.ask(o.next);
  }

  /** A draft on its way, unless it already ended (then there is nothing to wait for). */
  private expect(jobId: number): void {
    if (!this.ended.has(jobId)) this.waiting.add(jobId);
  }

  onEvent({ event, thread, shortId }: EngineEvent): void {
    if (thread.user_id !== USER_ID) return;
    if (event.type === "completed" || event.type === "failed" || event.type === "cancelled")
      this.ended.add(event.job.id);
    if (event.type === "completed") {
      this.waiting.delete(event.job.id);
      this.lastDraftJob = event.job.id;
      this.say(
        `\n── Draft ${event.job.job_sequence} · ${shortId} · ${event.job.backend_used}/${event.job.model_used} ──\n`,
      );
      this.say(event.job.full_result ?? "");
      this.say("\n(/rate 1-5, /shorter, /more)");
    } else if (event.type === "retrying" && event.retryCount === 1) {
      this.say(
        `⏳ ${shortId} is queued: ${event.error.message}${event.error.userAction ? `\n   ${event.error.userAction}` : ""}`,
      );
    } else if (event.type === "failed" || event.type === "cancelled") {
      this.waiting.delete(event.job.id);
      this.say(`✗ ${shortId} ${event.type}: ${event.type === "failed" ? event.error.message : event.reason}`);
    } else return;
    if (this.closeWhenDone && this.waiting.size === 0) void this.finish();
  }

  private announce(r: SubmitIdeaResult): void {
    this.expect(r.job.id);
    // A fast backend may have finished draft 1 while the first question was being worded.
    const state = this.ended.has(r.job.id)
      ? "draft 1 is above"
      : `drafting on ${r.backend ? `${r.backend.name} · ${r.backend.model}` : "(no backend)"}…`;
    this.say(`💡 ${r.shortId}: “${r.thread.title}” — ${state}`);
    // No first question: say why, where it would have been.
    if (!r.question && r.noQuestion !== undefined) this.say(`   ${r.noQuestion}`);
  }

  /** One input line: a command, a pick for the open question, or typed text. */
  async handle(line: string): Promise<void> {
    if (line === "/help") this.say(HELP);
    // What the toasts say was learned, as Telegram's /patterns shows it.
    else if (line === "/patterns")
      this.say(
        (await this.engine.patternsSummary(USER_ID)) ??
          "Nothing learned yet — rate a few drafts and answer some questions first.",
      );
    else if (line === "/threads") await this.listThreads();
    else if (line === "/cancel") await this.cancel();
    else if (line === "/answer") await this.answerInstead();
    else if (line === "/idea") await this.newIdeaInstead();
    else if (line.startsWith("/new ")) await this.submit(line.slice(5));
    else if (/^\/rate [1-5]$/.test(line) || line === "/shorter" || line === "/more")
      await this.feedback(line);
    else if (pickOf(line)) await this.pick(line, pickOf(line) as AnswerInput);
    else await this.typed(line);
  }

  private async listThreads(): Promise<void> {
    const threads = await this.engine.recentThreads(USER_ID, 10);
    this.say(
      threads.length
        ? threads.map((t) => `${t.uuid.slice(0, 8)} · ${t.status} · ${t.title}`).join("\n")
        : "No ideas yet.",
    );
  }

  private async cancel(): Promise<void> {
    const r = await this.threads.cancel(ACTOR);
    this.say(r ? describeCancel(r) : "Nothing is running that I could cancel.");
  }

  /** /answer: the text last taken as a new idea was the answer to the open question after all. */
  private async answerInstead(): Promise<void> {
    if (!this.setAside) {
      this.say("Nothing to undo: no text was taken as a new idea.");
      return;
    }
    const u = this.setAside;
    this.setAside = undefined;
    const r = await this.threads.answerInstead(ACTOR, u.ideaThreadId, u.threadId, u.questionId);
    this.say(
      `↩ Not a new idea: cancelled it, and took “${r.answer}” as the answer to question ${r.question.position}.`,
    );
    this.afterAnswer(r.outcome);
  }

  /** /idea: the text last taken as an answer was a new idea (the engine undoes the answer and what it taught). */
  private async newIdeaInstead(): Promise<void> {
    const u = this.typedAnswer;
    this.typedAnswer = undefined;
    if (!u) return this.say("Nothing to undo: no typed text was taken as an answer.");
    const r = await this.threads.newIdeaInstead(ACTOR, u.threadId, u.questionId, { source: "cli" });
    const q = r.withdrawn.question;
    this.say(`↩ Not an answer: question ${q.position} of ${q.idea.shortId} is open again.`);
    this.announce(r.idea);
    this.ask(q);
    this.ask(r.idea.question);
  }

  /** /rate 1-5, /shorter, /more on the last draft. */
  private async feedback(line: string): Promise<void> {
    if (this.lastDraftJob === undefined) {
      this.say("No draft to rate yet.");
      return;
    }
    const fb = line.startsWith("/rate")
      ? { rating: Number(line.slice(6)) as 1 | 2 | 3 | 4 | 5 }
      : { adjust: line === "/shorter" ? ("shorter" as const) : ("more_detail" as const) };
    const o = await this.threads.feedback(ACTOR, this.lastDraftJob, fb);
    if (o.followUpJobId !== undefined) this.expect(o.followUpJobId);
    this.say(o.learned ? `Noted. ${o.learned}` : "Noted.");
  }

  /** A number, s or e. The open question is asked of the engine, never remembered here: after /cancel it is gone. */
  private async pick(line: string, answer: AnswerInput): Promise<void> {
    const q = await this.threads.pendingQuestion(ACTOR);
    if (!q) this.say(`No question is open, so “${line}” is not an answer. Type an idea, or /help.`);
    else this.afterAnswer(await this.threads.answer(ACTOR, q.threadId, q.id, answer));
  }

  private async submit(text: string): Promise<void> {
    const r = await this.threads.submit(ACTOR, { text, source: "cli" });
    this.announce(r);
    this.ask(r.question);
  }

  /** Typed text: the engine decides whether it answers the open question or is a new idea, and says which. */
  private async typed(text: string): Promise<void> {
    const r = await this.threads.typed(ACTOR, { text, source: "cli" });
    if (r.kind === "answered") {
      if (!r.outcome.stale) {
        this.typedAnswer = { threadId: r.question.threadId, questionId: r.question.id };
        this.say(
          `✍ Answer to question ${r.question.position} of ${r.question.idea.shortId} (${r.question.idea.title}): ${r.answer} — /idea if it was a new idea.`,
        );
      }
      this.afterAnswer(r.outcome);
      return;
    }
    this.announce(r.idea);
    if (r.setAside) {
      const q = r.setAside.question;
      this.setAside = { ideaThreadId: r.idea.thread.id, threadId: q.threadId, questionId: q.id };
      this.say(
        `   Taken as a new idea, not as the answer to question ${q.position} of ${q.idea.shortId} (${r.setAside.reason}); that question is still open. /answer takes it as the answer instead.`,
      );
    }
    this.ask(r.idea.question);
  }
}

/** One number, s or e: a pick for the open question. */
function pickOf(line: string): AnswerInput | undefined {
  return /^[1-4]$/.test(line)
    ? { kind: "suggestion", index: Number(line) - 1 }
    : line.toLowerCase() === "s"
      ? { kind: "skip" }
      : line.toLowerCase() === "e"
        ? { kind: "enough" }
        : undefined;
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
