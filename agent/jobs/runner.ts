import type { AgentClock } from "../agent-clock.ts";
import { type ChatPort, classifyOllamaError } from "../ollama.ts";
import { isFinalStatus } from "../protocol.ts";
import type { JobEstimates } from "./estimates.ts";
import type { JobTable } from "./table.ts";
import type { Job } from "./types.ts";

export interface JobRunnerDeps {
  ollama: ChatPort;
  clock: AgentClock;
  table: JobTable;
  estimates: JobEstimates;
}

/**
 * Runs one job: streams the answer from Ollama into the job (text, tokens, first-token time) and
 * finishes it as completed or failed. A job cancelled or timed out meanwhile is left as it is.
 */
export async function runJob(deps: JobRunnerDeps, job: Job): Promise<void> {
  const signal = job.controller.signal;
  let final: { model?: string | undefined; promptTokens?: number; evalTokens?: number } | undefined;
  try {
    const stream = deps.ollama.chat(
      {
        model: job.model,
        messages: job.messages,
        options: job.options,
        keepAlive: job.keepAlive,
        format: job.format,
      },
      signal,
    );
    for await (const part of stream) {
      if (isFinalStatus(job.status)) return;
      if (part.text) {
        job.firstTokenAt ??= deps.clock.now();
        job.text += part.text;
        job.tokens++;
      }
      if (part.done) {
        final = { model: part.model, promptTokens: part.promptTokens, evalTokens: part.evalTokens };
        break;
      }
    }
    if (isFinalStatus(job.status)) return;
    if (!final) throw new Error("Ollama's stream ended before its final message");
    const now = deps.clock.now();
    const latency = Math.max(0, now - job.startedAt);
    deps.estimates.remember(job.model, latency);
    deps.table.finish(job, "completed", {
      result: {
        text: job.text,
        model: final.model || job.model,
        usage: {
          input_tokens: final.promptTokens ?? 0,
          output_tokens: final.evalTokens ?? job.tokens,
        },
        latency_ms: latency,
        ...(job.firstTokenAt === undefined
          ? {}
          : { first_token_ms: Math.max(0, job.firstTokenAt - job.startedAt) }),
      },
    });
  } catch (err) {
    if (isFinalStatus(job.status)) return; // cancelled or timed out: the abort made this error
    deps.table.finish(job, "failed", { error: classifyOllamaError(err) });
  }
}
