import type { Job } from "../store/jobs/repo.ts";

/** The typed progress stream that the bot, the HTTP layer and the terminal chat subscribe to. */
export interface JobErrorInfo {
  code: string;
  message: string;
  userAction?: string | undefined;
}

export type QueueEvent =
  | { type: "queued"; job: Job }
  | { type: "started"; job: Job }
  | { type: "progress"; job: Job; tokens: number; textSoFar: string }
  | { type: "retrying"; job: Job; retryCount: number; nextAttemptAt: number; error: JobErrorInfo }
  | { type: "completed"; job: Job }
  | { type: "failed"; job: Job; error: JobErrorInfo }
  | { type: "cancelled"; job: Job; reason: string };

type Listener = (event: QueueEvent) => void;

export class QueueEvents {
  private readonly listeners = new Set<Listener>();
  private readonly onListenerError: (error: unknown, event: QueueEvent) => void;

  constructor(onListenerError: (error: unknown, event: QueueEvent) => void = () => {}) {
    this.onListenerError = onListenerError;
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A failing listener never breaks the queue or the other listeners. */
  emit(event: QueueEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        this.onListenerError(error, event);
      }
    }
  }
}
