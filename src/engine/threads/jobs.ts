import type { QueueJob } from "../../store/jobs/repo.ts";
import type { ThreadRecord } from "../../store/threads/repo.ts";
import { summarise } from "../engine.ts";
import { JOB_COLUMNS, type JobRecord, nowIso, type ThreadQueriesDeps, touchThread } from "./records.ts";

/**
 * A thread's jobs for the HTTP API: read them, queue a refined draft with volunteered
 * information, cancel what is unfinished, store a result sent back by an external service.
 */

const nextSequence = (jobs: JobRecord[]) => jobs.reduce((m, j) => Math.max(m, j.job_sequence), 0) + 1;

export async function threadJobs(d: ThreadQueriesDeps, threadId: number): Promise<JobRecord[]> {
  return (await d.db
    .selectFrom("jobs")
    .select(JOB_COLUMNS)
    .where("thread_id", "=", threadId)
    .orderBy("id")
    .execute()) as JobRecord[];
}

export async function threadJob(
  d: ThreadQueriesDeps,
  threadId: number,
  jobId: number,
): Promise<JobRecord | undefined> {
  return (await d.db
    .selectFrom("jobs")
    .select(JOB_COLUMNS)
    .where("thread_id", "=", threadId)
    .where("id", "=", jobId)
    .executeTakeFirst()) as JobRecord | undefined;
}

/**
 * Queues a refined draft (prompts/refine.md) from the original idea and what was learned since
 * (answers and volunteered information), as the conversation flow does. Returns the new job.
 */
export async function queueRefine(
  d: ThreadQueriesDeps,
  thread: ThreadRecord,
  additions: string[],
  userId?: string | null,
): Promise<QueueJob> {
  const jobs = await threadJobs(d, thread.id);
  const latest = [...jobs].reverse().find((j) => j.status === "completed");
  const ideaType = thread.idea_type ?? "mixed";
  return d.queue.enqueue({
    threadId: thread.id,
    parentJobId: latest?.id ?? jobs.at(-1)?.id ?? null,
    jobSequence: nextSequence(jobs),
    jobType: ideaType,
    jobSubtype: "refine",
    priority: thread.priority,
    promptTemplate: "refine",
    promptVariables: {
      idea: thread.original_request,
      idea_type: ideaType,
      answers: additions.length > 0 ? additions.map((a) => `- ${a}`).join("\n") : "(nothing new)",
      preferences: "",
    },
    userId: userId ?? thread.user_id,
    achievedClarity: thread.final_clarity_score,
  });
}

/** Cancels every unfinished job of the thread (and their dependents). Returns the ids cancelled. */
export function cancelThread(d: ThreadQueriesDeps, threadId: number, reason: string): number[] {
  const ids: number[] = [];
  for (const job of d.queue.activeForThread(threadId)) {
    if (ids.includes(job.id)) continue;
    ids.push(...d.queue.cancel(job.id, reason));
  }
  return [...new Set(ids)];
}

/** Stores a result delivered by an external service as a completed job of the thread. */
export async function storeExternalResult(
  d: ThreadQueriesDeps,
  thread: ThreadRecord,
  input: { text: string; status: "completed" | "failed"; source: string; metadata?: unknown },
): Promise<number> {
  const now = nowIso(d);
  const sequence = nextSequence(await threadJobs(d, thread.id));
  const failed = input.status === "failed";
  const row = await d.db
    .insertInto("jobs")
    .values({
      thread_id: thread.id,
      job_sequence: sequence,
      job_type: thread.idea_type ?? "mixed",
      job_subtype: "external_result",
      status: failed ? "failed" : "completed",
      priority: thread.priority,
      prompt_variables: input.metadata === undefined ? null : JSON.stringify({ metadata: input.metadata }),
      backend_used: input.source,
      model_used: null,
      full_result: failed ? null : input.text,
      result_summary: failed ? null : summarise(input.text),
      error_message: failed ? input.text.slice(0, 2000) : null,
      max_retries: 0,
      scheduled_date: now,
      created_date: now,
      started_date: now,
      completed_date: now,
      user_id: thread.user_id,
    })
    .returning("id")
    .executeTakeFirstOrThrow();
  if (!failed) await d.threads.recordDraft(thread.id, summarise(input.text), now);
  else await touchThread(d, thread.id, now);
  return row.id;
}
