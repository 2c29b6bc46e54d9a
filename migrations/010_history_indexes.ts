import type { Kysely } from "kysely";
import { sql } from "kysely";

/**
 * 010 — keep per-idea reads constant however long Hermes has been used (issue 17).
 * - Partial indexes give each backend's last successful response time, and "the last 20 completed jobs" (the time estimate on every submit) and
 *   "jobs completed today" (/metrics) without scanning or sorting every completed job.
 * - `status_counts` holds row counts per (table, status), kept by triggers in the same
 *   transaction as each write, so /metrics reads a few rows instead of counting whole tables.
 *   Conversations count as 'asked' (every row) and 'answered' (user_response set).
 */
// Every status column is nullable in the schema; status_counts.status is not, so a NULL counts as
// 'unknown' (a NULL would fail the backfill, and then every write through the trigger).
const COUNTED: { table: string; status: string }[] = [
  { table: "jobs", status: "coalesce(NEW.status, 'unknown')" },
  { table: "idea_threads", status: "coalesce(NEW.status, 'unknown')" },
  { table: "external_callbacks", status: "coalesce(NEW.status, 'unknown')" },
];

const bump = (scope: string, status: string, delta: number | string) =>
  `INSERT INTO status_counts (scope, status, n) VALUES ('${scope}', ${status}, ${delta})
     ON CONFLICT (scope, status) DO UPDATE SET n = n + (${delta});`;

function statusTriggers(table: string, status: string): string[] {
  const old = status.replaceAll("NEW.", "OLD.");
  return [
    `CREATE TRIGGER trg_${table}_count_ins AFTER INSERT ON ${table} BEGIN ${bump(table, status, 1)} END`,
    `CREATE TRIGGER trg_${table}_count_del AFTER DELETE ON ${table} BEGIN ${bump(table, old, -1)} END`,
    `CREATE TRIGGER trg_${table}_count_upd AFTER UPDATE OF status ON ${table}
       WHEN OLD.status IS NOT NEW.status BEGIN ${bump(table, old, -1)} ${bump(table, status, 1)} END`,
  ];
}

const ANSWERED = "(CASE WHEN NEW.user_response IS NOT NULL THEN 1 ELSE 0 END)";
const conversationTriggers = [
  `CREATE TRIGGER trg_conversations_count_ins AFTER INSERT ON conversations BEGIN
     ${bump("conversations", "'asked'", 1)} ${bump("conversations", "'answered'", ANSWERED)} END`,
  `CREATE TRIGGER trg_conversations_count_del AFTER DELETE ON conversations BEGIN
     ${bump("conversations", "'asked'", -1)}
     ${bump("conversations", "'answered'", "(CASE WHEN OLD.user_response IS NOT NULL THEN -1 ELSE 0 END)")} END`,
  `CREATE TRIGGER trg_conversations_count_upd AFTER UPDATE OF user_response ON conversations
     WHEN (OLD.user_response IS NULL) IS NOT (NEW.user_response IS NULL) BEGIN
     ${bump("conversations", "'answered'", "(CASE WHEN NEW.user_response IS NULL THEN -1 ELSE 1 END)")} END`,
];

const BACKFILL = [
  ...COUNTED.map(
    ({ table, status }) => `INSERT INTO status_counts (scope, status, n)
      SELECT '${table}', ${status.replace("NEW.", "")}, count(*) FROM ${table} GROUP BY 2`,
  ),
  `INSERT INTO status_counts (scope, status, n) SELECT 'conversations', 'asked', count(*) FROM conversations`,
  `INSERT INTO status_counts (scope, status, n)
     SELECT 'conversations', 'answered', count(*) FROM conversations WHERE user_response IS NOT NULL`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  // Full (status, x) indexes rather than partial ones: without ANALYZE statistics the planner
  // prefers the older (status, ...) indexes unless the new one also serves the order or range.
  await sql`CREATE INDEX idx_jobs_status_id ON jobs (status, id)`.execute(db);
  await sql`CREATE INDEX idx_jobs_status_completed ON jobs (status, completed_date)`.execute(db);
  await sql`CREATE INDEX idx_backend_performance_last_ok ON backend_performance (backend_id, id)
    WHERE success = 1`.execute(db);
  await sql`CREATE INDEX idx_conversations_asked_date ON conversations (asked_date)`.execute(db);
  await sql`CREATE TABLE status_counts (
    scope TEXT NOT NULL, status TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (scope, status)
  )`.execute(db);
  const statements = [
    ...BACKFILL,
    ...COUNTED.flatMap(({ table, status }) => statusTriggers(table, status)),
    ...conversationTriggers,
  ];
  for (const s of statements) await sql.raw(s).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  const triggers = [...COUNTED.map((c) => c.table), "conversations"].flatMap((t) =>
    ["ins", "del", "upd"].map((k) => `trg_${t}_count_${k}`),
  );
  for (const t of triggers) await sql.raw(`DROP TRIGGER IF EXISTS ${t}`).execute(db);
  await sql`DROP TABLE IF EXISTS status_counts`.execute(db);
  for (const i of [
    "idx_jobs_status_id",
    "idx_jobs_status_completed",
    "idx_backend_performance_last_ok",
    "idx_conversations_asked_date",
  ])
    await sql.raw(`DROP INDEX IF EXISTS ${i}`).execute(db);
}
