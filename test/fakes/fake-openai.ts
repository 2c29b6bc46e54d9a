// A loopback fake of an OpenAI-compatible chat API (OpenAI, OpenRouter, vLLM, llama.cpp server):
// POST /v1/chat/completions (JSON or SSE), GET /v1/models, bearer-key auth, OpenAI error shape.
import { randomBytes } from "node:crypto";
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

const DEFAULT_MODELS = ["gpt-4o-mini", "meta-llama/llama-3.1-8b-instruct"];
const MODEL_CREATED = 1_700_000_000;

export interface FakeOpenAIOptions extends ListenOptions {
  /** When set, every request must carry `Authorization: Bearer <apiKey>` or gets 401. */
  apiKey?: string;
  /** Served models (GET /v1/models); other models get 404 model_not_found. */
  models?: string[];
  /**
   * What GET /v1/models shows, when it is not what is served: a gateway or proxy in front of several
   * servers lists its own routes (e.g. the local models) and still serves models it does not list.
   */
  listed?: string[];
  /** Adds `usage.cost` (USD credits, as OpenRouter reports) to every usage object. */
  reportCostUsd?: number;
}

export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

function openAIError(message: string, type: string, code: string | null = null, param: string | null = null) {
  return { error: { message, type, param, code } } satisfies OpenAIErrorBody;
}

/** OpenAI content may be a string or an array of parts ({type:"text", text}). */
function contentText(c: unknown): string {
  if (typeof c === "string") return c;
  if (Array.isArray(c)) {
    return c
      .filter(isRecord)
      .map((p) => (typeof p.text === "string" ? p.text : ""))
      .join("");
  }
  return c == null ? "" : JSON.stringify(c);
}

function toMessages(v: unknown): FakeMessage[] {
  if (!Array.isArray(v)) return [];
  return v
    .filter(isRecord)
    .map((m) => ({ role: typeof m.role === "string" ? m.role : "user", content: contentText(m.content) }));
}

/** `response_format: {type: "json_schema", json_schema: {name, schema, strict}}` → the schema. */
function jsonSchemaOf(v: unknown): { schema?: Record<string, unknown> } {
  if (!isRecord(v) || v.type !== "json_schema" || !isRecord(v.json_schema)) return {};
  const { name, schema } = v.json_schema;
  if (typeof name !== "string" || !/^[A-Za-z0-9_-]{1,64}$/.test(name) || !isRecord(schema)) return {};
  return { schema };
}

export class FakeOpenAI extends FakeServer {
  #models: string[];
  readonly #listed: string[] | undefined;
  readonly #apiKey: string | undefined;
  readonly #cost: number | undefined;

  private constructor(opts: FakeOpenAIOptions) {
    super();
    this.#models = opts.models ?? DEFAULT_MODELS;
    this.#listed = opts.listed;
    this.#apiKey = opts.apiKey;
    this.#cost = opts.reportCostUsd;
  }

  static async start(opts: FakeOpenAIOptions = {}): Promise<FakeOpenAI> {
    const fake = new FakeOpenAI(opts);
    await fake.listen(opts);
    return fake;
  }

  /** "http://127.0.0.1:<port>/v1" — the `baseURL` the `openai` package takes. */
  get url(): string {
    return `${this.origin}/v1`;
  }

  setModels(models: string[]): void {
    this.#models = [...models];
  }

  protected errorBody(status: number, message?: string): OpenAIErrorBody {
    switch (status) {
      case 429:
        return openAIError(
          message ?? "Rate limit reached for requests. Please try again later.",
          "requests",
          "rate_limit_exceeded",
        );
      case 500:
        return openAIError(
          message ?? "The server had an error while processing your request. Sorry about that!",
          "server_error",
        );
      default:
        return openAIError(
          message ?? `error ${status}`,
          status >= 500 ? "server_error" : "invalid_request_error",
        );
    }
  }

