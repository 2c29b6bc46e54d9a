import { type Api, InlineKeyboard } from "grammy";
import type { EngineEvent } from "../../src/engine/engine.ts";
import { optional } from "./safe.ts";

/**
 * The acknowledgement message becomes a live status line: edited as the job moves (queued →
 * drafting with tokens so far → done), throttled so a chat gets at most one edit every few
 * seconds (Telegram limits edits), with a Cancel button while the job is unfinished.
 */
interface Line {
  chatId: string;
  messageId: number;
  base: string;
  jobId: number;
  lastEditAt: number;
  lastStatus: string;
  pending: ReturnType<typeof setTimeout> | undefined;
  final: boolean;
  /** Waiting for a backend since a retry: a new attempt is not "Drafting…" until text arrives. */
  waiting: boolean;
}

export const cancelButton = (jobId: number) => new InlineKeyboard().text("✖ Cancel", `cancel:${jobId}`);

export class StatusLines {
  private readonly byJob = new Map<number, Line>();
  /** Final states seen before the acknowledgement was registered (a very fast draft). */
  private readonly early = new Map<number, string>();
  private readonly api: Api;
  private readonly log: { debug(obj: object, msg: string): void };
  private readonly minIntervalMs: number;
  private readonly now: () => number;

  constructor(
    api: Api,
    log: { debug(obj: object, msg: string): void },
    minIntervalMs = 3000,
    now: () => number = Date.now,
  ) {
    this.api = api;
    this.log = log;
    this.minIntervalMs = minIntervalMs;
    this.now = now;
  }

  register(jobId: number, chatId: string, messageId: number, base: string): void {
    const line: Line = {
      chatId,
      messageId,
      base,
      jobId,
      lastEditAt: 0,
      lastStatus: "",
      pending: undefined,
      final: false,
      waiting: false,
    };
    this.byJob.set(jobId, line);
    const early = this.early.get(jobId);
    if (early !== undefined) {
      this.early.delete(jobId);
      this.update(line, early, true);
    }
  }

  onEvent({ event }: EngineEvent): void {
    const status = describe(event);
    if (status === undefined) return;
    const final = event.type === "completed" || event.type === "failed" || event.type === "cancelled";
    const line = this.byJob.get(event.job.id);
    if (!line) {
      if (final) {
        this.early.set(event.job.id, status);
        if (this.early.size > 1000) this.early.delete(this.early.keys().next().value as number);
      }
      return;
    }
    // One consistent state while the backend is down: each retry attempt starts the job again,
    // and showing "Drafting…" between the "Waiting for a backend" lines would flip back and forth.
    if (event.type === "retrying") line.waiting = true;
    else if (event.type === "started" && line.waiting) return;
    else line.waiting = false;
    this.update(line, status, final);
  }

  private update(line: Line, status: string, final: boolean): void {
    if (line.final || status === line.lastStatus) return;
    if (line.pending) clearTimeout(line.pending);
    line.pending = undefined;
    const wait = line.lastEditAt + this.minIntervalMs - this.now();
    if (final) {
      line.final = true;
      this.byJob.delete(line.jobId);
    }
    if (wait > 0 && !final) {
      // Keep only the latest status; send it when the interval allows.
      line.pending = setTimeout(() => this.edit(line, status, false), wait);
      line.pending.unref?.();
      return;
    }
    void this.edit(line, status, final);
  }

  private async edit(line: Line, status: string, final: boolean): Promise<void> {
    line.pending = undefined;
    line.lastEditAt = this.now();
    line.lastStatus = status;
    await optional(
      () =>
        this.api.editMessageText(line.chatId, line.messageId, `${line.base}\n${status}`, {
          reply_markup: final ? { inline_keyboard: [] } : cancelButton(line.jobId),
        }),
      this.log,
      "editMessageText (status line)",
    );
  }
}

function describe(event: EngineEvent["event"]): string | undefined {
  switch (event.type) {
    case "started":
      return "⏳ Drafting…";
    case "progress":
      return `⏳ Drafting… ${event.tokens} tokens so far`;
    case "retrying":
      return `⏸ Waiting for a backend (attempt ${event.retryCount + 1} at ${new Date(event.nextAttemptAt).toISOString().slice(11, 19)} UTC)`;
    case "completed":
      return "✅ Done.";
    case "failed":
      return `❌ Failed: ${event.error.message}`;
    case "cancelled":
      return "✖ Cancelled.";
    default:
      return undefined;
  }
}
