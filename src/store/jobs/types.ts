/** The job domain type, its input and the queue's transition fields (the jobs table is the queue; see repo.ts). */
export type JobStatus = "pending" | "queued" | "running" | "completed" | "failed" | "retrying" | "cancelled";
export const FINAL_STATUSES: ReadonlySet<JobStatus> = new Set(["completed", "failed", "cancelled"]);

/**
 * A job as the rest of Hermes sees it: the one job type (queue, engine, bot and HTTP all use it).
 * Field names follow the columns; JSON columns arrive parsed and checked (rows.ts), so nobody
 * outside the store parses a job's JSON.
 */
export interface Job {
  id: number;
  thread_id: number;
  parent_job_id: number | null;
  job_sequence: number;
  job_type: string;
  job_subtype: string | null;
  status: JobStatus;
  priority: number;
  prompt_template_used: string | null;
  /** The template's variables as queued (values may be strings, numbers, objects). */
  prompt_variables: PromptVariables | null;
  requested_backend: string | null;
  backend_used: string | null;
  model_used: string | null;
  retry_count: number;
  max_retries: number;
  /** One reason per retry so far, oldest first. */
  retry_reasons: string[];
  recovery_strategy: string | null;
  error_message: string | null;
  /** Ids of the jobs this one waits for. */
  dependencies: number[];
  scheduled_date: string;
  started_date: string | null;
  completed_date: string | null;
  created_date: string | null;
  attempt: number;
  lease_owner: string | null;
  lease_expires_at: string | null;
  cancel_requested: number;
  user_id: string | null;
  full_result: string | null;
  result_summary: string | null;
  cost_cents: number;
  execution_time_seconds: number;
  /** The user's rating 1–5, when rated. */
  user_feedback: number | null;
}

export type PromptVariables = Record<string, unknown>;

/** What it takes to queue a job (JobsRepo.enqueue). */
export interface NewJob {
  threadId: number;
  parentJobId?: number | null;
  jobSequence?: number;
  jobType: string;
  jobSubtype?: string | null;
  priority: number;
  promptTemplate?: string | null;
  promptVariables?: PromptVariables;
  requestedBackend?: string | null;
  maxRetries?: number;
  dependencies?: number[];
  userId?: string | null;
  requiredClarity?: number;
  achievedClarity?: number;
}

export interface CompletionFields {
  fullResult: string;
  resultSummary: string;
  backendUsed: string;
  modelUsed: string;
  costCents: number;
  executionSeconds: number;
  processingSeconds: number;
  queueSeconds: number;
  backendConfidence?: number;
  modelConfidence?: number | undefined;
  fallbackUsed?: boolean;
}

export interface RetryFields {
  at: string;
  reason: string;
  errorMessage: string;
  strategy: string;
}