  protected handle(req: IncomingMessage, res: ServerResponse, raw: Buffer): void | Promise<void> {
    const path = new URL(req.url ?? "/", "http://x").pathname.replace(/\/+$/, "");
    if (this.#apiKey !== undefined && req.headers.authorization !== `Bearer ${this.#apiKey}`) {
      const message = req.headers.authorization
        ? "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys."
        : "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).";
      return this.sendJson(res, 401, openAIError(message, "invalid_request_error", "invalid_api_key"));
    }
    if (req.method === "POST" && path === "/v1/chat/completions") return this.#chat(req, res, raw);
    if (req.method === "GET" && path === "/v1/models") {
      return this.sendJson(res, 200, {
        object: "list",
        data: (this.#listed ?? this.#models).map((id) => this.#model(id)),
      });
    }
    if (req.method === "GET" && path.startsWith("/v1/models/")) {
      const id = decodeURIComponent(path.slice("/v1/models/".length));
      if (this.#models.includes(id)) return this.sendJson(res, 200, this.#model(id));
      return this.sendJson(res, 404, this.#modelNotFound(id));
    }
    return this.sendJson(
      res,
      404,
      openAIError(`Invalid URL (${req.method} ${path})`, "invalid_request_error"),
    );
  }

  #model(id: string) {
    return {
      id,
      object: "model",
      created: MODEL_CREATED,
      owned_by: id.includes("/") ? id.split("/")[0] : "fake",
    };
  }

  #modelNotFound(model: string) {
    return openAIError(
      `The model \`${model}\` does not exist or you do not have access to it.`,
      "invalid_request_error",
      "model_not_found",
      "model",
    );
  }

  #usage(stats: CompletionStats) {
    return {
      prompt_tokens: stats.promptTokens,
      completion_tokens: stats.evalTokens,
      total_tokens: stats.promptTokens + stats.evalTokens,
      ...(this.#cost === undefined ? {} : { cost: this.#cost }),
    };
  }

  async #chat(req: IncomingMessage, res: ServerResponse, raw: Buffer): Promise<void> {
    const body = this.parseBody(res, raw);
    if (!body) return;
    const { model: rawModel, messages: rawMessages, stream: rawStream, ...options } = body;
    const model = typeof rawModel === "string" ? rawModel : "";
    const stream = rawStream === true;
    const chat: FakeChatRequest = {
      path: "/v1/chat/completions",
      model,
      messages: toMessages(rawMessages),
      stream,
      options,
      headers: req.headers,
      body,
      ...jsonSchemaOf(body.response_format),
    };
    this.record(chat);
    if (isRecord(body.response_format) && body.response_format.type === "json_schema" && !chat.schema) {
      return this.sendJson(
        res,
        400,
        openAIError(
          "Missing required parameter: 'response_format.json_schema'.",
          "invalid_request_error",
          null,
          "response_format",
        ),
      );
    }

    if (!model) {
      return this.sendJson(
        res,
        400,
        openAIError("you must provide a model parameter", "invalid_request_error", null, "model"),
      );
    }
    if (!Array.isArray(rawMessages) || rawMessages.length === 0) {
      return this.sendJson(
        res,
        400,
        openAIError(
          "Missing required parameter: 'messages'.",
          "invalid_request_error",
          "missing_required_parameter",
          "messages",
        ),
      );
    }
    if (!this.#models.includes(model)) return this.sendJson(res, 404, this.#modelNotFound(model));

    const id = `chatcmpl-${randomBytes(12).toString("hex")}`;
    const created = Math.floor(Date.now() / 1000);
    const includeUsage = isRecord(body.stream_options) && body.stream_options.include_usage === true;
    const usageNull = includeUsage ? { usage: null } : {};
    const event = (obj: unknown) => `data: ${JSON.stringify(obj)}\n\n`;
    const chunk = (delta: Record<string, unknown>, finish: string | null) =>
      event({
        id,
        object: "chat.completion.chunk",
        created,
        model,
        system_fingerprint: "fp_fake",
        choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
        ...usageNull,
      });
    const format: CompletionFormat = {
      streamContentType: "text/event-stream; charset=utf-8",
      streamStart: () => chunk({ role: "assistant", content: "" }, null),
      streamChunk: (text) => chunk({ content: text }, null),
      streamEnd: (stats) =>
        chunk({}, "stop") +
        (includeUsage
          ? event({
              id,
              object: "chat.completion.chunk",
              created,
              model,
              system_fingerprint: "fp_fake",
              choices: [],
              usage: this.#usage(stats),
            })
          : "") +
        "data: [DONE]\n\n",
      whole: (text, stats) => ({
        id,
        object: "chat.completion",
        created,
        model,
        system_fingerprint: "fp_fake",
        choices: [
          {
            index: 0,
            message: { role: "assistant", content: text, refusal: null },
            logprobs: null,
            finish_reason: "stop",
          },
        ],
        usage: this.#usage(stats),
      }),
      garbageFrame: `data: {"id":"${id}","object":"chat.completion.chunk","choices":[{"delta":\n\n`,
    };
    return this.complete(res, chat, format);
  }
}
