import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** One request the fake got, as the transcription protocol defines it. */
export interface TranscriptionRequest {
  path: string;
  model: string;
  fileName: string;
  fileBytes: number;
  /** The Authorization header, if any (asserted, never printed). */
  authorization: string | undefined;
}

/**
 * A loopback OpenAI-compatible transcription server: `POST /v1/audio/transcriptions`, multipart
 * with `file` and `model`, answering `{ text }`. Tests set the text or an HTTP status.
 */
export class FakeTranscription {
  readonly requests: TranscriptionRequest[] = [];
  /** The transcript of the next requests. */
  text = "a reading list app that suggests one book a week";
  /** Answer this status (with an error body) instead of a transcript. */
  status: number | undefined;
  private readonly server: Server;
  private constructor(server: Server) {
    this.server = server;
  }

  static async start(): Promise<FakeTranscription> {
    let fake: FakeTranscription | undefined;
    const server = createServer((req, res) => {
      (fake as FakeTranscription)
        .handle(req)
        .then(({ status, body }) => {
          res.writeHead(status, { "content-type": "application/json" });
          res.end(JSON.stringify(body));
        })
        .catch(() => {
          if (!res.headersSent && !res.destroyed) res.writeHead(400).end();
        });
    });
    fake = new FakeTranscription(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return fake;
  }

  /** The API root Hermes is given (HERMES_TRANSCRIBE_URL). */
  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage): Promise<{ status: number; body: unknown }> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    if (req.method !== "POST" || req.url !== "/v1/audio/transcriptions")
      return { status: 404, body: { error: { message: "not found" } } };
    // The multipart body parsed by the platform's own Request, as a real server would.
    const form = await new Request("http://fake/", {
      method: "POST",
      headers: { "content-type": String(req.headers["content-type"]) },
      body: Buffer.concat(chunks),
    }).formData();
    const file = form.get("file");
    const model = form.get("model");
    if (!(file instanceof File) || typeof model !== "string")
      return { status: 400, body: { error: { message: "file and model are required" } } };
    this.requests.push({
      path: req.url,
      model,
      fileName: file.name,
      fileBytes: file.size,
      authorization: req.headers.authorization,
    });
    if (this.status !== undefined) return { status: this.status, body: { error: { message: "refused" } } };
    return { status: 200, body: { text: this.text } };
  }
}
