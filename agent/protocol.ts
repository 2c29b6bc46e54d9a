/**
 * The Talos wire format: every request and response body between Hermes and the Talos agent, as
 * zod schemas with their inferred types. Both ends import this file (agent/server.ts validates what
 * it receives, src/backends/talos/ validates what it gets back), so it depends on zod only.
 *
 * Requests are strict (an unknown field is a 400 naming it: a typo should not be silently dropped);
 * responses are lenient (a newer agent may add fields an older Hermes does not know yet).
 */
import { z } from "zod";

/** Version of the agent program, reported by /agent/health. */
export const TALOS_VERSION = "0.1.0";

/** Largest request body the agent reads; a bigger one is answered 413. */
export const MAX_BODY_BYTES = 1024 * 1024;

const JOB_STATUSES = ["queued", "running", "completed", "failed", "cancelled", "timeout"] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
export const FINAL_STATUSES: ReadonlySet<JobStatus> = new Set([
  "completed",
  "failed",
  "cancelled",
  "timeout",
]);
export const isFinalStatus = (s: JobStatus): boolean => FINAL_STATUSES.has(s);

/**
 * Codes in `error.code` of a failed/timed-out/cancelled job and of error bodies. Responses accept any
 * string (forward compatibility); these are the ones this version produces.
 */
const TALOS_ERROR_CODES = [
  // request-level (error bodies)
  "UNAUTHORIZED",
  "INVALID_INPUT",
  "NOT_FOUND",
  "PAYLOAD_TOO_LARGE",
  "CONFLICT",
  /** Every job slot is taken. */
  "BUSY",
  /** CPU or memory above the configured limits. */
  "OVERLOADED",
  "INTERNAL",
  // job-level (status.error)
  "TIMEOUT",
  "CANCELLED",
  /** The agent is stopping; the job may be submitted again once it is back. */
  "SHUTDOWN",
  "MODEL_NOT_FOUND",
  "OLLAMA_UNAVAILABLE",
  "OLLAMA_BUSY",
  "OLLAMA_ERROR",
] as const;
export type TalosErrorCode = (typeof TALOS_ERROR_CODES)[number];

// ---- requests ----------------------------------------------------------------------------------

/** Hermes job ids are numbers; anything URL-safe up to 128 characters is accepted. */
export const JobIdSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9._:-]+$/, "job_id may contain letters, digits and . _ : - only");

const MessageSchema = z.strictObject({
  role: z.enum(["system", "user", "assistant"]),
  content: z.string(),
});
export type TalosMessage = z.infer<typeof MessageSchema>;

/** Ollama keep_alive: seconds, or a duration like "10m"; negative = keep loaded forever. */
const KeepAliveSchema = z.union([z.number(), z.string().regex(/^-?\d+(\.\d+)?(ms|s|m|h)?$/)]);

/** Ollama generation options (the common ones) plus keep_alive, which the agent passes on top-level. */
const ExecuteOptionsSchema = z.strictObject({
  temperature: z.number().min(0).max(2).optional(),
  num_predict: z.number().int().min(-2).max(1_000_000).optional(),
  num_ctx: z.number().int().positive().max(10_000_000).optional(),
  top_p: z.number().min(0).max(1).optional(),
  top_k: z.number().int().min(0).optional(),
  min_p: z.number().min(0).max(1).optional(),
  seed: z.number().int().optional(),
  stop: z.array(z.string()).max(16).optional(),
  repeat_penalty: z.number().optional(),
  presence_penalty: z.number().optional(),
  frequency_penalty: z.number().optional(),
  keep_alive: KeepAliveSchema.optional(),
});
export type ExecuteOptions = z.infer<typeof ExecuteOptionsSchema>;

/** POST /agent/execute. Exactly one of `messages` and `prompt`. */
export const ExecuteRequestSchema = z
  .strictObject({
    job_id: JobIdSchema,
    model: z.string().min(1).max(200),
    messages: z.array(MessageSchema).min(1).optional(),
    prompt: z.string().min(1).optional(),
    options: ExecuteOptionsSchema.optional(),
    /** Structured output: a JSON schema the answer must match, passed to Ollama as `format`. */
    format: z.record(z.string(), z.unknown()).optional(),
    /** Deadline of this job; the agent caps it at TALOS_JOB_TIMEOUT_SECONDS. */
    timeout_seconds: z
      .number()
      .positive()
      .max(7 * 24 * 3600)
      .optional(),
  })
  .superRefine((req, ctx) => {
    if (req.messages === undefined && req.prompt === undefined) {
      ctx.addIssue({ code: "custom", path: ["messages"], message: "either messages or prompt is required" });
    } else if (req.messages !== undefined && req.prompt !== undefined) {
      ctx.addIssue({ code: "custom", path: ["prompt"], message: "give messages or prompt, not both" });
    }
  });
