import { z } from "zod";
import { parseOptionalJsonColumn } from "../json-column.ts";
import type { JobRow } from "../schema.ts";
import type { Job, JobStatus } from "./types.ts";

/** Row → Job: the only place a job's JSON columns are parsed. */

const PromptVariablesSchema = z.record(z.string(), z.unknown());
const DependenciesSchema = z.array(z.number().int());
const RetryReasonsSchema = z.array(z.string());

/** The columns a Job is read from (what `SELECT *` returns; extra columns are ignored). */
export type JobRowFields = Pick<JobRow, keyof Job>;

/**
 * The columns a Job is read from, for `RETURNING` and `SELECT`: the table has ~50 columns, and
 * each one read costs a property on a row object that toJob then drops.
 */
export const JOB_COLUMNS = `id, thread_id, parent_job_id, job_sequence, job_type, job_subtype, status, priority,
  prompt_template_used, prompt_variables, requested_backend, backend_used, model_used, retry_count, max_retries,
  retry_reasons, recovery_strategy, error_message, dependencies, scheduled_date, started_date, completed_date,
  created_date, attempt, lease_owner, lease_expires_at, cancel_requested, user_id, full_result, result_summary,
  cost_cents, execution_time_seconds, user_feedback`;

const at = (column: string, rowId: number) => ({ table: "jobs", column, rowId });

export function toJob(row: JobRowFields): Job {
  return {
    id: row.id,
    thread_id: row.thread_id,
    parent_job_id: row.parent_job_id,
    job_sequence: row.job_sequence,
    job_type: row.job_type,
    job_subtype: row.job_subtype,
    status: row.status as JobStatus,
    priority: row.priority,
    prompt_template_used: row.prompt_template_used,
    prompt_variables:
      row.prompt_variables === null
        ? null
        : (parseOptionalJsonColumn(
            PromptVariablesSchema,
            row.prompt_variables,
            at("prompt_variables", row.id),
          ) ?? null),
    requested_backend: row.requested_backend,
    backend_used: row.backend_used,
    model_used: row.model_used,
    retry_count: row.retry_count,
    max_retries: row.max_retries,
    retry_reasons:
      row.retry_reasons === null
        ? []
        : (parseOptionalJsonColumn(RetryReasonsSchema, row.retry_reasons, at("retry_reasons", row.id)) ?? []),
    recovery_strategy: row.recovery_strategy,
    error_message: row.error_message,
    dependencies:
      row.dependencies === null
        ? []
        : (parseOptionalJsonColumn(DependenciesSchema, row.dependencies, at("dependencies", row.id)) ?? []),
    scheduled_date: row.scheduled_date,
    started_date: row.started_date,
    completed_date: row.completed_date,
    created_date: row.created_date,
    attempt: row.attempt,
    lease_owner: row.lease_owner,
    lease_expires_at: row.lease_expires_at,
    cancel_requested: row.cancel_requested,
    user_id: row.user_id,
    full_result: row.full_result,
    result_summary: row.result_summary,
    cost_cents: row.cost_cents,
    execution_time_seconds: row.execution_time_seconds,
    user_feedback: row.user_feedback,
  };
}

/** What a job's prompt variables are stored as. */
export function promptVariablesColumn(vars: Record<string, unknown> | undefined): string | null {
  return vars === undefined ? null : JSON.stringify(vars);
}
