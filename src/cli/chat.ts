import { createInterface } from "node:readline";
import type { Readable, Writable } from "node:stream";
import { type Env, EnvError, parseEnv } from "../config/env.ts";
import type { EngineEvent } from "../engine/engine.ts";
import { isHermesError } from "../errors.ts";
import { createLogger } from "../log.ts";
import { startHermes } from "../main.ts";

/**
 * `npm run chat`: a terminal conversation that drives the same engine as Telegram — idea in,
 * draft out — for trying Hermes without a bot token. It keeps its own database
 * (HERMES_CHAT_DB_PATH, default ./data/chat.db) so it never races a running Hermes for jobs.
 */
export interface ChatOptions {
  env: Env;
  input: Readable;
  output: Writable;
}

export async function runChat({ env, input, output }: ChatOptions): Promise<void> {
  const say = (text: string) => output.write(`${text}\n`);
  const hermes = await startHermes({
    env,
    http: false,
    telegram: false,
    logger: createLogger({
      level: "error",
      secrets: [env.OPENAI_API_KEY, env.OPENROUTER_API_KEY, env.TALOS_TOKEN],
    }),
  });
  const userId = "cli";
  const waiting = new Set<number>();
  let closed = false;
  let closeWhenDone = false;
  const finish = async () => {
    if (closed) return;
    closed = true;
    await hermes.stop();
  };

  hermes.engine.onEvent(({ event, thread, shortId }: EngineEvent) => {
    if (thread.user_id !== userId) return;
    if (event.type === "completed") {
      waiting.delete(thread.id);
      say(
        `\n── Draft ${event.job.job_sequence} · ${shortId} · ${event.job.backend_used}/${event.job.model_used} ──\n`,
      );
      say(event.job.full_result ?? "");
      say("");
    } else if (event.type === "retrying" && event.retryCount === 1) {
      say(
        `⏳ ${shortId} is queued: ${event.error.message}${event.error.userAction ? `\n   ${event.error.userAction}` : ""}`,
      );
    } else if (event.type === "failed" || event.type === "cancelled") {
      waiting.delete(thread.id);
      say(`✗ ${shortId} ${event.type}: ${event.type === "failed" ? event.error.message : event.reason}`);
    } else return;
    if (closeWhenDone && waiting.size === 0) void finish();
  });

  say("Hermes terminal chat. Type an idea and press Enter. /threads lists them, /quit leaves.");
  const rl = createInterface({ input, terminal: false });
  for await (const raw of rl) {
    const line = raw.trim();
    if (line === "") continue;
    if (line === "/quit" || line === "/exit") break;
    if (line === "/help") {
      say("Type an idea. /threads — your ideas. /cancel — cancel the latest. /quit — leave.");
      continue;
    }
    if (line === "/threads") {
      const threads = await hermes.engine.recentThreads(userId, 10);
      say(
        threads.length
          ? threads.map((t) => `${t.uuid.slice(0, 8)} · ${t.status} · ${t.title}`).join("\n")
          : "No ideas yet.",
      );
      continue;
    }
    if (line === "/cancel") {
      const r = await hermes.actions.cancel(userId);
      say(
        r ? `Cancelled ${r.cancelled.length} job(s) of ${r.thread.uuid.slice(0, 8)}.` : "Nothing to cancel.",
      );
      continue;
    }
    try {
      const r = await hermes.engine.submitIdea({ userId, text: line, source: "cli" });
      waiting.add(r.thread.id);
      say(
        `💡 ${r.shortId}: “${r.thread.title}” — drafting on ${r.backend ? `${r.backend.name} · ${r.backend.model}` : "(no backend)"}…`,
      );
    } catch (error) {
      say(
        isHermesError(error)
          ? `✗ ${error.message}${error.userAction ? ` ${error.userAction}` : ""}`
          : `✗ ${String(error)}`,
      );
    }
  }
  // End of input: wait for the drafts still on their way, then stop.
  if (waiting.size > 0) {
    say(`(waiting for ${waiting.size} draft(s)… Ctrl+C to leave now)`);
    closeWhenDone = true;
    await new Promise<void>((resolve) => {
      const t = setInterval(() => {
        if (closed || waiting.size === 0) {
          clearInterval(t);
          resolve();
        }
      }, 100);
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
