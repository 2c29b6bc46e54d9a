// A loopback fake of the Ollama HTTP API (NDJSON streaming), close enough to the real server that
// the `ollama` npm package talks to it unchanged. Models "load" on use like real Ollama (see /api/ps).
import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import {
  type CompletionFormat,
  type CompletionStats,
  type FakeChatRequest,
  type FakeMessage,
  FakeServer,
  isRecord,
  type ListenOptions,
} from "./fake-server.ts";

export type {
  FakeChatRequest,
  FakeFault,
  FakeMessage,
  FakeReply,
  FakeResponder,
  StructuredReply,
  StructuredResponder,
} from "./fake-server.ts";
export { waitUntil } from "./fake-server.ts";

export const FAKE_OLLAMA_VERSION = "0.12.6";
const DEFAULT_MODELS = ["llama3.1:8b", "qwen2.5-coder:7b"];
const DEFAULT_KEEP_ALIVE_MS = 5 * 60_000;
const FOREVER = new Date("2318-01-01T00:00:00Z");
const MODIFIED_AT = "2025-01-01T00:00:00Z";
const NS_PER_MS = 1_000_000n;

export interface FakeOllamaOptions extends ListenOptions {
  /** Installed models (GET /api/tags). Default ["llama3.1:8b", "qwen2.5-coder:7b"]. */
  models?: string[];
  /** Models already loaded in memory (GET /api/ps). Default none. */
  loaded?: string[];
}

/** "llama3.1" → "llama3.1:latest", like Ollama's name resolution. */
export function normalizeModelName(name: string): string {
  return name.includes(":") ? name : `${name}:latest`;
}

interface ModelDetails {
  parent_model: string;
  format: string;
  family: string;
  families: string[];
  parameter_size: string;
  quantization_level: string;
}

function describe(name: string): { size: number; digest: string; details: ModelDetails; params: number } {
  const base = name.split(":")[0] ?? name;
  const family = /^[a-z]+/i.exec(base.split("/").pop() ?? base)?.[0]?.toLowerCase() ?? "llama";
  const billions = Number(/(\d+(?:\.\d+)?)b\b/i.exec(name)?.[1] ?? "7");
  const params = Math.round(billions * 1e9);
  return {
    size: Math.round(params * 0.6),
    digest: createHash("sha256").update(name).digest("hex"),
    params,
    details: {
      parent_model: "",
      format: "gguf",
      family,
      families: [family],
      parameter_size: `${billions.toFixed(1)}B`,
      quantization_level: "Q4_K_M",
    },
  };
}

/** keep_alive (seconds as number, or a Go duration string) → ms; null = forever; 0 = unload now. */
export function parseKeepAlive(v: unknown): number | null {
  if (v === undefined || v === null || v === "") return DEFAULT_KEEP_ALIVE_MS;
  if (typeof v === "number") return v < 0 ? null : v * 1000;
  if (typeof v !== "string") return DEFAULT_KEEP_ALIVE_MS;
  if (/^-?\d+(\.\d+)?$/.test(v)) return parseKeepAlive(Number(v));
  if (v.startsWith("-")) return null;
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  for (const m of v.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g))
    total += Number(m[1]) * (units[m[2] ?? "s"] ?? 1000);
  return total;
}

function toMessages(v: unknown): FakeMessage[] {
  if (!Array.isArray(v)) return [];
  return v.filter(isRecord).map((m) => ({
    role: typeof m.role === "string" ? m.role : "user",
    content: typeof m.content === "string" ? m.content : m.content == null ? "" : JSON.stringify(m.content),
  }));
}

const nowIso = (): string => new Date().toISOString();

export class FakeOllama extends FakeServer {
  #models: string[];
  /** Loaded model → when it unloads. */
  #loaded = new Map<string, Date>();

  private constructor(opts: FakeOllamaOptions) {
    super();
    this.#models = (opts.models ?? DEFAULT_MODELS).map(normalizeModelName);
    for (const m of opts.loaded ?? []) this.#load(normalizeModelName(m), DEFAULT_KEEP_ALIVE_MS);
  }

  static async start(opts: FakeOllamaOptions = {}): Promise<FakeOllama> {
    const fake = new FakeOllama(opts);
    await fake.listen(opts);
    return fake;
  }

  /** "http://127.0.0.1:<port>" — pass as `host` to `new Ollama({ host })`. */
  get url(): string {
    return this.origin;
  }

  /** Replaces the installed models; `loaded` (if given) replaces the loaded set. */
  setModels(models: string[], loaded?: string[]): void {
    this.#models = models.map(normalizeModelName);
    if (loaded) {
      this.#loaded.clear();
      for (const m of loaded) this.#load(normalizeModelName(m), DEFAULT_KEEP_ALIVE_MS);
    } else {
      for (const m of this.#loaded.keys()) if (!this.#models.includes(m)) this.#loaded.delete(m);
    }
  }

  #load(model: string, keepAliveMs: number | null): void {
    if (keepAliveMs === 0) this.#loaded.delete(model);
    else this.#loaded.set(model, keepAliveMs === null ? FOREVER : new Date(Date.now() + keepAliveMs));
  }

  protected errorBody(status: number, message?: string): { error: string } {
    const fallback: Record<number, string> = {
      429: "server busy, please try again.  maximum pending requests exceeded",
      500: "llama runner process has terminated: exit status 2",
    };
    return { error: message ?? fallback[status] ?? `error ${status}` };
  }

