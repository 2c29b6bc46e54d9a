import type { Clock } from "../clock.ts";
import { type CompletionFields, completedJob, type Job, type JobsRepo } from "../store/jobs/repo.ts";
import { isStorageFull } from "../store/storage-fault.ts";

/**
 * Group commit for completions: every completion of one event-loop turn is settled in one
 * transaction. Each caller learns whether its own completion held: the job as completed, or
 * undefined (a stale lease).
 */
export class CompletionBatcher {
  private batch: {
    id: number;
    attempt: number;
    job: Job;
    fields: CompletionFields;
    resolve: (completed: Job | undefined) => void;
    reject: (error: unknown) => void;
  }[] = [];
  private readonly repo: JobsRepo;
  private readonly clock: Clock;
  private readonly log: { error(obj: object, msg: string): void } | undefined;

  constructor(repo: JobsRepo, clock: Clock, log?: { error(obj: object, msg: string): void }) {
    this.repo = repo;
    this.clock = clock;
    this.log = log;
  }

  /**
   * Completes the claimed `job`: the job as completed, or undefined when its lease is stale; rejects
   * with a full disk's error (the caller keeps the result and retries).
   */
  complete(job: Job, fields: CompletionFields): Promise<Job | undefined> {
    return new Promise((resolve, reject) => {
      this.batch.push({ id: job.id, attempt: job.attempt, job, fields, resolve, reject });
      if (this.batch.length === 1) setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    const items = this.batch;
    this.batch = [];
    const now = this.clock.now();
    let results: boolean[];
    try {
      results = this.repo.completeMany(items, now);
    } catch (error) {
      if (isStorageFull(error)) {
        for (const item of items) item.reject(error);
        return;
      }
      this.log?.error(
        { err: error instanceof Error ? error.message : String(error) },
        "batch completion failed",
      );
      results = items.map(() => false);
    }
    for (const [i, item] of items.entries())
      item.resolve(results[i] ? completedJob(item.job, item.fields, now) : undefined);
  }
}
