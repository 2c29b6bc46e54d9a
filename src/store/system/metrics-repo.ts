import type { SqliteHandle } from "../database.ts";

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

function prepare(sqlite: SqliteHandle) {
  const p = (sql: string) => sqlite.prepare(sql);
  return {
    jobs: p("SELECT status, count(*) AS n FROM jobs GROUP BY status"),
    threads: p("SELECT coalesce(status, 'unknown') AS status, count(*) AS n FROM idea_threads GROUP BY 1"),
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
    questions: p(`SELECT count(*) AS asked, coalesce(sum(user_response IS NOT NULL), 0) AS answered,
        coalesce(sum(asked_date >= ?), 0) AS today FROM conversations`),
    callbacks: p("SELECT status, count(*) AS n FROM external_callbacks GROUP BY status"),
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

  constructor(sqlite: SqliteHandle) {
    this.sqlite = sqlite;
    this.s = prepare(sqlite);
  }

  snapshot(nowMs: number): MetricsSnapshot {
    const day = new Date(nowMs).toISOString().slice(0, 10);
    const q = this.s.questions.get(day) as { asked: number; answered: number; today: number };
    return {
      jobsByStatus: grouped(this.s.jobs.all()),
      threadsByStatus: grouped(this.s.threads.all()),
      backends: this.s.backends.all() as BackendMetricsRow[],
      jobCostCentsToday: (this.s.jobCost.get(day) as { c: number }).c,
      ledgerCentsToday: (this.s.ledger.get(day) as { c: number }).c,
      questionsAsked: q.asked,
      questionsAnswered: q.answered,
      questionsAskedToday: q.today,
      callbacksByStatus: grouped(this.s.callbacks.all()),
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
