import type { SqliteHandle } from "../database.ts";
import type { NewThread, ThreadRecord } from "./repo.ts";

/**
 * The writes of an idea's intake that must be synchronous, so that they can share one transaction
 * with the capacity check and the job insert (JobQueue.enqueueWith): the thread row and a guest's
 * quota ledger. An intake refused for any reason leaves neither behind (no orphan thread, no
 * quota spent). The ledger (guest_quota_usage) holds no content, so /forget does not erase it.
 */
export class IntakeRepo {
  private readonly s: ReturnType<typeof prepare>;

  constructor(sqlite: SqliteHandle) {
    this.s = prepare(sqlite);
  }

  /** Inserts the thread (status active) and returns it as ThreadsRepo reads it. */
  createThread(t: NewThread): ThreadRecord {
    return this.s.insertThread.get({
      uuid: t.uuid,
      title: t.title,
      original_request: t.originalRequest,
      idea_type: t.ideaType,
      complexity_score: t.complexity,
      priority: t.priority,
      clarity: t.initialClarity,
      user_id: t.userId,
      chat_id: t.chatId,
      source: t.source,
      callback_url: t.callbackUrl ?? null,
      now: t.now,
    }) as ThreadRecord;
  }

  /** How many ideas the user's ledger holds for the day (YYYY-MM-DD, UTC). */
  quotaUsed(userId: string, day: string): number {
    const row = this.s.used.get(userId, day) as { count: number } | undefined;
    return row?.count ?? 0;
  }

  /** Counts one idea against the user's day; earlier days' rows are dropped (they limit nothing now). */
  spendQuota(userId: string, day: string): void {
    this.s.pastDays.run(day);
    this.s.spend.run(userId, day);
  }
}

function prepare(sqlite: SqliteHandle) {
  return {
    insertThread: sqlite.prepare(
      `INSERT INTO idea_threads (uuid, title, original_request, status, idea_type, complexity_score, priority,
         initial_clarity_score, final_clarity_score, user_id, chat_id, source, callback_url, created_date, last_active)
       VALUES (@uuid, @title, @original_request, 'active', @idea_type, @complexity_score, @priority,
         @clarity, @clarity, @user_id, @chat_id, @source, @callback_url, @now, @now)
       RETURNING id, uuid, title, original_request, status, idea_type, complexity_score, priority, user_id,
         chat_id, source, callback_url, initial_clarity_score, final_clarity_score, draft_count, created_date,
         last_active, completed_date, final_result_summary`,
    ),
    used: sqlite.prepare("SELECT count FROM guest_quota_usage WHERE user_id = ? AND day = ?"),
    pastDays: sqlite.prepare("DELETE FROM guest_quota_usage WHERE day < ?"),
    spend: sqlite.prepare(
      `INSERT INTO guest_quota_usage (user_id, day, count) VALUES (?, ?, 1)
       ON CONFLICT (user_id, day) DO UPDATE SET count = count + 1`,
    ),
  };
}
