import type {
  ChatCompletionChunk,
  ChatCompletionCreateParamsStreaming,
  ChatCompletionMessageParam,
} from "openai/resources/chat/completions";
import type { RunProgress, RunRequest, RunResult } from "../backend.ts";
import { type CallGuard, type FailureContext, protocolError } from "../http/errors.ts";
import { estimateTokens } from "../http/text.ts";

/** The streamed chat-completion request of an OpenAI-compatible API, and reading its SSE answer. */

export type OpenAIProvider = "openrouter" | "openai" | "custom";

/**
 * Token limit and temperature as the provider wants them. OpenAI's reasoning-era models (o1, o3,
 * o4-mini, gpt-5…) take `max_completion_tokens` instead of `max_tokens` and reject any temperature
 * but the default 1, so it is left out for them. OpenRouter and self-hosted servers take `max_tokens`.
 */
export function generationParams(
  provider: OpenAIProvider,
  model: string,
  maxTokens: number | undefined,
  temperature: number | undefined,
): { max_tokens?: number; max_completion_tokens?: number; temperature?: number } {
  const reasoning = provider === "openai" && /^(?:openai\/)?(?:o\d|gpt-5)/i.test(model);
  const out: { max_tokens?: number; max_completion_tokens?: number; temperature?: number } = {};
  if (maxTokens !== undefined) {
    if (reasoning) out.max_completion_tokens = maxTokens;
    else out.max_tokens = maxTokens;
  }
  if (temperature !== undefined && (!reasoning || temperature === 1)) out.temperature = temperature;
  return out;
}

/** Usage as streamed in the final chunk; OpenRouter adds `cost` (USD) when asked with usage.include. */
interface StreamUsage {
  prompt_tokens?: number;
  completion_tokens?: number;
  cost?: number;
}

/** The streaming request: usage in the last chunk (and OpenRouter's cost, which it adds when asked). */
export function completionBody(
  provider: OpenAIProvider,
  request: RunRequest,
): ChatCompletionCreateParamsStreaming & { usage?: { include: boolean } } {
  return {
    model: request.model,
    messages: request.messages.map(openAIMessage),
    stream: true,
    stream_options: { include_usage: true },
    ...generationParams(provider, request.model, request.maxTokens, request.temperature),
    ...(provider === "openrouter" ? { usage: { include: true } } : {}),
    ...(request.responseFormat
      ? {
          response_format: {
            type: "json_schema" as const,
            json_schema: {
              name: request.responseFormat.name,
              schema: request.responseFormat.schema,
              strict: true,
            },
          },
        }
      : {}),
  };
}

/** A message as the chat API takes it: a user message with images becomes text and image_url parts. */
function openAIMessage(m: RunRequest["messages"][number]): ChatCompletionMessageParam {
  if (m.role !== "user" || !m.images?.length) return { role: m.role, content: m.content };
  return {
    role: "user",
    content: [
      { type: "text", text: m.content },
      ...m.images.map((b64) => ({
        type: "image_url" as const,
        image_url: { url: `data:image/jpeg;base64,${b64}` },
      })),
    ],
  };
}

/** Collects the streamed answer, reporting progress per piece; usage and cost arrive last. */
export async function readCompletionStream(
  stream: AsyncIterable<ChatCompletionChunk>,
  request: RunRequest,
  ctx: FailureContext,
  guard: CallGuard,
  started: number,
  onProgress: ((p: RunProgress) => void) | undefined,
): Promise<RunResult> {
  let text = "";
  let chunks = 0;
  let firstTokenMs: number | undefined;
  let finished = false;
  let usage: StreamUsage | undefined;
  let model = request.model;
  for await (const chunk of stream) {
    if (chunk.model) model = chunk.model;
    if (chunk.usage) usage = chunk.usage as StreamUsage;
    const choice = chunk.choices[0]; // the usage chunk has none
    const piece = choice?.delta?.content ?? "";
    if (piece) {
      firstTokenMs ??= performance.now() - started;
      text += piece;
      chunks++;
      guard.progress(onProgress, { tokens: chunks, textSoFar: text });
    }
    if (choice?.finish_reason) finished = true;
  }
  // The package ends a stream quietly when it is aborted; the guard knows whether it was.
  if (guard.signal.aborted) throw guard.signal.reason;
  if (!finished && !usage) throw protocolError(ctx, "stream ended early");
  return resultOf(request, text, model, usage, started, firstTokenMs);
}

function resultOf(
  request: RunRequest,
  text: string,
  model: string,
  usage: StreamUsage | undefined,
  started: number,
  firstTokenMs: number | undefined,
): RunResult {
  const cost = typeof usage?.cost === "number" && Number.isFinite(usage.cost) ? usage.cost : undefined;
  return {
    text,
    model,
    usage: {
      inputTokens: usage?.prompt_tokens ?? estimateTokens(request.messages.map((m) => m.content).join("\n")),
      outputTokens: usage?.completion_tokens ?? estimateTokens(text),
    },
    latencyMs: performance.now() - started,
    firstTokenMs,
    costCents: cost === undefined ? undefined : cost * 100,
  };
}
