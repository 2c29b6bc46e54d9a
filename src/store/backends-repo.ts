import type { CallRecord } from "../backends/ports.ts";
import type { SqliteHandle } from "./database.ts";
import type { WriteBatch } from "./write-batch.ts";

/**
 * Persistence of the backend registry (`backends` rows), health, per-call performance and the
 * learned speed/reliability scores. Synchronous: the backend manager reports from its hot path and
 * each write is one small statement. Implements, structurally, the manager's BackendStatsPort,
 * ScoresPort and BackendRegistryPort (src/backends/ports.ts) once main.ts binds the clock.
 */
export interface HealthSnapshot {
  status: string;
  consecutiveFailures: number;
  lastCheckMs: number | undefined;
  lastError: string | undefined;
  latencyMs: number | undefined;
}

export type { CallRecord };

/** What a registry row holds, as src/backends/registry.ts reads it back (StoredBackendRow). */
export interface BackendRowView {
  name: string;
  type: string;
  enabled: boolean;
  enabledOverride: boolean | undefined;
  origin: "config" | "runtime";
  primary: boolean;
  config: Record<string, unknown>;
  preferredFor: string[] | undefined;
  fallbacks: string[] | undefined;
}

/** A definition as the manager persists it (BackendDefinition of src/backends/ports.ts, structurally). */
export interface DefinitionRecord {
  name: string;
  type: string;
  enabled: boolean;
  primary: boolean;
  free: boolean;
  preferredFor: string[];
  fallbacks: string[];
  origin: "config" | "runtime";
  [field: string]: unknown;
}

export interface ScoreRow {
  quality: number | undefined;
  speed: number;
  reliability: number;
  samples: number;
  qualitySamples: number;
}

/** Speed 0–1 from the mean latency of successful calls: 0 ms → 1, 5 s → 0.5, 60 s → 0.08. */
export const speedScore = (meanMs: number): number => 5000 / (5000 + Math.max(0, meanMs));

/** Learned scores look at this many most recent calls (bounds the cost of the refresh). */
const SCORE_WINDOW = 5000;

/** Fields of a definition kept in the JSON `config` column (the rest have columns). */
const COLUMN_FIELDS = new Set(["name", "type", "enabled", "primary", "preferredFor", "fallbacks", "origin"]);

function prepare(sqlite: SqliteHandle) {
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

interface ScoreAggregate {
  name: string;
  job_type: string;
  n: number;
  reliability: number;
  mean_ms: number | null;
  quality: number | null;
  rated: number;
}

function jsonList(text: string | null): string[] | undefined {
  if (text === null || text === "") return undefined;
  try {
    const v = JSON.parse(text) as unknown;
    return Array.isArray(v) ? v.filter((s): s is string => typeof s === "string") : undefined;
  } catch {
    return text
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== "");
  }
}

export class BackendsRepo {
  private readonly s: ReturnType<typeof prepare>;
  private readonly ids = new Map<string, number>();
  /** The performance row and the counters in one commit. */
  private readonly callTx: (c: CallRecord, id: number, nowIso: string) => void;
  private readonly batch: WriteBatch | undefined;

  /** With `batch`, call records are written behind (one commit per event-loop turn). */
  constructor(sqlite: SqliteHandle, batch?: WriteBatch) {
    this.s = prepare(sqlite);
    this.batch = batch;
    this.callTx = sqlite.transaction((c: CallRecord, id: number, nowIso: string) =>
      this.writeCall(c, id, nowIso),
    );
  }

