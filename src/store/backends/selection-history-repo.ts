import type { SqliteHandle } from "../database.ts";
import type { WriteBatch } from "../write-batch.ts";

/**
 * backend_selection_history: one row per selection decision, written by the backend manager when
 * the job's attempt ends (so the outcome — success, fallback, final backend — is in the same row).
 * Implements the manager's SelectionHistoryPort (src/backends/ports.ts) structurally. A decision
 * for a job that is not in the database (benchmarks, ad-hoc calls) is not recorded: job_id is a
 * NOT NULL foreign key.
 */
export interface SelectionEntry {
  jobId: number;
  jobType: string;
  criteria: string;
  available: { name: string; score: number }[];
  rejected: { name: string; reason: string }[];
  reasoning: string;
  selected: string | undefined;
  confidence: number;
  successful: boolean;
  fallbackUsed: boolean;
  finalBackend: string | undefined;
  attempted: string[];
}

export interface SelectionRow {
  id: number;
  job_id: number;
  selection_criteria: string | null;
  available_backends: string | null;
  selection_reasoning: string | null;
  selected_backend_id: number | null;
  selected_backend: string | null;
  confidence_score: number | null;
  rejected_backends: string | null;
  rejection_reasons: string | null;
  selection_successful: number | null;
  fallback_used: number | null;
  final_backend_id: number | null;
  final_backend: string | null;
  executed_date: string;
}

export class SelectionHistoryRepo {
  private readonly s;
  private readonly now: () => string;
  private readonly batch: WriteBatch | undefined;

  /** With `batch`, rows are written behind (with the next job completion, see WriteBatch). */
  constructor(
    sqlite: SqliteHandle,
    nowIso: () => string = () => new Date().toISOString(),
    batch?: WriteBatch,
  ) {
    this.now = nowIso;
    this.batch = batch;
    const p = (sql: string) => sqlite.prepare(sql);
    this.s = {
      insert: p(`INSERT INTO backend_selection_history (job_id, selection_criteria, available_backends,
          selection_reasoning, selected_backend_id, confidence_score, rejected_backends, rejection_reasons,
          selection_successful, fallback_used, final_backend_id, executed_date)
        SELECT @job, @criteria, @available, @reasoning, (SELECT id FROM backends WHERE name = @selected),
          @confidence, @rejected, @reasons, @successful, @fallback, (SELECT id FROM backends WHERE name = @final), @now
        WHERE EXISTS (SELECT 1 FROM jobs WHERE id = @job)`),
      forJob: p(`SELECT h.*, s.name AS selected_backend, f.name AS final_backend
        FROM backend_selection_history h
        LEFT JOIN backends s ON s.id = h.selected_backend_id
        LEFT JOIN backends f ON f.id = h.final_backend_id
        WHERE h.job_id = +? ORDER BY h.id`),
      recent: p(`SELECT h.*, s.name AS selected_backend, f.name AS final_backend
        FROM backend_selection_history h
        LEFT JOIN backends s ON s.id = h.selected_backend_id
        LEFT JOIN backends f ON f.id = h.final_backend_id
        ORDER BY h.id DESC LIMIT +?`),
    };
  }

  record(e: SelectionEntry): void {
    const reasons: Record<string, string> = {};
    for (const r of e.rejected) reasons[r.name] = r.reason;
    const row = {
      job: e.jobId,
      criteria: e.criteria,
      available: JSON.stringify({ ranked: e.available, attempted: e.attempted, job_type: e.jobType }),
      reasoning: e.reasoning,
      selected: e.selected ?? null,
      confidence: e.confidence,
      rejected: JSON.stringify(e.rejected.map((r) => r.name)),
      reasons: JSON.stringify(reasons),
      successful: e.successful ? 1 : 0,
      fallback: e.fallbackUsed ? 1 : 0,
      final: e.finalBackend ?? null,
      now: this.now(),
    };
    if (this.batch) this.batch.add(() => this.s.insert.run(row));
    else this.s.insert.run(row);
  }

  forJob(jobId: number): SelectionRow[] {
    this.batch?.flush();
    return this.s.forJob.all(jobId) as SelectionRow[];
  }

  recent(limit = 20): SelectionRow[] {
    this.batch?.flush();
    return this.s.recent.all(limit) as SelectionRow[];
  }
}
