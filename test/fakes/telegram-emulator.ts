import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import { createServer as createNetServer } from "node:net";
// The package main re-exports this class through module.exports, which its types describe as `default`.
import { TelegramServer } from "telegram-test-api/lib/telegramServer.js";

/**
 * The `telegram-test-api` emulator behind a small proxy that adds what real Telegram does and the
 * emulator does not: long polling (getUpdates waits for an update instead of returning empty at
 * once, which would make the bot spin). Everything else passes through unchanged.
 */
export interface BotMessage {
  chat_id: number | string;
  text: string;
  reply_markup?: unknown;
  message_id?: number;
  entities?: { type: string; offset: number; length: number; url?: string; language?: string }[];
  link_preview_options?: { is_disabled?: boolean };
}

export class TelegramEmulator {
  readonly server: TelegramServer;
  readonly token: string;
  private proxy: Server | undefined;
  private proxyPort = 0;
  readonly calls: { method: string; ok: boolean }[] = [];
  /** The JSON parameters of every call in `calls`, in the same order (undefined: not JSON). */
  readonly requests: { method: string; params: Record<string, unknown> | undefined }[] = [];
  /** The texts of answerCallbackQuery (the toast a button press shows), oldest first. */
  readonly toasts: string[] = [];

  private readonly longPollMs: number;

  private constructor(server: TelegramServer, token: string, longPollMs: number) {
    this.server = server;
    this.token = token;
    this.longPollMs = longPollMs;
  }

  /**
   * `longPollMs`: the longest a getUpdates with nothing to return is held. Tests keep 1 s, so a
   * stopping bot is never held for long; a benchmark of an idle bot passes 30 s, so the bot's own
   * `timeout` (grammY asks 30 s) decides, as on Telegram, and it polls as often as in production.
   */
  static async start(
    token = "123456:TEST-token-ABCDEFGHIJKLMNOPQRSTUV",
    options: { longPollMs?: number } = {},
  ): Promise<TelegramEmulator> {
    const port = await freePort();
    const server = new TelegramServer({ port, host: "127.0.0.1", storeTimeout: 600 });
    await server.start();
    const emu = new TelegramEmulator(server, token, options.longPollMs ?? 1000);
    await emu.startProxy(port);
    return emu;
  }

  /** What Hermes gets as TELEGRAM_API_ROOT. */
  get apiRoot(): string {
    return `http://127.0.0.1:${this.proxyPort}`;
  }

  client(userId: number, chatId = userId) {
    return this.server.getClient(this.token, {
      userId,
      chatId,
      firstName: `user${userId}`,
      userName: `user${userId}`,
    });
  }

  /** Messages the bot sent to a chat, oldest first. */
  botMessages(chatId: number): BotMessage[] {
    return this.server.storage.botMessages
      .filter((m) => String(m.message.chat_id) === String(chatId))
      .map((m) => ({ ...(m.message as unknown as BotMessage), message_id: m.messageId }));
  }

  async waitFor(
    chatId: number,
    predicate: (m: BotMessage) => boolean,
    timeoutMs = 10_000,
    description = "a matching bot message",
  ): Promise<BotMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.botMessages(chatId).find(predicate);
      if (hit) return hit;
      if (Date.now() > deadline) {
        const seen = this.botMessages(chatId).map((m) => m.text.slice(0, 120));
        throw new Error(`timed out waiting for ${description}; bot sent: ${JSON.stringify(seen)}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      if (!this.proxy) return resolve();
      this.proxy.closeAllConnections();
      this.proxy.close(() => resolve());
    });
    await this.server.stop();
  }

  private async startProxy(upstreamPort: number): Promise<void> {
    // A long poll still looping when the emulator stops finds it gone: answer 502, never reject.
    this.proxy = createServer((req, res) =>
      this.forward(req, res, upstreamPort).catch(() => {
        if (!res.headersSent && !res.destroyed) res.writeHead(502).end();
        else res.destroy();
      }),
    );
    await new Promise<void>((resolve) => this.proxy?.listen(0, "127.0.0.1", resolve));
    this.proxyPort = (this.proxy.address() as AddressInfo).port;
  }

  private async forward(req: IncomingMessage, res: ServerResponse, upstreamPort: number): Promise<void> {
    const body = await readBody(req);
    const method = (req.url ?? "").split("/").pop()?.split("?")[0] ?? "";
    const longPoll = method === "getUpdates";
    if (method === "answerCallbackQuery") this.toasts.push(toastText(body));
    // Long polling: held for the bot's `timeout`, at most longPollMs.
    const asked = longPoll ? Number(jsonParams(req, body)?.timeout ?? 0) * 1000 : 0;
    const deadline = Date.now() + Math.min(this.longPollMs, Number.isFinite(asked) ? asked : 0);
    for (;;) {
      const upstream = await send(upstreamPort, req, body);
      let empty = false;
      if (longPoll) {
        try {
          const parsed = JSON.parse(upstream.body.toString("utf8")) as { ok: boolean; result?: unknown[] };
          empty = parsed.ok && Array.isArray(parsed.result) && parsed.result.length === 0;
        } catch {
          empty = false;
        }
      }
      if (!longPoll || !empty || Date.now() > deadline || res.destroyed) {
        if (!longPoll) {
          this.calls.push({ method, ok: upstream.status < 400 });
          this.requests.push({ method, params: jsonParams(req, body) });
        }
        if (upstream.status >= 400 && upstream.body.toString("utf8").includes("is not supported")) {
          // Real Telegram answers an unknown method like this; the emulator answers 500 with its own body.
          res.writeHead(404, { "content-type": "application/json" });
          res.end(JSON.stringify({ ok: false, error_code: 404, description: "Not Found" }));
          return;
        }
        res.writeHead(upstream.status, { "content-type": upstream.contentType });
        res.end(upstream.body);
        return;
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}

function jsonParams(req: IncomingMessage, body: Buffer): Record<string, unknown> | undefined {
  if (!String(req.headers["content-type"] ?? "").includes("application/json")) return undefined;
  try {
    return JSON.parse(body.toString("utf8")) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

function toastText(body: Buffer): string {
  try {
    return String((JSON.parse(body.toString("utf8")) as { text?: string }).text ?? "");
  } catch {
    return "";
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

function send(
  port: number,
  req: IncomingMessage,
  body: Buffer,
): Promise<{ status: number; contentType: string; body: Buffer }> {
  return new Promise((resolve, reject) => {
    // The body is buffered: forward it with a length, not the client's chunked encoding.
    const { "transfer-encoding": _chunked, ...rest } = req.headers;
    const headers = { ...rest, host: `127.0.0.1:${port}`, "content-length": String(body.length) };
    const up = httpRequest({ host: "127.0.0.1", port, method: req.method, path: req.url, headers }, (r) => {
      const chunks: Buffer[] = [];
      r.on("data", (c: Buffer) => chunks.push(c));
      r.on("end", () =>
        resolve({
          status: r.statusCode ?? 502,
          contentType: String(r.headers["content-type"] ?? "application/json"),
          body: Buffer.concat(chunks),
        }),
      );
    });
    up.on("error", reject);
    up.end(body);
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createNetServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}
