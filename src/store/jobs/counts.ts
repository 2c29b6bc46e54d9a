import type BetterSqlite3 from "better-sqlite3";
import type { SqliteHandle } from "../database.ts";

/**
 * Jobs per status, exact, without counting the history (the only place they are counted; /metrics
 * and the queue's capacity read them here). A settled status (completed, failed, cancelled, 'unknown'
 * for NULL) is a row of status_counts, moved by triggers in the transaction of the job's last
 * transition (migration 024). An unfinished status is counted from its partial index, which holds
 * only the jobs in that status (022): no write at enqueue or claim, and a count that costs the
 * queue's length, never the history. idx_jobs_ready holds queued and retrying jobs, and
 * idx_jobs_retry_due the retrying ones: queued is the difference.
 */
export class JobCounts {
  private readonly active: BetterSqlite3.Statement;
  private readonly settled: BetterSqlite3.Statement;

  constructor(sqlite: SqliteHandle) {
    this.active = sqlite.prepare(`SELECT
      (SELECT count(*) FROM jobs INDEXED BY idx_jobs_pending WHERE status = 'pending') AS pending,
      (SELECT count(*) FROM jobs INDEXED BY idx_jobs_ready WHERE status IN ('queued','retrying')) AS ready,
      (SELECT count(*) FROM jobs INDEXED BY idx_jobs_retry_due WHERE status = 'retrying') AS retrying,
      (SELECT count(*) FROM jobs INDEXED BY idx_jobs_running WHERE status = 'running') AS running`);
    this.settled = sqlite.prepare("SELECT status, n FROM status_counts WHERE scope = 'jobs' AND n != 0");
  }

  /** Jobs not yet settled: pending, queued, retrying or running. */
  countActive(): number {
    const a = this.activeCounts();
    return a.pending + a.ready + a.running;
  }

  /** Every status with at least one job, and how many. */
  byStatus(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const r of this.settled.all() as { status: string; n: number }[]) out[r.status] = r.n;
    const a = this.activeCounts();
    const active = {
      pending: a.pending,
      queued: a.ready - a.retrying,
      retrying: a.retrying,
      running: a.running,
    };
    for (const [status, n] of Object.entries(active)) if (n !== 0) out[status] = n;
    return out;
  }

  private activeCounts(): { pending: number; ready: number; retrying: number; running: number } {
    return this.active.get() as { pending: number; ready: number; retrying: number; running: number };
  }
}
