import type { Clock } from "../clock.ts";
import { type CompletionFields, completedJob, type Job, type JobsRepo } from "../store/jobs/repo.ts";
import { isStorageFull } from "../store/storage-fault.ts";

/** A completion waiting for its batch's commit. */
interface Item {
  id: number;
  attempt: number;
  job: Job;
  fields: CompletionFields;
  resolve: (completed: Job | undefined) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit for completions: every completion of one event-loop turn is settled together, in
 * the turn's one transaction (GroupCommit) with the other writes of that turn (submits, questions).
 * Each caller learns whether its own completion held once that transaction committed: the job as
 * completed, or undefined (a stale lease).
 */
export class CompletionBatcher {
  private batch: Item[] = [];
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
      if (this.batch.length === 1) this.flushInGroup();
    });
  }

  /** One write in the turn's group for the batch: it takes the completions waiting when it runs. */
  private flushInGroup(): void {
    let items: Item[] | undefined;
    let now = 0;
    this.repo.commits
      .run(() => {
        items = this.take();
        now = this.clock.now();
        return this.repo.completeMany(items, now);
      })
      .then(
        (results) => {
          for (const [i, item] of (items as Item[]).entries())
            item.resolve(results[i] ? completedJob(item.job, item.fields, now) : undefined);
        },
        // When the group failed before this write ran, its completions are still waiting here.
        (error: unknown) => this.failed(items ?? this.take(), error),
      );
  }

  private take(): Item[] {
    const items = this.batch;
    this.batch = [];
    return items;
  }

  private failed(items: Item[], error: unknown): void {
    if (isStorageFull(error)) {
      for (const item of items) item.reject(error);
      return;
    }
    this.log?.error(
      { err: error instanceof Error ? error.message : String(error) },
      "batch completion failed",
    );
    for (const item of items) item.resolve(undefined);
  }
}
