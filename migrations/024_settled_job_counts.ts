import type { Kysely } from "kysely";
import { sql } from "kysely";

/**
 * 024 — status_counts keeps only the settled statuses of jobs (completed, failed, cancelled, and
 * 'unknown' for a NULL status); the unfinished ones (pending, queued, retrying, running) are
 * counted from their partial indexes (022) when asked (src/store/jobs/counts.ts).
 *
 * Why (issue 17): 010's triggers moved two counters at every transition, so every enqueue, claim
 * and completion also rewrote the status_counts page and ran two upserts. Now only a job's last
 * transition (into a settled status) moves a counter: a job writes 11.8 WAL pages, not 13.8. Counting an unfinished status walks its own partial index, which holds only the jobs in
 * that status — at most the queue's length (hermes.web.max_queued_jobs), never the history.
 * idx_jobs_ready gains `status` as its last column, so that counting it reads the index alone
 * (an IN on the column of a partial index's WHERE is checked against the row otherwise); it is
 * written at the same transitions as before.
 */
const ACTIVE = "('pending','queued','retrying','running')";
/**
 * Comparisons, not `NOT IN (…)`: a trigger runs as a sub-program whose list of IN values is built
 * again (a temporary b-tree) at every row, which cost more than the counter it saves.
 */
const settled = (row: "NEW" | "OLD") =>
  `(${row}.status IS NULL OR (${["pending", "queued", "retrying", "running"]
    .map((s) => `${row}.status <> '${s}'`)
    .join(" AND ")}))`;
const bump = (row: "NEW" | "OLD", delta: 1 | -1) =>
  `INSERT INTO status_counts (scope, status, n) VALUES ('jobs', coalesce(${row}.status, 'unknown'), ${delta})
     ON CONFLICT (scope, status) DO UPDATE SET n = n + (${delta});`;
/** As bump, only when `row` is settled (an upsert from a SELECT needs its WHERE to parse). */
const bumpIfSettled = (row: "NEW" | "OLD", delta: 1 | -1) =>
  `INSERT INTO status_counts (scope, status, n) SELECT 'jobs', coalesce(${row}.status, 'unknown'), ${delta}
     WHERE ${settled(row)} ON CONFLICT (scope, status) DO UPDATE SET n = n + (${delta});`;

const SETTLED_TRIGGERS: Record<string, string> = {
  trg_jobs_count_ins: `AFTER INSERT ON jobs WHEN ${settled("NEW")} BEGIN ${bump("NEW", 1)} END`,
  trg_jobs_count_del: `AFTER DELETE ON jobs WHEN ${settled("OLD")} BEGIN ${bump("OLD", -1)} END`,
  // One trigger, not one per side: each trigger runs as a sub-program at every updated row, even
  // when its WHEN is false (a claim). Leaving a settled status is rare (a hand edit, a restore).
  trg_jobs_count_upd: `AFTER UPDATE OF status ON jobs
    WHEN OLD.status IS NOT NEW.status AND (${settled("OLD")} OR ${settled("NEW")})
    BEGIN ${bumpIfSettled("OLD", -1)} ${bumpIfSettled("NEW", 1)} END`,
};

/** 010's triggers, every status counted at every transition (for down). */
const ALL_STATUS_TRIGGERS: Record<string, string> = {
  trg_jobs_count_ins: `AFTER INSERT ON jobs BEGIN ${bump("NEW", 1)} END`,
  trg_jobs_count_del: `AFTER DELETE ON jobs BEGIN ${bump("OLD", -1)} END`,
  trg_jobs_count_upd: `AFTER UPDATE OF status ON jobs
    WHEN OLD.status IS NOT NEW.status BEGIN ${bump("OLD", -1)} ${bump("NEW", 1)} END`,
};

const READY_ON = "ON jobs (priority DESC, id";
const READY_WHERE = "WHERE status IN ('queued','retrying')";

async function replaceReadyIndex(db: Kysely<unknown>, columns: string): Promise<void> {
  await sql`DROP INDEX IF EXISTS idx_jobs_ready`.execute(db);
  await sql.raw(`CREATE INDEX idx_jobs_ready ${READY_ON}${columns}) ${READY_WHERE}`).execute(db);
}

async function replaceTriggers(db: Kysely<unknown>, from: string[], to: Record<string, string>) {
  for (const name of from) await sql.raw(`DROP TRIGGER IF EXISTS ${name}`).execute(db);
  for (const [name, body] of Object.entries(to)) await sql.raw(`CREATE TRIGGER ${name} ${body}`).execute(db);
}

export async function up(db: Kysely<unknown>): Promise<void> {
  await replaceTriggers(db, Object.keys(ALL_STATUS_TRIGGERS), SETTLED_TRIGGERS);
  await sql.raw(`DELETE FROM status_counts WHERE scope = 'jobs' AND status IN ${ACTIVE}`).execute(db);
  await replaceReadyIndex(db, ", status");
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await replaceTriggers(db, Object.keys(SETTLED_TRIGGERS), ALL_STATUS_TRIGGERS);
  await sql
    .raw(`INSERT INTO status_counts (scope, status, n)
    SELECT 'jobs', status, count(*) FROM jobs WHERE status IN ${ACTIVE} GROUP BY status`)
    .execute(db);
  await replaceReadyIndex(db, "");
}
