import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { TelegramEmulator } from "./telegram-emulator.ts";

/**
 * An API root in front of the telegram-test-api emulator that keeps updates as real Telegram does:
 * the emulator forgets an update once it was fetched, Telegram only once a later getUpdates
 * confirms it (an offset above its update_id). Until then every getUpdates hands it out again, so
 * a bot that dies after fetching an update, or after handling it but before its next poll, gets it
 * again after a restart; deleteWebhook with drop_pending_updates drops them all, as Telegram does.
 * Everything else goes to the emulator unchanged, except calls the test chose to hold: those get no
 * answer (as a hung Telegram), and fail when released.
 */
interface Update {
  update_id: number;
}

type Predicate = (method: string, body: Record<string, unknown>) => boolean;

export class RedeliveringTelegram {
  private readonly tg: TelegramEmulator;
  private server: Server | undefined;
  private port = 0;
  /** Fetched from the emulator, not yet confirmed. */
  private kept: Update[] = [];
  private confirmedBelow = 0;
  private holding: Predicate | undefined;
  private readonly held: { req: IncomingMessage; raw: Buffer; res: ServerResponse }[] = [];
  /** Every update_id handed out, in order: one that appears twice was delivered again. */
  readonly handedOut: number[] = [];

  private constructor(tg: TelegramEmulator) {
    this.tg = tg;
  }

  static async start(tg: TelegramEmulator): Promise<RedeliveringTelegram> {
    const fake = new RedeliveringTelegram(tg);
    fake.server = createServer((req, res) => void fake.handle(req, res));
    await new Promise<void>((resolve) => fake.server?.listen(0, "127.0.0.1", resolve));
    fake.port = (fake.server.address() as AddressInfo).port;
    return fake;
  }

  /** What Hermes gets as TELEGRAM_API_ROOT. */
  get apiRoot(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** From now on, calls matching `predicate` get no answer (until release()). */
  hold(predicate: Predicate): void {
    this.holding = predicate;
  }

  heldCount(): number {
    return this.held.length;
  }

  /**
   * Stops holding. The held calls fail (their connections close, as a call to a hung server would),
   * or with `answer`, go to the emulator and are answered as if Telegram had only been slow.
   */
  release(answer = false): void {
    this.holding = undefined;
    for (const h of this.held.splice(0)) {
      if (answer) this.forward(h.req, h.raw, h.res).catch(() => h.res.socket?.destroy());
      else h.res.socket?.destroy();
    }
  }

  /** Every update below this offset is confirmed (forgotten). */
  confirmed(): number {
    return this.confirmedBelow;
  }

  async stop(): Promise<void> {
    this.release();
    await new Promise<void>((resolve) => {
      if (!this.server) return resolve();
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const method = (req.url ?? "").split("/").pop()?.split("?")[0] ?? "";
    const body = parseJson(raw, req.headers["content-type"]);
    if (method === "getUpdates") return this.getUpdates(body, req, res);
    if (method === "deleteWebhook" && body.drop_pending_updates === true) this.dropPending();
    if (this.holding?.(method, body)) {
      this.held.push({ req, raw, res });
      return;
    }
    await this.forward(req, raw, res);
  }

  private async forward(req: IncomingMessage, raw: Buffer, res: ServerResponse): Promise<void> {
    const upstream = await fetch(`${this.tg.apiRoot}${req.url}`, {
      method: req.method ?? "POST",
      headers: { "content-type": String(req.headers["content-type"] ?? "application/json") },
      ...(req.method === "GET" ? {} : { body: new Uint8Array(raw) }),
    });
    res.writeHead(upstream.status, { "content-type": "application/json" });
    res.end(Buffer.from(await upstream.arrayBuffer()));
  }

  /** What Telegram does for deleteWebhook({ drop_pending_updates: true }): every waiting update is gone. */
  private dropPending(): void {
    this.tg.server.getUpdates(this.tg.token);
    this.kept = [];
  }

  /**
   * Telegram's rules: an offset confirms every update below it; the answer is every kept update
   * from the offset on (up to `limit`), waiting up to `timeout` (capped at a second) for one.
   */
  private async getUpdates(
    body: Record<string, unknown>,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> {
    const offset = typeof body.offset === "number" ? body.offset : 0;
    const limit = typeof body.limit === "number" ? body.limit : 100;
    if (offset > this.confirmedBelow) this.confirmedBelow = offset;
    let closed = false;
    req.on("close", () => {
      closed = !res.writableFinished;
    });
    // Telegram's default timeout is 0 (answer at once); long polls are capped at a second here.
    const timeoutS = typeof body.timeout === "number" ? body.timeout : 0;
    const deadline = Date.now() + Math.min(timeoutS * 1000, 1000);
    for (;;) {
      this.kept = this.kept.filter((u) => u.update_id >= this.confirmedBelow);
      const fresh = this.tg.server.getUpdates(this.tg.token) as unknown as Update[];
      this.kept.push(...fresh.filter((u) => u.update_id >= this.confirmedBelow));
      const answer = this.kept.slice(0, limit);
      if (closed) return;
      if (answer.length > 0 || Date.now() > deadline) {
        this.handedOut.push(...answer.map((u) => u.update_id));
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ ok: true, result: answer }));
        return;
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** grammY sends JSON (multipart only for file uploads, which are passed through unread). */
function parseJson(raw: Buffer, contentType: string | undefined): Record<string, unknown> {
  if (!String(contentType ?? "").includes("json") || raw.length === 0) return {};
  try {
    const parsed: unknown = JSON.parse(raw.toString("utf8"));
    return typeof parsed === "object" && parsed !== null ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
