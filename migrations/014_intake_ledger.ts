import type { Kysely } from "kysely";
import { sql } from "kysely";

/**
 * 014 — guest_quota_usage: how many ideas a guest sent on a UTC day, the ledger behind the guest
 * daily quota. It holds no content (user id, day, count), so /forget — which deletes the user's
 * threads — does not erase it: counting idea_threads let a guest reset the quota with /forget.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE TABLE guest_quota_usage (
    user_id TEXT NOT NULL,
    day TEXT NOT NULL,
    count INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, day)
  )`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE IF EXISTS guest_quota_usage`.execute(db);
}
