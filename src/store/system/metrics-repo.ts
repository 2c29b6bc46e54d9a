import type { SqliteHandle } from "../database.ts";
import { JobCounts } from "../jobs/counts.ts";

/**
 * Read-only aggregate queries behind `GET /metrics` and the periodic `system_health` row. Dates in
 * these tables are ISO-8601 or SQLite's `YYYY-MM-DD HH:MM:SS`; both sort after the bare day
 * `YYYY-MM-DD`, so "since the start of the UTC day" is a plain string comparison.
 */
export interface BackendMetricsRow {
  name: string;
  health_status: string | null;
  total_jobs: number;
  successful_jobs: number;
  failed_jobs: number;
  average_response_time: number;
  total_cost_cents: number;
  last_response_time_ms: number | null;
}

export interface MetricsSnapshot {
  jobsByStatus: Record<string, number>;
  threadsByStatus: Record<string, number>;
  backends: BackendMetricsRow[];
  /** Cost of jobs completed since the start of the UTC day, in cents. */
  jobCostCentsToday: number;
  /** budget_ledger today: settled actual plus still-reserved amounts, in cents. */
  ledgerCentsToday: number;
  questionsAsked: number;
  questionsAnswered: number;
  questionsAskedToday: number;
  callbacksByStatus: Record<string, number>;
  databaseBytes: number;
}

/**
 * Counts come from `status_counts` (kept by triggers, migration 009; jobs' through JobCounts, 024)
 * and "today" figures from range scans over date indexes, so a scrape costs the same on a year-old
 * database as on a new one.
 */
function prepare(sqlite: SqliteHandle) {
  const p = (sql: string) => sqlite.prepare(sql);
  return {
    counts: p("SELECT status, n FROM status_counts WHERE scope = ? AND n != 0"),
    backends: p(`SELECT b.name, b.health_status, b.total_jobs, b.successful_jobs, b.failed_jobs,
        b.average_response_time, b.total_cost_cents,
        (SELECT p.response_time_ms FROM backend_performance p WHERE p.backend_id = b.id AND p.success = 1
          ORDER BY p.id DESC LIMIT 1) AS last_response_time_ms
      FROM backends b ORDER BY b.name`),
    jobCost: p(
      "SELECT coalesce(sum(cost_cents), 0) AS c FROM jobs WHERE status = 'completed' AND completed_date >= ?",
    ),
    ledger: p(`SELECT coalesce(sum(coalesce(actual_cents, reserved_cents)), 0) AS c FROM budget_ledger
      WHERE day = ? AND state != 'released'`),
    questionsToday: p("SELECT count(*) AS n FROM conversations WHERE asked_date >= ?"),
  };
}

const grouped = (rows: unknown[]): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const r of rows as { status: string; n: number }[]) out[r.status] = r.n;
  return out;
};

export class MetricsRepo {
  private readonly sqlite: SqliteHandle;
  private readonly s: ReturnType<typeof prepare>;
  private readonly jobs: JobCounts;

  constructor(sqlite: SqliteHandle) {
    this.sqlite = sqlite;
    this.s = prepare(sqlite);
    this.jobs = new JobCounts(sqlite);
  }

  snapshot(nowMs: number): MetricsSnapshot {
    const day = new Date(nowMs).toISOString().slice(0, 10);
    const questions = grouped(this.s.counts.all("conversations"));
    return {
      jobsByStatus: this.jobs.byStatus(),
      threadsByStatus: grouped(this.s.counts.all("idea_threads")),
      backends: this.s.backends.all() as BackendMetricsRow[],
      jobCostCentsToday: (this.s.jobCost.get(day) as { c: number }).c,
      ledgerCentsToday: (this.s.ledger.get(day) as { c: number }).c,
      questionsAsked: questions.asked ?? 0,
      questionsAnswered: questions.answered ?? 0,
      questionsAskedToday: (this.s.questionsToday.get(day) as { n: number }).n,
      callbacksByStatus: grouped(this.s.counts.all("external_callbacks")),
      databaseBytes: this.databaseBytes(),
    };
  }

  /** Pages in use × page size: the database's size without its transient WAL. */
  databaseBytes(): number {
    const pages = this.sqlite.pragma("page_count", { simple: true }) as number;
    const size = this.sqlite.pragma("page_size", { simple: true }) as number;
    return pages * size;
  }
}