  /**
   * Creates or refreshes the registry row of a configured backend. `config` must hold no secret.
   * Preferred job types and fallbacks are kept when not given (they are changed at runtime).
   */
  register(
    entry: {
      name: string;
      type: string;
      enabled: boolean;
      primary: boolean;
      config: object;
      local: boolean;
      preferredFor?: string[] | undefined;
      fallbacks?: string[] | undefined;
      origin?: "config" | "runtime" | undefined;
    },
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
      preferred: entry.preferredFor === undefined ? null : JSON.stringify(entry.preferredFor),
      fallbacks: entry.fallbacks === undefined ? null : JSON.stringify(entry.fallbacks),
      origin: entry.origin ?? "config",
      now: nowIso,
    });
    this.ids.delete(entry.name);
  }

  /** The manager's saveDefinition: every field but the columns goes to the JSON config (no secret there). */
  saveDefinition(def: DefinitionRecord, nowIso: string): void {
    const config: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(def)) if (!COLUMN_FIELDS.has(k) && v !== undefined) config[k] = v;
    this.register(
      {
        name: def.name,
        type: def.type,
        enabled: def.enabled,
        primary: def.primary,
        config,
        local: def.free,
        preferredFor: def.preferredFor,
        fallbacks: def.fallbacks,
        origin: def.origin,
      },
      nowIso,
    );
  }

  /** Enable/disable at runtime: wins over backend.<name>.enabled at the next start too. */
  setEnabled(name: string, enabled: boolean, nowIso: string): void {
    this.s.setEnabled.run({ name, enabled: enabled ? 1 : 0, now: nowIso });
  }

  rows(): BackendRowView[] {
    const raw = this.s.rows.all() as {
      name: string;
      backend_type: string;
      enabled: number | null;
      enabled_override: number | null;
      origin: string | null;
      is_primary: number | null;
      config: string;
      preferred_for_job_types: string | null;
      fallback_backends: string | null;
    }[];
    return raw.map((r) => {
      let config: Record<string, unknown> = {};
      try {
        const parsed = JSON.parse(r.config) as unknown;
        if (typeof parsed === "object" && parsed !== null) config = parsed as Record<string, unknown>;
      } catch {
        // a hand-edited row; treat as empty
      }
      return {
        name: r.name,
        type: r.backend_type,
        enabled: r.enabled !== 0,
        enabledOverride: r.enabled_override === null ? undefined : r.enabled_override !== 0,
        origin: r.origin === "runtime" ? "runtime" : "config",
        primary: r.is_primary === 1,
        config,
        preferredFor: jsonList(r.preferred_for_job_types),
        fallbacks: jsonList(r.fallback_backends),
      };
    });
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

  /** One backend_performance row (job_id NULL when the job is not in the database) + the counters. */
  recordCall(c: CallRecord, nowIso: string): void {
    const id = this.idOf(c.backend);
    if (id === undefined) return;
    if (this.batch) this.batch.add(() => this.writeCall(c, id, nowIso));
    else this.callTx(c, id, nowIso);
  }

  private writeCall(c: CallRecord, id: number, nowIso: string): void {
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

  /**
   * Learned scores over the last calls, keyed "backend|jobType" and "backend|*" (all job types):
   * reliability = success rate, speed from the mean latency of successes, quality = mean of
   * backend_performance.quality_score (filled by the learner; undefined while nothing is rated).
   * Also stores speed/quality on the backends rows for display.
   */
  scores(): Map<string, ScoreRow> {
    this.batch?.flush();
    const rows = this.s.scores.all() as ScoreAggregate[];
    const out = new Map<string, ScoreRow>();
    const all = new Map<
      string,
      { n: number; ok: number; msSum: number; msN: number; qSum: number; qN: number }
    >();
    for (const r of rows) {
      const okCount = r.reliability * r.n;
      out.set(`${r.name}|${r.job_type}`, {
        quality: r.quality ?? undefined,
        speed: r.mean_ms === null ? 0.5 : speedScore(r.mean_ms),
        reliability: r.reliability,
        samples: r.n,
        qualitySamples: r.rated,
      });
      const a = all.get(r.name) ?? { n: 0, ok: 0, msSum: 0, msN: 0, qSum: 0, qN: 0 };
      a.n += r.n;
      a.ok += okCount;
      if (r.mean_ms !== null) {
        a.msSum += r.mean_ms * okCount;
        a.msN += okCount;
      }
      if (r.quality !== null) {
        a.qSum += r.quality * r.rated;
        a.qN += r.rated;
      }
      all.set(r.name, a);
    }
    for (const [name, a] of all) {
      const score: ScoreRow = {
        quality: a.qN > 0 ? a.qSum / a.qN : undefined,
        speed: a.msN > 0 ? speedScore(a.msSum / a.msN) : 0.5,
        reliability: a.n > 0 ? a.ok / a.n : 0,
        samples: a.n,
        qualitySamples: a.qN,
      };
      out.set(`${name}|*`, score);
      this.s.speedAndQuality.run({ name, speed: score.speed, quality: score.quality ?? null });
    }
    return out;
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
