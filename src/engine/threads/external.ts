import type { ThreadRecord } from "../../store/threads/repo.ts";
import { summarise } from "../dispatch.ts";
import type { ThreadContext } from "./records.ts";

/** Stores a result delivered by an external service as a finished job of the thread; returns its id. */
export async function storeExternalResult(
  d: ThreadContext,
  thread: ThreadRecord,
  input: { text: string; status: "completed" | "failed"; source: string; metadata?: unknown },
): Promise<number> {
  const now = d.iso();
  const jobs = await d.jobs.ofThread(thread.id);
  const failed = input.status === "failed";
  const id = await d.jobs.insertFinished({
    threadId: thread.id,
    sequence: jobs.reduce((m, j) => Math.max(m, j.job_sequence), 0) + 1,
    jobType: thread.idea_type ?? "mixed",
    subtype: "external_result",
    status: failed ? "failed" : "completed",
    priority: thread.priority,
    promptVariables: input.metadata === undefined ? null : JSON.stringify({ metadata: input.metadata }),
    backendUsed: input.source,
    fullResult: failed ? null : input.text,
    resultSummary: failed ? null : summarise(input.text),
    errorMessage: failed ? input.text.slice(0, 2000) : null,
    userId: thread.user_id,
    now,
  });
  if (!failed) await d.threads.recordDraft(thread.id, summarise(input.text), now);
  else await d.threads.touch(thread.id, now);
  return id;
}
