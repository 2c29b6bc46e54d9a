import type { QueueEvent } from "../queue/events.ts";
import { draftReady } from "./draft-ready.ts";
import { type EngineDeps, type EngineEvent, shortIdOf } from "./ports.ts";

/**
 * Messages a push transport owes its chat survive the process: when a job of a Telegram thread
 * ends, its draft (or failure notice) is recorded — synchronously, in the same turn as the queue's
 * event, so no await lies between the job's commit and this record — and stays owed until the
 * transport says Telegram accepted it. A listener that is gone (a stopping bot) or a send that
 * fails leaves it owed; the next start sends it.
 */
export function recordOwed(d: EngineDeps, event: QueueEvent): number | undefined {
  if (!d.outbox || (event.type !== "completed" && event.type !== "failed")) return undefined;
  return d.outbox.owe(
    {
      threadId: event.job.thread_id,
      jobId: event.job.id,
      kind: event.type === "completed" ? "draft" : "failed",
      error: event.type === "failed" ? event.error : undefined,
    },
    new Date(d.clock.now()).toISOString(),
  );
}

/** What is still owed, as the events that owed it (oldest first), for the transport to send again. */
export async function owedEvents(d: EngineDeps, limit: number): Promise<EngineEvent[]> {
  const events: EngineEvent[] = [];
  if (!d.outbox) return events;
  d.outbox.pruneDelivered(d.clock.now());
  for (const owed of d.outbox.pending(limit)) {
    const job = d.queue.get(owed.jobId);
    const thread = await d.threads.byId(owed.threadId);
    if (!job || !thread) continue;
    const event: QueueEvent =
      owed.kind === "draft"
        ? { type: "completed", job }
        : {
            type: "failed",
            job,
            error: owed.error ?? { code: "INTERNAL", message: job.error_message ?? "The job failed." },
          };
    events.push({
      event,
      thread,
      shortId: shortIdOf(thread.uuid),
      draft: owed.kind === "draft" ? draftReady(job) : undefined,
      outboxId: owed.id,
    });
  }
  return events;
}