export type ExecuteRequest = z.infer<typeof ExecuteRequestSchema>;

// ---- responses ---------------------------------------------------------------------------------

const StatusSchema = z.enum(JOB_STATUSES);

/** 202 (new job) or 200 (the same job_id again: the existing job, no second run). */
export const ExecuteResponseSchema = z.object({
  job_id: z.string(),
  status: StatusSchema,
  /** Seconds the job is expected to take, from recent jobs on the same model; null when unknown. */
  estimated_time: z.number().nonnegative().nullable(),
});
export type ExecuteResponse = z.infer<typeof ExecuteResponseSchema>;

const JobErrorSchema = z.object({
  code: z.string(),
  message: z.string(),
  /** Seconds Ollama asked callers to wait (its Retry-After on 429/503), passed on to Hermes. */
  retry_after: z.number().nonnegative().optional(),
});
export type JobError = z.infer<typeof JobErrorSchema>;

const UsageSchema = z.object({
  input_tokens: z.number().int().nonnegative(),
  output_tokens: z.number().int().nonnegative(),
});

const JobResultSchema = z.object({
  text: z.string(),
  model: z.string(),
  usage: UsageSchema,
  /** Ollama call, start to last token. */
  latency_ms: z.number().nonnegative(),
  first_token_ms: z.number().nonnegative().optional(),
});
export type JobResult = z.infer<typeof JobResultSchema>;

/** GET /agent/status/:job_id[?text_from=N]. */
export const StatusResponseSchema = z.object({
  job_id: z.string(),
  status: StatusSchema,
  model: z.string().optional(),
  progress: z.object({
    /** Chunks (≈ tokens) streamed so far. */
    tokens: z.number().int().nonnegative(),
    elapsed_ms: z.number().nonnegative(),
    /** Length (UTF-16 code units) of the text produced so far. */
    chars: z.number().int().nonnegative().optional(),
    /** With ?text_from=N: the text produced so far from offset N (a live preview without resending). */
    text: z.string().optional(),
  }),
  eta_seconds: z.number().nonnegative().nullable(),
  error: JobErrorSchema.optional(),
  result: JobResultSchema.optional(),
});
export type StatusResponse = z.infer<typeof StatusResponseSchema>;

/** POST /agent/cancel/:job_id. `cancelled` is false when the job had already finished. */
export const CancelResponseSchema = z.object({
  job_id: z.string(),
  cancelled: z.boolean(),
  status: StatusSchema.optional(),
  cleanup_actions: z.array(z.string()),
});
export type CancelResponse = z.infer<typeof CancelResponseSchema>;

export const HealthResponseSchema = z.object({
  /** "degraded": the agent answers but Ollama does not, or the machine is above its limits. */
  status: z.enum(["ok", "degraded"]),
  version: z.string(),
  uptime_s: z.number().nonnegative(),
  /** Why the status is degraded. */
  reasons: z.array(z.string()).optional(),
  resources: z.object({
    cpu_percent: z.number(),
    memory_percent: z.number(),
    load_avg: z.array(z.number()),
    disk_free_bytes: z.number(),
    disk_percent: z.number(),
  }),
  ollama: z.object({
    reachable: z.boolean(),
    url: z.string(),
    latency_ms: z.number().nonnegative(),
    version: z.string().optional(),
    /** Models loaded in memory right now (Ollama /api/ps): they answer fastest. */
    loaded_models: z.array(z.string()).optional(),
  }),
  jobs: z.object({
    running: z.number().int().nonnegative(),
    queued: z.number().int().nonnegative(),
    max_concurrent: z.number().int().positive(),
  }),
});
export type HealthResponse = z.infer<typeof HealthResponseSchema>;

const ModelEntrySchema = z.object({
  name: z.string(),
  size_bytes: z.number().nonnegative(),
  family: z.string(),
  parameter_size: z.string(),
  capabilities: z.array(z.string()),
});
export type ModelEntry = z.infer<typeof ModelEntrySchema>;

export const ModelsResponseSchema = z.object({ models: z.array(ModelEntrySchema) });
export type ModelsResponse = z.infer<typeof ModelsResponseSchema>;

/** Every non-2xx answer. 503s also carry a Retry-After header with `retry_after`. */
export const ErrorBodySchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    /** The offending field of a 400, as a dotted path ("options.temperature", "messages.0.role"). */
    field: z.string().optional(),
    /** Seconds after which trying again makes sense. */
    retry_after: z.number().nonnegative().optional(),
  }),
});
export type ErrorBody = z.infer<typeof ErrorBodySchema>;
