import type { SqliteHandle } from "./database.ts";

/**
 * Persistence of backend registry rows, health and per-call performance. Synchronous (the backend
 * manager reports from its hot path; each write is one small statement).
 */
export interface HealthSnapshot {
  status: string;
  consecutiveFailures: number;
  lastCheckMs: number | undefined;
  lastError: string | undefined;
  latencyMs: number | undefined;
}

export interface CallRecord {
  backend: string;
  jobId: number;
  jobType: string;
  model: string;
  success: boolean;
  latencyMs: number;
  tokens: number;
  costCents: number;
  error?: string | undefined;
}

function prepare(sqlite: SqliteHandle) {
  const p = (sql: string) => sqlite.prepare(sql);
  return {
    upsert:
      p(`INSERT INTO backends (name, backend_type, enabled, is_primary, config, capabilities, cost_score, created_date, last_updated)
        VALUES (@name, @type, @enabled, @primary, @config, @capabilities, @cost_score, @now, @now)
        ON CONFLICT(name) DO UPDATE SET backend_type = excluded.backend_type, enabled = excluded.enabled,
          is_primary = excluded.is_primary, config = excluded.config, capabilities = excluded.capabilities,
          cost_score = excluded.cost_score, last_updated = excluded.last_updated`),
    id: p("SELECT id FROM backends WHERE name = ?"),
    health:
      p(`UPDATE backends SET health_status = ?, last_health_check = ?, consecutive_failures = ?, last_updated = ?
        WHERE name = ?`),
    healthRow:
      p(`INSERT INTO system_health (component, health_status, response_time_ms, error_rate, recent_errors,
        measured_date, last_healthy_date, last_issue_date) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
    perf: p(`INSERT INTO backend_performance (backend_id, job_id, response_time_ms, cost_cents, token_count, job_type,
        model_used, success, error_message, executed_date) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    counters: p(`UPDATE backends SET total_jobs = total_jobs + 1, successful_jobs = successful_jobs + @ok,
        failed_jobs = failed_jobs + (1 - @ok), total_cost_cents = total_cost_cents + @cost,
        average_response_time = CASE WHEN @ok = 1 THEN
          (average_response_time * successful_jobs + @latency) / (successful_jobs + 1) ELSE average_response_time END,
        reliability_score = CAST(successful_jobs + @ok AS REAL) / (total_jobs + 1),
        last_used = @now, last_updated = @now WHERE id = @id`),
  };
}

export class BackendsRepo {
  private readonly s: ReturnType<typeof prepare>;
  private readonly ids = new Map<string, number>();

  constructor(sqlite: SqliteHandle) {
    this.s = prepare(sqlite);
  }

  /** Creates or refreshes the registry row of a configured backend. `config` must hold no secret. */
  register(
    entry: { name: string; type: string; enabled: boolean; primary: boolean; config: object; local: boolean },
    nowIso: string,
  ): void {
    this.s.upsert.run({
      name: entry.name,
      type: entry.type,
      enabled: entry.enabled ? 1 : 0,
      primary: entry.primary ? 1 : 0,
      config: JSON.stringify(entry.config),
      capabilities: JSON.stringify({ chat: true, streaming: true }),
      cost_score: entry.local ? 1 : 0.5,
      now: nowIso,
    });
    this.ids.delete(entry.name);
  }

  recordHealth(name: string, h: HealthSnapshot, nowIso: string): void {
    const checked = h.lastCheckMs === undefined ? nowIso : new Date(h.lastCheckMs).toISOString();
    this.s.health.run(h.status, checked, h.consecutiveFailures, nowIso, name);
    const healthy = h.status === "healthy";
    this.s.healthRow.run(
      `backend:${name}`,
      h.status,
      h.latencyMs ?? 0,
      healthy ? 0 : 1,
      h.lastError ? JSON.stringify([h.lastError]) : null,
      nowIso,
      healthy ? nowIso : null,
      healthy ? null : nowIso,
    );
  }

  recordCall(c: CallRecord, nowIso: string): void {
    const id = this.idOf(c.backend);
    if (id === undefined) return;
    this.s.perf.run(
      id,
      c.jobId,
      c.latencyMs,
      Math.round(c.costCents),
      c.tokens,
      c.jobType,
      c.model,
      c.success ? 1 : 0,
      c.error ?? null,
      nowIso,
    );
    this.s.counters.run({
      ok: c.success ? 1 : 0,
      cost: Math.round(c.costCents),
      latency: c.latencyMs,
      now: nowIso,
      id,
    });
  }

  private idOf(name: string): number | undefined {
    let id = this.ids.get(name);
    if (id === undefined) {
      id = (this.s.id.get(name) as { id: number } | undefined)?.id;
      if (id !== undefined) this.ids.set(name, id);
    }
    return id;
  }
}
