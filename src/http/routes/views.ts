import type { Assumption, QuestionView } from "../../engine/conversation/types.ts";
import type { JobRecord, ThreadRecord } from "../../engine/threads/service.ts";
import { downloadPath, resultPath } from "./context.ts";

/** How threads, jobs and questions look in API responses (snake_case, stable). */

export function threadView(t: ThreadRecord) {
  return {
    thread_id: t.uuid,
    short_id: t.uuid.slice(0, 8),
    title: t.title,
    status: t.status,
    idea_type: t.idea_type,
    source: t.source,
    priority: t.priority,
    created_at: t.created_date,
    last_active: t.last_active,
    completed_at: t.completed_date,
  };
}

export function jobView(t: ThreadRecord, j: JobRecord) {
  const done = j.status === "completed";
  return {
    job_id: j.id,
    draft: j.job_sequence,
    kind: j.job_subtype,
    status: j.status,
    backend: j.backend_used,
    model: j.model_used,
    queued_at: j.created_date ?? j.scheduled_date,
    started_at: j.started_date,
    completed_at: j.completed_date,
    retry_count: j.retry_count,
    next_attempt_at: j.status === "retrying" ? j.scheduled_date : null,
    error: j.status === "failed" || j.status === "retrying" ? j.error_message : null,
    summary: done ? j.result_summary : null,
    result_url: resultPath(t.uuid, j.id),
    download_url: done && j.full_result !== null ? downloadPath(t.uuid, j.id) : null,
  };
}

/** An assumption from the user's earlier conversations, as the API shows it (correctable by slot). */
export function assumptionView(a: Assumption) {
  return {
    slot: a.slot,
    label: a.label,
    value: a.value,
    text: `Assumed from earlier — ${a.label}: ${a.value}`,
  };
}

export function questionFromPort(q: QuestionView) {
  return {
    question_id: q.id,
    position: q.position,
    slot: q.slot,
    text: q.text,
    suggestions: q.suggestions,
  };
}
