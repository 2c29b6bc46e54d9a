import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { AbortController as PolyfillAbortController } from "abort-controller";
import { Api, InputFile } from "grammy";
import { afterEach, describe, expect, it } from "vitest";
import { telegramFetch } from "../../bot/telegram/fetch.ts";

// grammY's requests through Node's fetch (bot/telegram/fetch.ts): the e2e suites cover JSON calls
// and long polling; these cover what they cannot — file uploads and aborts.

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r) ?? r(undefined));
  server = undefined;
});

async function listen(handler: (req: IncomingMessage, body: Buffer, res: ServerResponse) => void) {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => handler(req, Buffer.concat(chunks), res));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe("telegramFetch", () => {
  it("uploads a document as multipart/form-data, streamed", async () => {
    const seen: { path?: string; type?: string; body?: string; headers?: IncomingMessage["headers"] } = {};
    const apiRoot = await listen((req, body, res) => {
      Object.assign(seen, {
        path: req.url,
        type: req.headers["content-type"],
        body: body.toString(),
        headers: req.headers,
      });
      res.setHeader("content-type", "application/json");
      res.end(
        JSON.stringify({ ok: true, result: { message_id: 5, date: 0, chat: { id: 42, type: "private" } } }),
      );
    });
    const api = new Api("123:secret", { apiRoot, fetch: telegramFetch });
    const sent = await api.sendDocument(
      42,
      new InputFile(Buffer.from("# Draft\n\nHello bees."), "draft.md"),
      {
        caption: "Draft 2",
      },
    );
    expect(sent.message_id).toBe(5);
    expect(seen.path).toBe("/bot123:secret/sendDocument");
    expect(seen.type).toMatch(/^multipart\/form-data; boundary=/);
    expect(seen.body).toContain("filename=draft.md");
    expect(seen.body).toContain("# Draft\n\nHello bees.");
    expect(seen.body).toContain("Draft 2");
    expect(seen.headers?.["transfer-encoding"]).toBe("chunked");
  });

  it("sends JSON calls and drops node-fetch-only options", async () => {
    let body = "";
    const apiRoot = await listen((_req, raw, res) => {
      body = raw.toString();
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ ok: true, result: true }));
    });
    const api = new Api("123:secret", { apiRoot, fetch: telegramFetch });
    await expect(api.deleteMessage(42, 7)).resolves.toBe(true);
    expect(JSON.parse(body)).toEqual({ chat_id: 42, message_id: 7 });
  });

  it("follows an abort from grammY's AbortController polyfill", async () => {
    let arrived: () => void = () => {};
    const requested = new Promise<void>((r) => {
      arrived = r;
    });
    const apiRoot = await listen(() => arrived()); // never answers
    const controller = new PolyfillAbortController();
    const pending = telegramFetch(`${apiRoot}/bot1:x/getUpdates`, {
      method: "POST",
      body: "{}",
      signal: controller.signal as unknown as AbortSignal,
    });
    await requested;
    controller.abort();
    await expect(pending).rejects.toThrow(/abort/i);
    // An upload's source is destroyed when the request is aborted, as node-fetch did.
    const source = Readable.from(
      (function* () {
        for (;;) yield Buffer.alloc(16_384);
      })(),
    );
    const upload = new PolyfillAbortController();
    const uploading = telegramFetch(`${apiRoot}/bot1:x/sendDocument`, {
      method: "POST",
      body: source as unknown as RequestInit["body"],
      signal: upload.signal as unknown as AbortSignal,
    });
    upload.abort();
    await expect(uploading).rejects.toThrow(/abort/i);
    expect(source.destroyed).toBe(true);
    const already = new PolyfillAbortController();
    already.abort();
    await expect(
      telegramFetch(`${apiRoot}/bot1:x/getMe`, { signal: already.signal as unknown as AbortSignal }),
    ).rejects.toThrow(/abort/i);
  });
});
