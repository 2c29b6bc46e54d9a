import type { EngineEvent } from "../../src/engine/engine.ts";
import type { DeliveryLog } from "./delivery.ts";

/** The Engine's side of the outbox (see src/engine/outbox.ts). */
export interface OwedPort {
  owed(limit?: number): Promise<EngineEvent[]>;
  isOwed(outboxId: number): boolean;
  delivered(outboxId: number): void;
  deliveryFailed(outboxId: number): void;
}

/**
 * Sends what a chat is owed exactly once from this process: the live event and the replay at
 * start go through `send`, which skips an entry already delivered or being sent, and marks it
 * delivered only after Telegram accepted the message (a send that fails leaves it owed).
 */
export class OwedDeliveries {
  private readonly inFlight = new Map<number, Promise<void>>();
  private readonly port: OwedPort;
  private readonly deliver: (e: EngineEvent) => Promise<void>;
  private readonly log: DeliveryLog;

  constructor(port: OwedPort, deliver: (e: EngineEvent) => Promise<void>, log: DeliveryLog) {
    this.port = port;
    this.deliver = deliver;
    this.log = log;
  }

  /** Delivers the event; an owed one only if it is still owed and not already on its way. */
  send(e: EngineEvent): Promise<void> {
    const id = e.outboxId;
    if (id === undefined) return this.deliver(e);
    if (this.inFlight.has(id) || !this.port.isOwed(id)) return Promise.resolve();
    const sending = this.deliver(e).then(
      () => this.port.delivered(id),
      (error: unknown) => {
        this.port.deliveryFailed(id);
        throw error;
      },
    );
    const tracked = sending.catch(() => {}).finally(() => this.inFlight.delete(id));
    this.inFlight.set(id, tracked);
    return sending;
  }

  /** Sends everything still owed (at start: what a stopped or crashed process did not send). */
  async sendOwed(): Promise<void> {
    let owed: EngineEvent[];
    try {
      owed = await this.port.owed();
    } catch (error) {
      this.log.error(
        { err: error instanceof Error ? error.message : String(error) },
        "owed messages unreadable",
      );
      return;
    }
    for (const e of owed) {
      try {
        await this.send(e);
      } catch (error) {
        this.log.warn(
          { err: error instanceof Error ? error.message : String(error), thread: e.shortId },
          "owed message not sent; it stays owed for the next start",
        );
      }
    }
  }

  /** Resolves when the sends under way have ended, or after `timeoutMs` (what is left stays owed). */
  async idle(timeoutMs: number): Promise<void> {
    if (this.inFlight.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    await Promise.race([Promise.all([...this.inFlight.values()]), timeout]);
    clearTimeout(timer);
  }
}
