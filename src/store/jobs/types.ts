/** The queue's row and input shapes (the jobs table is the queue; see repo.ts). */
export type JobStatus = "pending" | "queued" | "running" | "completed" | "failed" | "retrying" | "cancelled";
export const FINAL_STATUSES: ReadonlySet<JobStatus> = new Set(["completed", "failed", "cancelled"]);

export interface QueueJob {
  id: number;
  thread_id: number;
  parent_job_id: number | null;
  job_sequence: number;
  job_type: string;
  job_subtype: string | null;
  status: JobStatus;
  priority: number;
  prompt_template_used: string | null;
  prompt_variables: string | null;
  requested_backend: string | null;
  backend_used: string | null;
  model_used: string | null;
  retry_count: number;
  max_retries: number;
  retry_reasons: string | null;
  recovery_strategy: string | null;
  error_message: string | null;
  dependencies: string | null;
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
}

export interface NewJob {
  threadId: number;
  parentJobId?: number | null;
  jobSequence?: number;
  jobType: string;
  jobSubtype?: string | null;
  priority: number;
  promptTemplate?: string | null;
  promptVariables?: unknown;
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
