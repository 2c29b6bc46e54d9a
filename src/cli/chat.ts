import { createInterface } from "node:readline";
import type { Readable, Writable } from "node:stream";
import { type Env, EnvError, parseEnv } from "../config/env.ts";
import type { AnswerInput, AnswerOutcome, QuestionView } from "../engine/conversation/types.ts";
import type { EngineEvent } from "../engine/engine.ts";
import { isHermesError } from "../errors.ts";
import { createLogger } from "../log.ts";
import { startHermes } from "../main.ts";

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
  "/new <idea> starts another idea · /rate 1-5 · /shorter · /more · /threads · /patterns · /cancel · /quit";

export async function runChat({ env, input, output, random }: ChatOptions): Promise<void> {
  const say = (text: string) => output.write(`${text}\n`);
  const hermes = await startHermes({
    env,
    http: false,
    telegram: false,
    random,
    logger: createLogger({
      level: "error",
      secrets: [env.OPENAI_API_KEY, env.OPENROUTER_API_KEY, env.TALOS_TOKEN],
    }),
  });
  const { engine, threadService: threads } = hermes;
  const userId = "cli";
  const actor = { userId, role: "owner" } as const;
  const waiting = new Set<number>();
  let question: QuestionView | undefined;
  let lastDraftJob: number | undefined;
  let closed = false;
  let closeWhenDone = false;
  const finish = async () => {
    if (closed) return;
    closed = true;
    await hermes.stop();
  };

  const ask = (q: QuestionView | undefined) => {
    question = q;
    if (!q) return;
    say(`❓ ${q.position}. ${q.text}`);
    say(q.suggestions.map((s, i) => `   ${i + 1}) ${s}`).join("\n"));
    say("   s) skip   e) enough — go ahead   or type your own answer");
  };
  const afterAnswer = (o: AnswerOutcome) => {
    if (o.refinedJobId !== undefined) {
      waiting.add(o.refinedJobId);
      say(`🛠 Refining the draft with your answers (clarity ${Math.round(o.clarity * 100)}%).`);
    } else if (o.stopReason !== undefined && !o.next)
      // Nothing was answered: a refine would repeat draft 1's prompt, so none is run.
      say("👍 No more questions. Draft 1 stands as it is — nothing was answered to refine it with.");
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

  const submit = async (text: string) => {
    const r = await threads.submit(actor, { text, source: "cli" });
    waiting.add(r.job.id);
    say(
      `💡 ${r.shortId}: “${r.thread.title}” — drafting on ${r.backend ? `${r.backend.name} · ${r.backend.model}` : "(no backend)"}…`,
    );
    ask(r.question);
  };

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
            ? `Cancelled ${r.cancelled.length} job(s) of ${r.thread.uuid.slice(0, 8)}.`
            : "Nothing to cancel.",
        );
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
      } else if (question) {
        const q = question;
        const pick: AnswerInput = /^[1-4]$/.test(line)
          ? { kind: "suggestion", index: Number(line) - 1 }
          : line.toLowerCase() === "s"
            ? { kind: "skip" }
            : line.toLowerCase() === "e"
              ? { kind: "enough" }
              : { kind: "text", text: line };
        question = undefined;
        afterAnswer(await threads.answer(actor, q.threadId, q.id, pick));
      } else await submit(line);
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
