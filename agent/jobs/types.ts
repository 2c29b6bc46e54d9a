import { createHash } from "node:crypto";
import type { AgentClock, TimerHandle } from "../agent-clock.ts";
import type { ChatPort } from "../ollama.ts";
import type {
  ExecuteOptions,
  ExecuteRequest,
  ExecuteResponse,
  JobError,
  JobResult,
  JobStatus,
  TalosMessage,
} from "../protocol.ts";

/** A finished job, handed to `onFinished` (the result log). */
export interface FinishedJob {
  job_id: string;
  status: JobStatus;
  model: string;
  created_at: string;
  finished_at: string;
  tokens: number;
  error?: JobError | undefined;
  result?: JobResult | undefined;
}

export interface JobManagerOptions {
  ollama: ChatPort;
  maxConcurrent: number;
  jobTimeoutMs: number;
  resultTtlMs: number;
  maxResults: number;
  /** How long a finished job stays after a status call first saw it finished (default 60 s). */
  fetchedGraceMs?: number;
  clock?: AgentClock;
  onFinished?: (job: FinishedJob) => void;
}

export type SubmitOutcome =
  /** A new job started (202). */
  | { kind: "accepted"; response: ExecuteResponse }
  /** The same job_id again: the job that already exists (200). */
  | { kind: "existing"; response: ExecuteResponse }
  /** Every slot taken (503 + Retry-After). */
  | { kind: "busy"; retryAfter: number; message: string }
  /** The job_id is in use by a different request (409). */
  | { kind: "conflict"; message: string }
  /** The agent is stopping (503). */
  | { kind: "closing"; retryAfter: number; message: string };

/** One job held by the agent, running or finished. */
export interface Job {
  id: string;
  fingerprint: string;
  model: string;
  messages: TalosMessage[];
  options: Record<string, unknown> | undefined;
  keepAlive: string | number | undefined;
  /** Structured output: the JSON schema Ollama constrains the answer to (`format`). */
  format: Record<string, unknown> | undefined;
  numPredict: number | undefined;
  timeoutMs: number;
  status: JobStatus;
  createdAt: number;
  startedAt: number;
  firstTokenAt: number | undefined;
  finishedAt: number | undefined;
  fetchedAt: number | undefined;
  tokens: number;
  text: string;
  error: JobError | undefined;
  result: JobResult | undefined;
  controller: AbortController;
  timer: TimerHandle | undefined;
  /** Settles when the Ollama call is over (after an abort: once the stream closed). */
  done: Promise<void>;
}

/** The request's conversation: `prompt` is one user message. */
export function messagesOf(req: ExecuteRequest): TalosMessage[] {
  return req.messages ?? [{ role: "user", content: req.prompt ?? "" }];
}

/** Same model, conversation and options → same fingerprint: the same job asked for again. */
export function fingerprint(req: ExecuteRequest): string {
  const canonical = JSON.stringify([req.model, messagesOf(req), req.options ?? {}, req.format ?? null]);
  return createHash("sha256").update(canonical).digest("hex");
}

/** Ollama's options without keep_alive, which Ollama takes beside them. */
export function splitOptions(options: ExecuteOptions | undefined): {
  options: Record<string, unknown> | undefined;
  keepAlive: string | number | undefined;
} {
  if (!options) return { options: undefined, keepAlive: undefined };
  const { keep_alive, ...rest } = options;
  return { options: Object.keys(rest).length > 0 ? rest : undefined, keepAlive: keep_alive };
}
