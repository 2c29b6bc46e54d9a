/**
 * The one interface every backend kind implements: a dumb pipe. Prompt in, result out; no
 * routing and no retries inside a backend — the manager and the queue own those decisions.
 * Failures are thrown as HermesError with the retryable flag set right (src/errors.ts).
 */
export type BackendKind = "ollama" | "openai" | "talos";

export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
  /** Images the model should see with this message, base64 (JPEG/PNG). Only vision models read them. */
  images?: readonly string[] | undefined;
}

export interface RunRequest {
  /** Hermes job id, for logs and for agents that track work by id (Talos). */
  jobId: number | string;
  model: string;
  messages: ChatMessage[];
  /** Upper bound on generated tokens; also what the budget reserves against. */
  maxTokens?: number | undefined;
  temperature?: number | undefined;
  /** Abort the request when this many ms pass without completion. */
  timeoutMs?: number | undefined;
  /**
   * Structured output: the answer must be JSON matching this JSON schema (made from a zod schema
   * with `z.toJSONSchema`). Each kind passes it its own way (Ollama `format`, OpenAI-compatible
   * `response_format`, Talos through to its Ollama); the caller still validates the text it gets.
   */
  responseFormat?: ResponseFormat | undefined;
}

export interface ResponseFormat {
  /** A short identifier of the schema (OpenAI's json_schema.name: letters, digits, _ and -). */
  name: string;
  schema: Record<string, unknown>;
}

export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
}

export interface RunResult {
  text: string;
  model: string;
  usage: TokenUsage;
  /** Wall time of the call, ms. */
  latencyMs: number;
  /** Time to first token, ms, when the backend streams. */
  firstTokenMs?: number | undefined;
  /** Actual cost in cents when the provider reports it; otherwise the manager prices usage. */
  costCents?: number | undefined;
}

export interface RunProgress {
  /** Output tokens (or chunks, when the backend does not count tokens) so far. */
  tokens: number;
  /** Text produced so far; for a live preview. */
  textSoFar: string;
}

export type HealthState = "healthy" | "degraded" | "unhealthy" | "unknown";

export interface HealthReport {
  status: HealthState;
  latencyMs: number;
  detail?: string | undefined;
  /** Models currently loaded in memory (Ollama /api/ps), preferred because they answer fastest. */
  warmModels?: string[] | undefined;
}

export interface ModelInfo {
  name: string;
  sizeBytes?: number | undefined;
  family?: string | undefined;
  capabilities?: string[] | undefined;
}

export interface Backend {
  readonly name: string;
  readonly kind: BackendKind;
  /** True when calls cost nothing (a local or self-hosted model). */
  readonly local: boolean;
  run(request: RunRequest, signal: AbortSignal, onProgress?: (p: RunProgress) => void): Promise<RunResult>;
  health(signal?: AbortSignal): Promise<HealthReport>;
  models(signal?: AbortSignal): Promise<ModelInfo[]>;
}
