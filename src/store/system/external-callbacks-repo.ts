import type { SqliteHandle } from "../database.ts";

/**
 * The outbox of result callbacks to external services (table external_callbacks, migration 006).
 * A row is written when a thread with a callback_url finishes a job; the dispatcher delivers due
 * rows and records each attempt, so a restart resumes where it stopped.
 */
export type CallbackStatus = "pending" | "delivered" | "failed";

export interface CallbackRow {
  id: number;
  thread_id: number;
  job_id: number | null;
  event: string;
  url: string;
  body: string;
  status: CallbackStatus;
  attempts: number;
  next_attempt_at: string;
  last_status: number | null;
  last_error: string | null;
  created_at: string;
  delivered_at: string | null;
}

export interface NewCallback {
  threadId: number;
  jobId: number | null;
  event: string;
  url: string;
  body: string;
  nowIso: string;
}

function prepare(sqlite: SqliteHandle) {
  const p = (sql: string) => sqlite.prepare(sql);
  return {
    insert:
      p(`INSERT INTO external_callbacks (thread_id, job_id, event, url, body, status, attempts, next_attempt_at, created_at)
      VALUES (@thread_id, @job_id, @event, @url, @body, 'pending', 0, @now, @now)
      ON CONFLICT (job_id, event) DO NOTHING RETURNING *`),
    due: p(`SELECT * FROM external_callbacks WHERE status = 'pending' AND next_attempt_at <= ?
      ORDER BY next_attempt_at, id LIMIT +?`),
    nextDue: p(`SELECT min(next_attempt_at) AS at FROM external_callbacks WHERE status = 'pending'`),
    delivered:
      p(`UPDATE external_callbacks SET status = 'delivered', attempts = attempts + 1, last_status = ?,
      last_error = NULL, delivered_at = ? WHERE id = ? AND status = 'pending'`),
    retry: p(`UPDATE external_callbacks SET attempts = attempts + 1, last_status = ?, last_error = ?,
      next_attempt_at = ? WHERE id = ? AND status = 'pending'`),
    failed: p(`UPDATE external_callbacks SET status = 'failed', attempts = attempts + 1, last_status = ?,
      last_error = ? WHERE id = ? AND status = 'pending'`),
    get: p("SELECT * FROM external_callbacks WHERE id = ?"),
    forThread: p("SELECT * FROM external_callbacks WHERE thread_id = +? ORDER BY id"),
    counts: p("SELECT status, count(*) AS n FROM external_callbacks GROUP BY status"),
  };
}

export class ExternalCallbacksRepo {
  private readonly s: ReturnType<typeof prepare>;

  constructor(sqlite: SqliteHandle) {
    this.s = prepare(sqlite);
  }

  /** Adds a delivery; a second one for the same job and event is ignored (returns undefined). */
  add(c: NewCallback): CallbackRow | undefined {
    return this.s.insert.get({
      thread_id: c.threadId,
      job_id: c.jobId,
      event: c.event,
      url: c.url,
      body: c.body,
      now: c.nowIso,
    }) as CallbackRow | undefined;
  }

  due(nowIso: string, limit = 20): CallbackRow[] {
    return this.s.due.all(nowIso, limit) as CallbackRow[];
  }

  nextDueAt(): number | undefined {
    const row = this.s.nextDue.get() as { at: string | null };
    return row.at === null ? undefined : Date.parse(row.at);
  }

  markDelivered(id: number, httpStatus: number, nowIso: string): void {
    this.s.delivered.run(httpStatus, nowIso, id);
  }

  scheduleRetry(id: number, httpStatus: number | null, error: string, atIso: string): void {
    this.s.retry.run(httpStatus, error.slice(0, 500), atIso, id);
  }

  markFailed(id: number, httpStatus: number | null, error: string): void {
    this.s.failed.run(httpStatus, error.slice(0, 500), id);
  }

  get(id: number): CallbackRow | undefined {
    return this.s.get.get(id) as CallbackRow | undefined;
  }

  forThread(threadId: number): CallbackRow[] {
    return this.s.forThread.all(threadId) as CallbackRow[];
  }

  countByStatus(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const r of this.s.counts.all() as { status: string; n: number }[]) out[r.status] = r.n;
    return out;
  }
}
