import type { ThreadRecord } from "../../store/threads/repo.ts";
import type { JobRecord, ThreadContext, ThreadProgress, ThreadStage } from "./records.ts";

/** Where a thread stands (stage, percent done) and how long new work is likely to take. */

const ACTIVE = new Set(["pending", "queued", "running", "retrying"]);

export function threadProgress(
  thread: ThreadRecord,
  jobs: JobRecord[],
  pendingQuestions: number,
): ThreadProgress {
  const completed = jobs.filter((j) => j.status === "completed").length;
  const failed = jobs.filter((j) => j.status === "failed").length;
  const cancelled = jobs.filter((j) => j.status === "cancelled").length;
  const active = jobs.filter((j) => ACTIVE.has(j.status));
  const counted = jobs.length - cancelled;
  let stage: ThreadStage;
  if (active.some((j) => j.status === "running"))
    stage = completed > 0 || active.some((j) => j.job_sequence > 1) ? "refining" : "drafting";
  else if (active.some((j) => j.status === "retrying")) stage = "retrying";
  else if (active.length > 0) stage = "queued";
  else if (pendingQuestions > 0) stage = "waiting_for_answers";
  else if (completed > 0) stage = "done";
  else if (failed > 0) stage = "failed";
  else if (cancelled > 0) stage = "cancelled";
  else stage = "queued";
  const percent =
    active.length === 0 && completed > 0
      ? 100
      : counted <= 0
        ? 0
        : Math.round((100 * (completed + failed)) / counted);
  return {
    stage,
    percent,
    jobs_total: jobs.length,
    jobs_completed: completed,
    jobs_active: active.length,
    jobs_failed: failed,
    jobs_cancelled: cancelled,
    clarity: thread.final_clarity_score,
    drafts: thread.draft_count,
  };
}

/** Minutes until a job queued now is likely done: recent average run time × work ahead ÷ slots. */
export async function estimateMinutes(d: ThreadContext, slots = 1): Promise<number> {
  const times = await d.jobs.recentRunSeconds(20);
  const avg = times.length > 0 ? times.reduce((a, b) => a + b, 0) / times.length : 90;
  const ahead = Math.max(1, d.queue.depth());
  return Math.max(1, Math.ceil((ahead * avg) / Math.max(1, slots) / 60));
}
