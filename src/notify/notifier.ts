import type { Clock } from "../clock.ts";

/**
 * Alerts to the owners' chats: talos_down, job_failure, queue_full, budget (and backend_down for
 * other backends, off unless listed). Only the types in `hermes.notifications.alert_types` are
 * sent, and the same alert (type + key) at most once per `hermes.notifications.cooldown_minutes`.
 */
export type AlertType =
  | "talos_down"
  | "backend_down"
  | "job_failure"
  | "queue_full"
  | "budget"
  | "database_size";

export interface AlertLogPort {
  lastSent(type: string, key: string): number | undefined;
  markSent(type: string, key: string, atMs: number): void;
}

/** Delivers an alert text to every owner; the bot implements it. */
export type AlertSink = (text: string) => Promise<void>;

export interface NotifierOptions {
  log: AlertLogPort;
  clock: Clock;
  enabledTypes: () => string[];
  cooldownMinutes: () => number;
  logger: { warn(obj: object, msg: string): void };
}

const ICON: Record<AlertType, string> = {
  talos_down: "🔴",
  backend_down: "🔴",
  job_failure: "❌",
  queue_full: "🚦",
  budget: "💸",
  database_size: "🗄",
};

export class Notifier {
  private readonly o: NotifierOptions;
  private sink: AlertSink | undefined;
  /** Sends of this process, by type and key: the cooldown holds when alert_log cannot be written (disk full). */
  private readonly sentHere = new Map<string, number>();

  constructor(options: NotifierOptions) {
    this.o = options;
  }

  /** The bot connects itself once it runs; before that (or without a bot) alerts are only logged. */
  connect(sink: AlertSink | undefined): void {
    this.sink = sink;
  }

  /** Returns true when the alert was sent (enabled, out of cooldown, a sink connected). */
  async alert(type: AlertType, key: string, text: string): Promise<boolean> {
    this.o.logger.warn({ alert: type, key }, text);
    if (!this.o.enabledTypes().includes(type) || !this.sink) return false;
    const now = this.o.clock.now();
    const id = `${type}\u0000${key}`;
    const last = Math.max(
      this.o.log.lastSent(type, key) ?? Number.NEGATIVE_INFINITY,
      this.sentHere.get(id) ?? Number.NEGATIVE_INFINITY,
    );
    if (now - last < this.o.cooldownMinutes() * 60_000) return false;
    // Mark first: two alerts racing in the same tick must not both go out.
    this.sentHere.set(id, now);
    try {
      this.o.log.markSent(type, key, now);
    } catch (error) {
      // The alert that says the disk is full must still go out when alert_log cannot be written.
      this.o.logger.warn(
        { err: error instanceof Error ? error.message : String(error), alert: type },
        "alert not logged",
      );
    }
    try {
      await this.sink(`${ICON[type]} Hermes alert (${type.replace("_", " ")})\n${text}`);
      return true;
    } catch (error) {
      this.o.logger.warn(
        { err: error instanceof Error ? error.message : String(error), alert: type },
        "alert not delivered",
      );
      return false;
    }
  }
}
