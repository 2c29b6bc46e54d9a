import type { Job } from "../store/jobs/types.ts";
import type { DraftReady } from "./ports.ts";

/**
 * The domain event "a draft is ready", built from the completed job: transports show it as it is
 * (they never read the job's prompt variables to explain a draft).
 */
export function draftReady(job: Job): DraftReady {
  return {
    threadId: job.thread_id,
    jobId: job.id,
    draftNumber: job.job_sequence,
    text: job.full_result ?? "",
    backend: job.backend_used ?? undefined,
    model: job.model_used ?? undefined,
    whatChanged: whatChanged(job),
  };
}

/** One line on what a later draft changed, from the job's own prompt variables. */
export function whatChanged(
  job: Pick<Job, "job_sequence" | "job_subtype" | "prompt_variables">,
): string | undefined {
  const vars = job.prompt_variables;
  if (job.job_sequence < 2 || !vars) return undefined;
  const oneLine = (v: unknown) =>
    String(v ?? "")
      .replace(/\s+/g, " ")
      .trim();
  if (job.job_subtype === "rewrite" && vars.instruction)
    return `What changed: ${oneLine(vars.instruction).slice(0, 200)}`;
  const answers = oneLine(vars.answers);
  if (answers)
    return `What changed: built on your answers — ${answers.length > 200 ? `${answers.slice(0, 199)}…` : answers}`;
  return "What changed: refined from the first draft.";
}
