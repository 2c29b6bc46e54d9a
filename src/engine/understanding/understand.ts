import type { ChatMessage, ResponseFormat } from "../../backends/backend.ts";
import type { BackendManager } from "../../backends/manager/manager.ts";
import type { Clock } from "../../clock.ts";
import type { SystemConfig } from "../../config/system-config.ts";
import {
  parseUnderstanding,
  UNDERSTANDING_PROMPT,
  type Understanding,
  understandingFormat,
} from "./schema.ts";

/**
 * The model-assisted analysis of one idea: one structured-output call on
 * hermes.classification.model, under a deadline (hermes.classification.deadline_ms). The caller
 * asks its first question either way: past the deadline, on an error or on output that is not the
 * asked-for JSON, the heuristics stand and the fallback is counted (GET /metrics). The call runs
 * beside the job slots, so draft 1, queued before it, never waits on it.
 */

/** How one analysis ended: "model" when its answer is used; otherwise why the heuristics stand. */
export type UnderstandingOutcome = "model" | "timeout" | "malformed" | "error" | "disabled";
export const UNDERSTANDING_OUTCOMES: readonly UnderstandingOutcome[] = [
  "model",
  "timeout",
  "malformed",
  "error",
  "disabled",
];

/** Outcomes since start, for /metrics (counters: a restart starts them at 0, as Prometheus expects). */
export class UnderstandingCounters {
  readonly #counts = new Map<UnderstandingOutcome, number>();

  record(outcome: UnderstandingOutcome): void {
    this.#counts.set(outcome, (this.#counts.get(outcome) ?? 0) + 1);
  }

  snapshot(): Record<UnderstandingOutcome, number> {
    return Object.fromEntries(UNDERSTANDING_OUTCOMES.map((o) => [o, this.#counts.get(o) ?? 0])) as Record<
      UnderstandingOutcome,
      number
    >;
  }
}

export interface UnderstandDeps {
  backends: Pick<BackendManager, "execute">;
  config: Pick<SystemConfig, "bool" | "number" | "get">;
  clock: Clock;
  counters: UnderstandingCounters;
  log?: { warn(obj: object, msg: string): void };
}

export interface UnderstandRequest {
  idea: string;
  threadId: number;
  /** A guest's idea stays on local backends whatever the setting says. */
  localOnly?: boolean;
}

/** Output cap of the call: the JSON for five slots is ~600 tokens. */
const MAX_TOKENS = 1200;

/** The model's understanding of the idea, or undefined (and the reason counted) when the heuristics must stand. */
export function understandIdea(
  d: UnderstandDeps,
  req: UnderstandRequest,
): Promise<Understanding | undefined> {
  return structuredCall(d, {
    jobType: "understanding",
    threadId: req.threadId,
    localOnly: req.localOnly,
    messages: [
      { role: "system", content: UNDERSTANDING_PROMPT },
      { role: "user", content: req.idea },
    ],
    format: understandingFormat(),
    parse: parseUnderstanding,
  });
}

export interface StructuredCall<T> {
  /** What the call is for (backend statistics and selection history). */
  jobType: string;
  threadId?: number | undefined;
  localOnly?: boolean | undefined;
  messages: ChatMessage[];
  format: ResponseFormat;
  /** The checked answer, or undefined when the text is not the asked-for JSON. */
  parse: (text: string) => T | undefined;
  maxTokens?: number;
}

/** Whether the model's help is on (hermes.classification.enable_llm): off, no structured call is made. */
export function modelAssistsOn(config: Pick<SystemConfig, "bool">): boolean {
  return config.bool("hermes.classification.enable_llm");
}

/**
 * One structured-output call on hermes.classification.model within the deadline, beside the job
 * slots, on local backends unless hermes.classification.local_only is off. Undefined (and the reason
 * counted) when turned off, late, failed or malformed: the caller's heuristics stand.
 */
export async function structuredCall<T>(d: UnderstandDeps, call: StructuredCall<T>): Promise<T | undefined> {
  if (!modelAssistsOn(d.config)) {
    d.counters.record("disabled");
    return undefined;
  }
  const outcome = await withDeadline(d, d.config.number("hermes.classification.deadline_ms"), (signal) =>
    d.backends.execute(
      {
        jobId: 0,
        jobType: call.jobType,
        threadId: call.threadId,
        model: d.config.get("hermes.classification.model"),
        messages: call.messages,
        maxTokens: call.maxTokens ?? MAX_TOKENS,
        temperature: 0.2,
        localOnly: call.localOnly || d.config.bool("hermes.classification.local_only"),
        responseFormat: call.format,
        beside: true,
      },
      signal,
    ),
  );
  if (outcome.kind !== "done") {
    d.counters.record(outcome.kind);
    if (outcome.kind === "error")
      d.log?.warn({ err: String(outcome.error), jobType: call.jobType }, "structured model call failed");
    return undefined;
  }
  const parsed = call.parse(outcome.value.text);
  d.counters.record(parsed === undefined ? "malformed" : "model");
  return parsed;
}

type Raced<T> = { kind: "done"; value: T } | { kind: "timeout" } | { kind: "error"; error: unknown };

/**
 * Runs `work` until the clock reaches the deadline; then aborts it and stops waiting (a call that
 * ignores the abort cannot hold the caller).
 */
async function withDeadline<T>(
  d: Pick<UnderstandDeps, "clock">,
  ms: number,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<Raced<T>> {
  const controller = new AbortController();
  let timer: ReturnType<Clock["setTimeout"]> | undefined;
  const deadline = new Promise<Raced<T>>((resolve) => {
    timer = d.clock.setTimeout(() => resolve({ kind: "timeout" }), ms);
  });
  const call = work(controller.signal).then(
    (value): Raced<T> => ({ kind: "done", value }),
    (error: unknown): Raced<T> => ({ kind: "error", error }),
  );
  const result = await Promise.race([call, deadline]);
  if (timer) d.clock.clearTimeout(timer);
  if (result.kind === "timeout") controller.abort(new Error("idea analysis deadline passed"));
  return result;
}
