import type { SqliteHandle } from "../database.ts";

/** Learned scores look at this many most recent calls (bounds the cost of the refresh). */
const SCORE_WINDOW = 5000;

/** Every SQL statement of the backend registry, health and call records, prepared once per connection. */
export function prepareBackendStatements(sqlite: SqliteHandle) {
  const p = (sql: string) => sqlite.prepare(sql);
  return {
    upsert:
      p(`INSERT INTO backends (name, backend_type, enabled, is_primary, config, capabilities, cost_score,
          preferred_for_job_types, fallback_backends, origin, created_date, last_updated)
        VALUES (@name, @type, @enabled, @primary, @config, @capabilities, @cost_score, @preferred, @fallbacks,
          @origin, @now, @now)
        ON CONFLICT(name) DO UPDATE SET backend_type = excluded.backend_type, enabled = excluded.enabled,
          is_primary = excluded.is_primary, config = excluded.config, capabilities = excluded.capabilities,
          cost_score = excluded.cost_score,
          preferred_for_job_types = COALESCE(excluded.preferred_for_job_types, backends.preferred_for_job_types),
          fallback_backends = COALESCE(excluded.fallback_backends, backends.fallback_backends),
          origin = CASE WHEN backends.origin = 'runtime' THEN 'runtime' ELSE excluded.origin END,
          last_updated = excluded.last_updated`),
    setEnabled: p(
      "UPDATE backends SET enabled = @enabled, enabled_override = @enabled, last_updated = @now WHERE name = @name",
    ),
    rows: p(`SELECT name, backend_type, enabled, enabled_override, origin, is_primary, config,
        preferred_for_job_types, fallback_backends FROM backends ORDER BY id`),
    id: p("SELECT id FROM backends WHERE name = ?"),
    health:
      p(`UPDATE backends SET health_status = ?, last_health_check = ?, consecutive_failures = ?, last_updated = ?
        WHERE name = ?`),
    healthRow:
      p(`INSERT INTO system_health (component, health_status, response_time_ms, error_rate, recent_errors,
        measured_date, last_healthy_date, last_issue_date) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
    perf: p(`INSERT INTO backend_performance (backend_id, job_id, response_time_ms, cost_cents, token_count, job_type,
        model_used, success, error_message, executed_date)
        VALUES (?, (SELECT id FROM jobs WHERE id = ?), ?, ?, ?, ?, ?, ?, ?, ?)`),
    counters: p(`UPDATE backends SET total_jobs = total_jobs + 1, successful_jobs = successful_jobs + @ok,
        failed_jobs = failed_jobs + (1 - @ok), total_cost_cents = total_cost_cents + @cost,
        average_response_time = CASE WHEN @ok = 1 THEN
          (average_response_time * successful_jobs + @latency) / (successful_jobs + 1) ELSE average_response_time END,
        reliability_score = CAST(successful_jobs + @ok AS REAL) / (total_jobs + 1),
        last_used = @now, last_updated = @now WHERE id = @id`),
    scores: p(`SELECT b.name AS name, COALESCE(p.job_type, '') AS job_type, COUNT(*) AS n,
          AVG(CASE WHEN p.success = 1 THEN 1.0 ELSE 0.0 END) AS reliability,
          AVG(CASE WHEN p.success = 1 THEN p.response_time_ms END) AS mean_ms,
          AVG(p.quality_score) AS quality, COUNT(p.quality_score) AS rated
        FROM backend_performance p JOIN backends b ON b.id = p.backend_id
        WHERE p.id > (SELECT COALESCE(MAX(id), 0) - ${SCORE_WINDOW} FROM backend_performance)
        GROUP BY b.name, p.job_type`),
    speedAndQuality:
      p(`UPDATE backends SET speed_score = @speed, quality_score = COALESCE(@quality, quality_score)
        WHERE name = @name`),
  };
}

export type BackendStatements = ReturnType<typeof prepareBackendStatements>;

/** A row of the `rows` statement, as SQLite returns it. */
export interface RawBackendRow {
  name: string;
  backend_type: string;
  enabled: number | null;
  enabled_override: number | null;
  origin: string | null;
  is_primary: number | null;
  config: string;
  preferred_for_job_types: string | null;
  fallback_backends: string | null;
}

/** A row of the `scores` statement: one backend and job type over the score window. */
export interface ScoreAggregate {
  name: string;
  job_type: string;
  n: number;
  reliability: number;
  mean_ms: number | null;
  quality: number | null;
  rated: number;
}
