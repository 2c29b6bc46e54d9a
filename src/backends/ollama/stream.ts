import type { AbortableAsyncIterator, ChatResponse } from "ollama";
import type { RunProgress, RunRequest, RunResult } from "../backend.ts";
import { type CallGuard, type FailureContext, protocolError } from "../http/errors.ts";
import { estimateTokens } from "../http/text.ts";

/** Reading Ollama's streamed /api/chat answer (NDJSON), and checking each line of it. */

/** The chat request's generation options, in Ollama's names. */
export function chatOptions(request: RunRequest): { num_predict?: number; temperature?: number } {
  const options: { num_predict?: number; temperature?: number } = {};
  if (request.maxTokens !== undefined) options.num_predict = request.maxTokens;
  if (request.temperature !== undefined) options.temperature = request.temperature;
  return options;
}

/** Collects the streamed answer, reporting progress per piece; the final `done` part carries usage. */
export async function readChatStream(
  stream: AbortableAsyncIterator<ChatResponse>,
  request: RunRequest,
  ctx: FailureContext,
  guard: CallGuard,
  started: number,
  onProgress: ((p: RunProgress) => void) | undefined,
): Promise<RunResult> {
  let text = "";
  let chunks = 0;
  let firstTokenMs: number | undefined;
  let final: ChatResponse | undefined;
  for await (const part of stream) {
    const piece = part.message?.content ?? "";
    if (piece) {
      firstTokenMs ??= performance.now() - started;
      text += piece;
      chunks++;
      guard.progress(onProgress, { tokens: chunks, textSoFar: text });
    }
    if (part.done) final = part;
  }
  if (!final) throw protocolError(ctx, "stream ended early");
  return {
    text,
    model: final.model || request.model,
    usage: {
      inputTokens:
        final.prompt_eval_count ?? estimateTokens(request.messages.map((m) => m.content).join("\n")),
      outputTokens: final.eval_count ?? chunks,
    },
    latencyMs: performance.now() - started,
    firstTokenMs,
  };
}

/** Whether one line of the NDJSON stream is JSON (blank lines are allowed between them). */
export function validJsonLine(line: string): boolean {
  if (line.trim() === "") return true;
  try {
    JSON.parse(line);
    return true;
  } catch {
    return false;
  }
}
