import type { BackendManager } from "../backends/manager/manager.ts";
import { QueueEvents } from "../queue/events.ts";
import { JobQueue } from "../queue/job-queue.ts";
import { type Dispatcher, ownerId, Scheduler } from "../queue/scheduler/scheduler.ts";
import { JobsRepo } from "../store/jobs/repo.ts";
import type { Foundation } from "./foundation.ts";
import type { HermesOptions } from "./options.ts";

export interface JobsPart {
  events: QueueEvents;
  jobs: JobsRepo;
  scheduler: Scheduler;
  queue: JobQueue;
}

/**
 * The durable queue and its scheduler. `dispatch` runs a claimed job (the Engine, connected once
 * it exists); as many run at once as the backends have slots.
 */
export function createJobs(
  f: Foundation,
  options: Pick<HermesOptions, "jitter" | "groupCommit">,
  backends: BackendManager,
  dispatch: Dispatcher,
): JobsPart {
  const { config, clock, log, notifier } = f;
  const events = new QueueEvents((err, event) =>
    log.error(
      { err: err instanceof Error ? err.message : String(err), jobId: event.job.id },
      "queue listener failed",
    ),
  );
  const jobs = new JobsRepo(f.database.sqlite);
  const scheduler = new Scheduler({
    repo: jobs,
    events,
    clock,
    owner: ownerId(),
    capacity: () => backends.totalSlots(),
    groupCommit: options.groupCommit ?? true,
    retrySettings: () => ({
      baseDelayMs: 1000,
      maxDelayMs: config.number("talos.execution.retry_interval") * 1000,
      maxRetryDurationMs: config.number("hermes.talos.max_retry_duration") * 1000,
    }),
    dispatch,
    ...(options.jitter ? { random: options.jitter } : {}),
    log,
    storage: f.storage,
  });
  const queue = new JobQueue({
    repo: jobs,
    scheduler,
    events,
    clock,
    maxQueuedJobs: () => config.number("hermes.web.max_queued_jobs"),
    onQueueFull: (active, limit) =>
      void notifier.alert(
        "queue_full",
        "queue",
        `The queue is full (${active} of ${limit}); new ideas are refused until it drains.`,
      ),
  });
  logJobOutcomes(f, events);
  return { events, jobs, scheduler, queue };
}

/** Completions, failures and retries in the log; failures (not cancellations) also alert. */
function logJobOutcomes({ log, notifier }: Foundation, events: QueueEvents): void {
  events.subscribe((e) => {
    if (e.type === "progress") return; // every streamed token passes here
    const base = { jobId: e.job.id, threadId: e.job.thread_id };
    if (e.type === "completed")
      log.info({ ...base, backend: e.job.backend_used, model: e.job.model_used }, "job completed");
    else if (e.type === "failed") {
      log.warn({ ...base, error: e.error }, "job failed");
      if (e.error.code !== "CANCELLED") {
        void notifier.alert(
          "job_failure",
          `thread-${e.job.thread_id}`,
          `Job ${e.job.id} failed: ${e.error.message}`,
        );
      }
    } else if (e.type === "retrying")
      log.info({ ...base, retry: e.retryCount, error: e.error.code }, "job retrying");
  });
}
