import type { Api } from "grammy";
import type { EngineEvent } from "../../src/engine/engine.ts";

/**
 * "typing…" for as long as a job runs: Telegram shows a chat action for about 5 s, so it is
 * repeated every `everyMs` from the job's start until it completes, fails, is cancelled or waits to retry.
 * (@grammyjs/auto-chat-action covers the handling of an update; a job outlives its update.)
 */
export class TypingIndicator {
  private readonly byJob = new Map<number, ReturnType<typeof setInterval>>();
  private readonly api: Api;
  private readonly everyMs: number;

  constructor(api: Api, everyMs = 4500) {
    this.api = api;
    this.everyMs = everyMs;
  }

  onEvent({ event, thread }: EngineEvent): void {
    const jobId = event.job.id;
    if (["completed", "failed", "cancelled", "retrying"].includes(event.type)) {
      this.stop(jobId);
      return;
    }
    if (event.type !== "started" || thread.source !== "telegram" || !thread.chat_id) return;
    const chatId = thread.chat_id;
    const send = () => void this.api.sendChatAction(chatId, "typing").catch(() => {});
    this.stop(jobId);
    send();
    const timer = setInterval(send, this.everyMs);
    timer.unref?.();
    this.byJob.set(jobId, timer);
  }

  stopAll(): void {
    for (const id of [...this.byJob.keys()]) this.stop(id);
  }

  private stop(jobId: number): void {
    const timer = this.byJob.get(jobId);
    if (timer) clearInterval(timer);
    this.byJob.delete(jobId);
  }
}
