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

/** What reading a call's stream needs besides the stream: whose it is, its guard, its start. */
export interface StreamCall {
  ctx: FailureContext;
  guard: CallGuard;
  started: number;
  /** The object lines the transport let through (ndjsonLineShape): one part is due for each. */
  lines: () => number;
}

/** Collects the streamed answer, reporting progress per piece; the final `done` part carries usage. */
export async function readChatStream(
  stream: AbortableAsyncIterator<ChatResponse>,
  request: RunRequest,
  call: StreamCall,
  onProgress: ((p: RunProgress) => void) | undefined,
): Promise<RunResult> {
  const { ctx, guard, started } = call;
  let text = "";
  let chunks = 0;
  let parts = 0;
  let firstTokenMs: number | undefined;
  let final: ChatResponse | undefined;
  for await (const part of stream) {
    parts++;
    const piece = part.message?.content ?? "";
    if (piece) {
      firstTokenMs ??= performance.now() - started;
      text += piece;
      chunks++;
      guard.progress(onProgress, { tokens: chunks, textSoFar: text });
    }
    if (part.done) final = part;
  }
  // The package skips a line that is not JSON (with a console warning): a part is missing then.
  if (parts < call.lines()) throw malformedLine(ctx);
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

export const malformedLine = (ctx: FailureContext) => protocolError(ctx, "malformed JSON line in the stream");

/**
 * One line of the NDJSON stream by its ends: blank (allowed between lines), an object ({…}), or
 * bad. The package parses every line itself, so parsing here too cost a second JSON.parse per
 * streamed piece; a line cut short or not JSON at all fails here, as it arrives, and one that only
 * looks like an object is caught by readChatStream's count of the parts it got.
 */
export function ndjsonLineShape(line: string): "blank" | "object" | "bad" {
  let first = 0;
  let last = line.length - 1;
  while (first <= last && isSpace(line.charCodeAt(first))) first++;
  if (first > last) return "blank";
  while (isSpace(line.charCodeAt(last))) last--;
  return line.charCodeAt(first) === 0x7b && line.charCodeAt(last) === 0x7d ? "object" : "bad";
}

const isSpace = (c: number) => c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a;
