import type BetterSqlite3 from "better-sqlite3";
import type { SqliteHandle } from "../database.ts";
import { JOB_COLUMNS } from "./rows.ts";

type Prepare = (sql: string) => BetterSqlite3.Statement;

/** Every SQL statement of the queue, prepared once per connection (the only SQL for jobs). */
export function prepareStatements(sqlite: SqliteHandle) {
  const p: Prepare = (sql) => sqlite.prepare(sql);
  return { ...lifecycleStatements(p), ...batchStatements(p), ...readStatements(p) };
}

/** A job's insert values, bound by position (values.ts, insertRow). */
const INSERT_COLUMNS = `thread_id, parent_job_id, job_sequence, job_type, job_subtype, status, priority,
  prompt_template_used, prompt_variables, requested_backend, max_retries, dependencies, user_id,
  required_clarity_level, achieved_clarity_level, scheduled_date, created_date`;
const INSERT_ROW = `(${INSERT_COLUMNS.split(",")
  .map(() => "?")
  .join(", ")})`;

/**
 * `insert` for `n` jobs in one statement (each job's insertRow in turn), returning their ids. The
 * ids follow the rows' order; RETURNING's order is not promised: callers sort them.
 */
export function prepareInsertRows(sqlite: SqliteHandle, n: number): BetterSqlite3.Statement {
  return sqlite
    .prepare(`INSERT INTO jobs (${INSERT_COLUMNS})
    VALUES ${Array.from({ length: n }, () => INSERT_ROW).join(", ")} RETURNING id`)
    .pluck();
}

/** What a completion sets, bound by position (values.ts, completionRow), then the id and attempt. */
const COMPLETE_COLUMNS = `full_result, result_summary, backend_used, model_used, cost_cents,
  execution_time_seconds, processing_time_seconds, queue_time_seconds, backend_confidence, model_confidence,
  fallback_used, final_backend, completed_date`;

/**
 * Group commit, one statement per batch where that is cheaper than one per job (insertRows above,
 * claimMany) or saves a lookup per job (dependentsOfMany). Each does what its one-job statement
 * does, under the same conditions. `LIMIT +@limit`, not `LIMIT @limit`: a bound LIMIT makes
 * SQLite prepare the statement again at each run (see ../stable-plans.ts; 5.9 µs a
 * run against 1.3 measured).
 */
function batchStatements(p: Prepare) {
  return {
    // The next `limit` ready jobs in nextReady's order (RETURNING's order is not promised: callers sort).
    claimMany: p(claimReady("+@limit")),
    // `dependents` of any of the ids in the JSON array.
    dependentsOfMany: p(`SELECT j.id FROM jobs j INDEXED BY idx_jobs_pending WHERE j.status = 'pending'
          AND EXISTS (SELECT 1 FROM json_each(j.dependencies) d WHERE d.value IN (SELECT value FROM json_each(?)))`),
  };
}

/**
 * Leases the next ready jobs (nextReady's order) in one statement: the pick and the update cannot
 * be told apart by another writer, and an empty queue changes nothing. `id = (…)` for one job:
 * `IN (…)` fills a temporary table first (1.3 µs a claim).
 */
const claimReady = (limit: string) => `UPDATE jobs SET status = 'running', attempt = attempt + 1,
    lease_owner = @owner, lease_expires_at = @until, started_date = @now
  WHERE id ${limit === "1" ? "=" : "IN"} (SELECT id FROM jobs INDEXED BY idx_jobs_ready
    WHERE status IN ('queued','retrying') AND scheduled_date <= @now AND cancel_requested = 0
    ORDER BY priority DESC, id LIMIT ${limit})
  AND status IN ('queued','retrying') RETURNING ${JOB_COLUMNS}`;