  protected handle(req: IncomingMessage, res: ServerResponse, raw: Buffer): void | Promise<void> {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    const route = `${req.method} ${path}`;
    switch (route) {
      case "GET /":
      case "HEAD /":
        return this.sendText(res, 200, "Ollama is running");
      case "GET /api/version":
        return this.sendJson(res, 200, { version: FAKE_OLLAMA_VERSION });
      case "GET /api/tags":
        return this.sendJson(res, 200, { models: this.#models.map((m) => this.#entry(m)) });
      case "GET /api/ps":
        return this.sendJson(res, 200, { models: this.#running() });
      case "POST /api/show":
        return this.#show(res, raw);
      case "POST /api/chat":
      case "POST /api/generate":
        return this.#completion(req, res, raw, path);
      default:
        return this.sendText(res, 404, "404 page not found");
    }
  }

  #entry(name: string) {
    const d = describe(name);
    return {
      name,
      model: name,
      modified_at: MODIFIED_AT,
      size: d.size,
      digest: d.digest,
      details: d.details,
    };
  }

  #running() {
    const now = Date.now();
    const out = [];
    for (const [name, expires] of this.#loaded) {
      if (expires.getTime() <= now) {
        this.#loaded.delete(name);
        continue;
      }
      const e = this.#entry(name);
      out.push({
        name: e.name,
        model: e.model,
        size: e.size,
        digest: e.digest,
        details: e.details,
        expires_at: expires.toISOString(),
        size_vram: e.size,
        context_length: 4096,
      });
    }
    return out;
  }

  #show(res: ServerResponse, raw: Buffer): void {
    const body = this.parseBody(res, raw);
    if (!body) return;
    const asked =
      typeof body.model === "string" ? body.model : typeof body.name === "string" ? body.name : "";
    const name = normalizeModelName(asked);
    if (!asked || !this.#models.includes(name)) {
      this.sendJson(res, 404, { error: `model '${asked}' not found` });
      return;
    }
    const d = describe(name);
    this.sendJson(res, 200, {
      license: "",
      modelfile: `# Modelfile generated by fake-ollama\nFROM ${name}\n`,
      parameters: "",
      template: "{{ .Prompt }}",
      details: d.details,
      model_info: {
        "general.architecture": d.details.family,
        "general.parameter_count": d.params,
        [`${d.details.family}.context_length`]: 131072,
      },
      capabilities: ["completion", "tools"],
      modified_at: MODIFIED_AT,
    });
  }

  async #completion(req: IncomingMessage, res: ServerResponse, raw: Buffer, path: string): Promise<void> {
    const body = this.parseBody(res, raw);
    if (!body) return;
    const isChat = path === "/api/chat";
    const model = typeof body.model === "string" ? body.model : "";
    const prompt = typeof body.prompt === "string" ? body.prompt : "";
    let messages = toMessages(body.messages);
    if (!isChat) {
      messages = [];
      if (typeof body.system === "string" && body.system)
        messages.push({ role: "system", content: body.system });
      if (prompt) messages.push({ role: "user", content: prompt });
    }
    const chat: FakeChatRequest = {
      path,
      model,
      messages,
      ...(isChat ? {} : { prompt }),
      stream: body.stream !== false, // Ollama streams unless told not to
      ...(isRecord(body.options) ? { options: body.options } : {}),
      ...(body.keep_alive !== undefined ? { keep_alive: body.keep_alive } : {}),
      headers: req.headers,
      body,
      ...(isRecord(body.format) ? { schema: body.format } : {}),
    };
    this.record(chat);

    if (!model) return this.sendJson(res, 400, { error: "model is required" });
    const name = normalizeModelName(model);
    if (!this.#models.includes(name)) {
      return this.sendJson(res, 404, { error: `model "${model}" not found, try pulling it first` });
    }
    const keepAlive = parseKeepAlive(body.keep_alive);
    const content = (text: string) =>
      isChat ? { message: { role: "assistant", content: text } } : { response: text };

    // Empty request = load (or, with keep_alive 0, unload) the model, like real Ollama.
    if (messages.length === 0) {
      this.#load(name, keepAlive);
      return this.sendJson(res, 200, {
        model,
        created_at: nowIso(),
        ...content(""),
        done_reason: keepAlive === 0 ? "unload" : "load",
        done: true,
      });
    }

    const final = (stats: CompletionStats) => {
      const now = process.hrtime.bigint();
      const load = NS_PER_MS;
      const promptEval = BigInt(stats.promptTokens) * 200_000n;
      const evalNs = BigInt(Math.max(1, stats.evalTokens)) * NS_PER_MS;
      const measured = now - stats.firstChunkNs;
      const evalDuration = measured > evalNs ? measured : evalNs;
      const total = now - stats.startedNs;
      const sum = load + promptEval + evalDuration;
      return {
        done: true,
        done_reason: "stop",
        ...(isChat ? {} : { context: [1, 2, 3] }),
        total_duration: Number(total > sum ? total : sum),
        load_duration: Number(load),
        prompt_eval_count: stats.promptTokens,
        prompt_eval_duration: Number(promptEval),
        eval_count: stats.evalTokens,
        eval_duration: Number(evalDuration),
      };
    };
    const line = (obj: unknown) => `${JSON.stringify(obj)}\n`;
    const format: CompletionFormat = {
      streamContentType: "application/x-ndjson",
      streamChunk: (text) => line({ model, created_at: nowIso(), ...content(text), done: false }),
      streamEnd: (stats) => line({ model, created_at: nowIso(), ...content(""), ...final(stats) }),
      whole: (text, stats) => ({ model, created_at: nowIso(), ...content(text), ...final(stats) }),
      garbageFrame: `{"model":"${model}","created_at":"${nowIso()}","message":{"role":"assis\n`,
      onDone: () => this.#load(name, keepAlive),
    };
    this.#load(name, keepAlive === 0 ? DEFAULT_KEEP_ALIVE_MS : keepAlive); // loaded while it runs
    return this.complete(res, chat, format);
  }
}
