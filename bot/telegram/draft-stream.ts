import type { Api } from "grammy";
import type { EngineEvent } from "../../src/engine/engine.ts";
import { markdownToEntities } from "./markdown.ts";
import { splitFormatted } from "./split.ts";

interface Log {
  debug(obj: object, msg: string): void;
}

interface Stream {
  chatId: number;
  lastAt: number;
  latest: string | undefined;
  inFlight: boolean;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/**
 * Shows a draft in the chat while the model writes it, with Telegram's `sendMessageDraft` (Bot API
 * 9.5): the text so far, formatted, at most one update per `minIntervalMs` per job (only the newest
 * text is kept), and never awaited by the engine. The finished draft is still sent by delivery.ts
 * as a normal message with its buttons. A server that does not know the method (older Bot API, the
 * test emulator) answers 404: that is remembered, nothing is retried per token, and the status
 * line's token count is what the user sees instead.
 * grammY's `sendMessageDraft` is called directly rather than through @grammyjs/stream: the plugin
 * consumes an iterator inside an update and ends with its own `sendMessage`, while here the text
 * comes from the engine's progress events and the final message needs our split and buttons.
 */
export class DraftStreams {
  private refused = false;
  private readonly byJob = new Map<number, Stream>();
  private readonly api: Api;
  private readonly log: Log;
  private readonly minIntervalMs: number;
  private readonly now: () => number;

  constructor(api: Api, log: Log, minIntervalMs = 1000, now: () => number = Date.now) {
    this.api = api;
    this.log = log;
    this.minIntervalMs = minIntervalMs;
    this.now = now;
  }

  /** Whether this event's progress is shown by the stream (the status line then leaves it alone). */
  covers({ event, thread }: EngineEvent): boolean {
    return event.type === "progress" && !this.refused && streamable(thread);
  }

  onEvent({ event, thread }: EngineEvent): void {
    const jobId = event.job.id;
    if (event.type !== "progress") {
      if (event.type === "completed" || event.type === "failed" || event.type === "cancelled")
        this.end(jobId);
      return;
    }
    if (this.refused || !streamable(thread)) return;
    const s = this.byJob.get(jobId) ?? this.start(jobId, Number(thread.chat_id));
    s.latest = event.textSoFar;
    this.schedule(jobId, s);
  }

  private start(jobId: number, chatId: number): Stream {
    const s: Stream = {
      chatId,
      lastAt: Number.NEGATIVE_INFINITY,
      latest: undefined,
      inFlight: false,
      timer: undefined,
    };
    this.byJob.set(jobId, s);
    return s;
  }

  private end(jobId: number): void {
    const s = this.byJob.get(jobId);
    if (s?.timer) clearTimeout(s.timer);
    this.byJob.delete(jobId);
  }

  /** Sends now if the interval allows, else once when it does (with whatever text is newest then). */
  private schedule(jobId: number, s: Stream): void {
    if (s.inFlight || s.timer) return;
    const wait = s.lastAt + this.minIntervalMs - this.now();
    if (wait <= 0) {
      void this.send(jobId, s);
      return;
    }
    s.timer = setTimeout(() => {
      s.timer = undefined;
      if (this.byJob.get(jobId) === s) void this.send(jobId, s);
    }, wait);
    s.timer.unref?.();
  }

  private async send(jobId: number, s: Stream): Promise<void> {
    const text = s.latest;
    s.latest = undefined;
    if (!text?.trim()) return;
    s.inFlight = true;
    s.lastAt = this.now();
    // The part being written now: a long draft shows its latest 4096 characters' worth, formatted.
    const part = splitFormatted(markdownToEntities(text)).at(-1);
    try {
      if (part) await this.api.sendMessageDraft(s.chatId, jobId, part.text, { entities: part.entities });
    } catch (error) {
      this.refuse(jobId, error);
    } finally {
      s.inFlight = false;
    }
    if (s.latest !== undefined && this.byJob.get(jobId) === s) this.schedule(jobId, s);
  }

  /** 404: the server has no such method, so never again; anything else ends this job's stream only. */
  private refuse(jobId: number, error: unknown): void {
    const code = (error as { error_code?: unknown }).error_code;
    if (code === 404) this.refused = true;
    this.log.debug(
      { err: error instanceof Error ? error.message : String(error), jobId, code },
      "sendMessageDraft refused; the status line shows progress",
    );
    this.end(jobId);
  }
}

/** sendMessageDraft is for private chats only (positive chat ids). */
function streamable(thread: EngineEvent["thread"]): boolean {
  const chatId = Number(thread.chat_id);
  return thread.source === "telegram" && Number.isSafeInteger(chatId) && chatId > 0;
}