/** The writes that move a job through its states (insert, claim, complete, retry, fail, …). */
function lifecycleStatements(p: Prepare) {
  return {
    // Run for its lastInsertRowid: values.ts builds the rest (insertedJob). RETURNING, even of
    // the id alone, fills a temporary table.
    insert: p(`INSERT INTO jobs (${INSERT_COLUMNS}) VALUES ${INSERT_ROW}`),
    // The most urgent ready job (claimMany's statement for one).
    claimNext: p(claimReady("1")),
    renew: p(`UPDATE jobs SET lease_expires_at = ? WHERE id = ? AND attempt = ? AND status = 'running'`),
    complete: p(`UPDATE jobs SET status = 'completed',
          ${COMPLETE_COLUMNS.split(",")
            .map((c) => `${c.trim()} = ?`)
            .join(", ")},
          lease_owner = NULL, lease_expires_at = NULL, error_message = NULL
        WHERE id = ? AND attempt = ? AND status = 'running'`),
    retry: p(`UPDATE jobs SET status = 'retrying', retry_count = retry_count + 1, scheduled_date = @at,
          retry_reasons = json_insert(coalesce(retry_reasons, '[]'), '$[#]', @reason), error_message = @message,
          recovery_strategy = @strategy, lease_owner = NULL, lease_expires_at = NULL
        WHERE id = @id AND attempt = @attempt AND status = 'running'`),
    fail: p(`UPDATE jobs SET status = 'failed', error_message = ?, completed_date = ?, lease_owner = NULL,
          lease_expires_at = NULL WHERE id = ? AND attempt = ? AND status = 'running'`),
    failAny: p(`UPDATE jobs SET status = 'failed', error_message = ?, completed_date = ?, lease_owner = NULL,
          lease_expires_at = NULL WHERE id = ? AND status NOT IN ('completed','failed','cancelled')`),
    cancel:
      p(`UPDATE jobs SET status = 'cancelled', cancel_requested = 1, error_message = ?, completed_date = ?,
          lease_owner = NULL, lease_expires_at = NULL WHERE id = ? AND status NOT IN ('completed','failed','cancelled')`),
    requeue:
      p(`UPDATE jobs SET status = 'queued', lease_owner = NULL, lease_expires_at = NULL, scheduled_date = ?
          WHERE id = ? AND attempt = ? AND status = 'running'`),
    promote: p(`UPDATE jobs SET status = 'queued', scheduled_date = ? WHERE id = ? AND status = 'pending'`),
    pullForward: p(`UPDATE jobs INDEXED BY idx_jobs_retry_due SET scheduled_date = ?
          WHERE status = 'retrying' AND scheduled_date > ?`),
  };
}

/** The reads: single jobs, the ready queue, leases, counts. */
function readStatements(p: Prepare) {
  return {
    depStatus: p("SELECT id, status, error_message FROM jobs WHERE id = ?"),
    nextReady: p(`SELECT id FROM jobs INDEXED BY idx_jobs_ready WHERE status IN ('queued','retrying')
          AND scheduled_date <= ? AND cancel_requested = 0 ORDER BY priority DESC, id ASC LIMIT 1`),
    // Each status a query asks for has its own partial index (migration 022), named here so that a
    // plan which would read the whole table fails at prepare instead.
    expired: p(`SELECT id, attempt FROM jobs INDEXED BY idx_jobs_running
          WHERE status = 'running' AND (lease_expires_at IS NULL OR lease_expires_at < ?)`),
    // EXISTS rather than a join with DISTINCT: no temporary B-tree, and nothing to open at all
    // while no job waits on another (the common case, at every completion).
    dependents: p(`SELECT j.id FROM jobs j INDEXED BY idx_jobs_pending WHERE j.status = 'pending'
          AND EXISTS (SELECT 1 FROM json_each(j.dependencies) d WHERE d.value = ?)`),
    get: p(`SELECT ${JOB_COLUMNS} FROM jobs WHERE id = ?`),
    // The next retry's time (the scheduler's timer). Only retrying jobs can be due later: a queued
    // job's scheduled_date is the time it was queued, so it is claimable at once. The partial
    // index makes min() a walk from its first entry.
    nextDue: p(
      `SELECT min(scheduled_date) AS at FROM jobs INDEXED BY idx_jobs_retry_due
        WHERE status = 'retrying' AND cancel_requested = 0`,
    ),
    // Jobs the scheduler claims before this one (nextReady's order), for "N ahead of it": the
    // entries before it in idx_jobs_ready (`priority >=` bounds the walk there).
    ahead:
      p(`SELECT count(*) AS n FROM jobs me, jobs j INDEXED BY idx_jobs_ready WHERE me.id = ? AND j.id != me.id
          AND j.status IN ('queued','retrying') AND j.cancel_requested = 0 AND j.priority >= me.priority
          AND (j.priority > me.priority OR (j.priority = me.priority AND j.id < me.id))`),
    activeForThread: p(
      `SELECT ${JOB_COLUMNS} FROM jobs WHERE thread_id = ? AND status IN ('pending','queued','retrying','running')`,
    ),
    running: p(`SELECT ${JOB_COLUMNS} FROM jobs INDEXED BY idx_jobs_running WHERE status = 'running'`),
    leases: p(
      `SELECT id, attempt, lease_owner FROM jobs INDEXED BY idx_jobs_running WHERE status = 'running'`,
    ),
    // `+?`: with a bound `thread_id = ?` and ORDER BY, SQLite prepares the statement again on every
    // run (see ../stable-plans.ts).
    ofThread: p(`SELECT ${JOB_COLUMNS} FROM jobs WHERE thread_id = +? ORDER BY id`),
  };
}
