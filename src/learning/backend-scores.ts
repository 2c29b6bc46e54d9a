import { type Kysely, sql } from "kysely";
import type { Database } from "../store/schema.ts";

/**
 * Backend learning port: user ratings of jobs become per-(backend, job type) quality scores.
 *
 * - rateBackendOutcome: a rating (1–5) of a job sets quality_score ((rating − 1) / 4) and
 *   user_satisfaction on that job's successful backend_performance row (adding the row when the
 *   call was never recorded), and returns the fresh scores of its (backend, job type).
 * - backendScores: every (backend, job type) — and (backend, "*") over all types — with
 *   quality (mean rated quality, undefined while nothing is rated), speed (10 s / (10 s + mean
 *   latency), 0–1), reliability (success rate of calls) and samples; the backend manager reads
 *   them through its ScoresPort (src/backends/ports.ts), smoothing them itself.
 *
 * The SQL over backend_performance lives here (not in a repository) because this module is its
 * only reader and writer of these two columns; the manager's call recording stays in backends-repo.
 */
export interface BackendScore {
  quality: number | undefined;
  speed: number;
  reliability: number;
  samples: number;
  qualitySamples: number;
}

export interface RatedJob {
  jobId: number;
  rating: number;
  nowIso: string;
}

const SPEED_HALF_MS = 10_000;

export async function rateBackendOutcome(
  db: Kysely<Database>,
  r: RatedJob,
): Promise<{ key: string; score: BackendScore } | undefined> {
  if (!Number.isInteger(r.rating) || r.rating < 1 || r.rating > 5) return undefined;
  const job = await db
    .selectFrom("jobs")
    .select([
      "id",
      "backend_used",
      "job_type",
      "model_used",
      "execution_time_seconds",
      "cost_cents",
      "status",
    ])
    .where("id", "=", r.jobId)
    .executeTakeFirst();
  if (!job?.backend_used) return undefined;
  const backend = await db
    .selectFrom("backends")
    .select(["id", "name"])
    .where("name", "=", job.backend_used)
    .executeTakeFirst();
  if (!backend) return undefined;
  const quality = (r.rating - 1) / 4;
  const row = await db
    .selectFrom("backend_performance")
    .select("id")
    .where("job_id", "=", job.id)
    .where("backend_id", "=", backend.id)
    .orderBy("success", "desc")
    .orderBy("id", "desc")
    .executeTakeFirst();
  if (row) {
    await db
      .updateTable("backend_performance")
      .set({ quality_score: quality, user_satisfaction: r.rating })
      .where("id", "=", row.id)
      .execute();
  } else {
    await db
      .insertInto("backend_performance")
      .values({
        backend_id: backend.id,
        job_id: job.id,
        response_time_ms: job.execution_time_seconds * 1000,
        quality_score: quality,
        cost_cents: job.cost_cents,
        job_type: job.job_type,
        model_used: job.model_used,
        success: job.status === "completed" ? 1 : 0,
        user_satisfaction: r.rating,
        executed_date: r.nowIso,
      })
      .execute();
  }
  const key = `${backend.name}|${job.job_type}`;
  const score = (await backendScores(db, backend.name)).get(key);
  return score ? { key, score } : undefined;
}

export async function backendScores(
  db: Kysely<Database>,
  onlyBackend?: string,
): Promise<Map<string, BackendScore>> {
  const filter = onlyBackend === undefined ? sql`1 = 1` : sql`b.name = ${onlyBackend}`;
  const rows = await sql<{
    name: string;
    job_type: string | null;
    n: number;
    ok: number;
    ms: number | null;
    q: number | null;
    qn: number;
  }>`SELECT b.name AS name, p.job_type AS job_type, count(*) AS n, sum(coalesce(p.success, 0)) AS ok,
      avg(CASE WHEN p.success = 1 THEN p.response_time_ms END) AS ms,
      avg(p.quality_score) AS q, count(p.quality_score) AS qn
    FROM backend_performance p JOIN backends b ON b.id = p.backend_id
    WHERE ${filter}
    GROUP BY b.name, p.job_type`.execute(db);
  const out = new Map<string, BackendScore>();
  const all = new Map<
    string,
    { n: number; ok: number; msSum: number; msN: number; qSum: number; qn: number }
  >();
  for (const r of rows.rows) {
    const n = Number(r.n);
    const ok = Number(r.ok);
    const qn = Number(r.qn);
    out.set(`${r.name}|${r.job_type ?? "unknown"}`, score(n, ok, r.ms, r.q, qn));
    const a = all.get(r.name) ?? { n: 0, ok: 0, msSum: 0, msN: 0, qSum: 0, qn: 0 };
    a.n += n;
    a.ok += ok;
    if (r.ms !== null) {
      a.msSum += r.ms * ok;
      a.msN += ok;
    }
    if (r.q !== null) {
      a.qSum += r.q * qn;
      a.qn += qn;
    }
    all.set(r.name, a);
  }
  for (const [name, a] of all) {
    out.set(
      `${name}|*`,
      score(a.n, a.ok, a.msN > 0 ? a.msSum / a.msN : null, a.qn > 0 ? a.qSum / a.qn : null, a.qn),
    );
  }
  return out;
}

function score(n: number, ok: number, ms: number | null, q: number | null, qn: number): BackendScore {
  return {
    quality: q === null ? undefined : round3(q),
    speed: ms === null ? 0.5 : round3(SPEED_HALF_MS / (SPEED_HALF_MS + Math.max(0, ms))),
    reliability: n === 0 ? 0 : round3(ok / n),
    samples: n,
    qualitySamples: qn,
  };
}

/**
 * A synchronous view for the backend manager's ScoresPort: `scores()` returns the last snapshot;
 * `refresh()` reloads it (call it at start and after each rating — the flow's feedback does).
 */
export class BackendScoresCache {
  private snapshot = new Map<string, BackendScore>();
  private readonly db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.db = db;
  }

  scores(): Map<string, BackendScore> {
    return this.snapshot;
  }

  async refresh(): Promise<void> {
    this.snapshot = await backendScores(this.db);
  }
}

const round3 = (n: number) => Math.round(n * 1000) / 1000;
