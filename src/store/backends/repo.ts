import type { CallRecord } from "../../backends/ports.ts";
import type { SqliteHandle } from "../database.ts";
import type { WriteBatch } from "../write-batch.ts";
import {
  type BackendRowView,
  configOf,
  type DefinitionRecord,
  foldScores,
  type HealthSnapshot,
  type ScoreRow,
  toRowView,
} from "./rows.ts";
import {
  type BackendStatements,
  prepareBackendStatements,
  type RawBackendRow,
  type ScoreAggregate,
} from "./statements.ts";

export type { BackendRowView, DefinitionRecord, HealthSnapshot, ScoreRow } from "./rows.ts";
export { speedScore } from "./rows.ts";
export type { CallRecord };

/**
 * Persistence of the backend registry (`backends` rows), health, per-call performance and the
 * learned speed/reliability scores. Synchronous: the backend manager reports from its hot path and
 * each write is one small statement. Implements, structurally, the manager's BackendStatsPort,
 * ScoresPort and BackendRegistryPort (src/backends/ports.ts) once main.ts binds the clock.
 * The SQL is in statements.ts, the row shapes and their mapping in rows.ts.
 */
export class BackendsRepo {
  private readonly s: BackendStatements;
  private readonly ids = new Map<string, number>();
  /** The performance row and the counters in one commit. */
  private readonly callTx: (c: CallRecord, id: number, nowIso: string) => void;
  private readonly batch: WriteBatch | undefined;

  /** With `batch`, call records are written behind (with the next job completion, see WriteBatch). */
  constructor(sqlite: SqliteHandle, batch?: WriteBatch) {
    this.s = prepareBackendStatements(sqlite);
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
    this.register(
      {
        name: def.name,
        type: def.type,
        enabled: def.enabled,
        primary: def.primary,
        config: configOf(def),
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
    return (this.s.rows.all() as RawBackendRow[]).map(toRowView);
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
    const { scores, overall } = foldScores(this.s.scores.all() as ScoreAggregate[]);
    for (const [name, score] of overall) {
      this.s.speedAndQuality.run({ name, speed: score.speed, quality: score.quality ?? null });
    }
    return scores;
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
