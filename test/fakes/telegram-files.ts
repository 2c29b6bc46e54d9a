import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

const TELEGRAM_LIMIT = 20 * 1024 * 1024;

/**
 * Telegram's file side, which the telegram-test-api emulator lacks (it refuses getFile): a proxy
 * in front of the emulator that answers `getFile` for the files a test registered and serves
 * them at `/file/bot<token>/<file_path>`, like api.telegram.org. Everything else goes on to the
 * emulator unchanged. A file over 20 MB is refused by getFile, as Telegram does.
 */
export class TelegramFiles {
  private readonly files = new Map<string, { path: string; data: Buffer; size: number }>();
  /** file_paths downloaded, in order. */
  readonly downloads: string[] = [];
  /** file_ids asked of getFile, in order. */
  readonly getFileCalls: string[] = [];
  private readonly server: Server;
  private readonly upstream: string;
  private readonly token: string;
  private constructor(server: Server, upstream: string, token: string) {
    this.server = server;
    this.upstream = upstream;
    this.token = token;
  }

  static async start(upstream: string, token: string): Promise<TelegramFiles> {
    let fake: TelegramFiles | undefined;
    const server = createServer((req, res) => {
      // The emulator may be gone while a long poll is still forwarded (a test stopping): answer 502.
      (fake as TelegramFiles).handle(req, res).catch(() => {
        if (!res.headersSent && !res.destroyed) res.writeHead(502).end();
      });
    });
    fake = new TelegramFiles(server, upstream, token);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return fake;
  }

  /** What Hermes gets as TELEGRAM_API_ROOT. */
  get apiRoot(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Registers a file; `size` overrides the size Telegram reports (a too-large file without the bytes). */
  add(data: Buffer, extension: string, size = data.length): string {
    const id = `file-${randomUUID()}`;
    this.files.set(id, { path: `documents/${id}.${extension}`, data, size });
    return id;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const url = req.url ?? "";
    if (url.startsWith(`/bot${this.token}/getFile`)) return this.getFile(body, res);
    if (url.startsWith(`/file/bot${this.token}/`))
      return this.serve(url.slice(`/file/bot${this.token}/`.length), res);
    const { host: _host, "content-length": _length, "transfer-encoding": _te, ...headers } = req.headers;
    const up = await fetch(`${this.upstream}${url}`, {
      method: req.method ?? "GET",
      headers: headers as Record<string, string>,
      ...(req.method === "GET" || req.method === "HEAD" ? {} : { body }),
    });
    res.writeHead(up.status, { "content-type": up.headers.get("content-type") ?? "application/json" });
    res.end(Buffer.from(await up.arrayBuffer()));
  }

  private getFile(body: Buffer, res: ServerResponse): void {
    const id = String((JSON.parse(body.toString("utf8") || "{}") as { file_id?: unknown }).file_id);
    this.getFileCalls.push(id);
    const f = this.files.get(id);
    const [status, answer] = !f
      ? [400, { ok: false, error_code: 400, description: "Bad Request: invalid file_id" }]
      : f.size > TELEGRAM_LIMIT
        ? [400, { ok: false, error_code: 400, description: "Bad Request: file is too big" }]
        : [
            200,
            { ok: true, result: { file_id: id, file_unique_id: id, file_size: f.size, file_path: f.path } },
          ];
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(answer));
  }

  private serve(path: string, res: ServerResponse): void {
    const f = [...this.files.values()].find((x) => x.path === path);
    if (!f) return void res.writeHead(404).end();
    this.downloads.push(path);
    res.writeHead(200, { "content-type": "application/octet-stream" });
    res.end(f.data);
  }
}
