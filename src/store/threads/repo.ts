import { type Kysely, sql } from "kysely";
import { precompile } from "../precompiled.ts";
import type { Database, ThreadSource } from "../schema.ts";

export interface ThreadRecord {
  id: number;
  uuid: string;
  title: string;
  original_request: string;
  status: string;
  idea_type: string | null;
  complexity_score: number;
  priority: number;
  user_id: string | null;
  chat_id: string | null;
  source: string | null;
  callback_url: string | null;
  initial_clarity_score: number;
  final_clarity_score: number;
  draft_count: number;
  created_date: string;
  last_active: string;
  completed_date: string | null;
  final_result_summary: string | null;
}

export interface NewThread {
  uuid: string;
  title: string;
  originalRequest: string;
  ideaType: string;
  complexity: number;
  priority: number;
  initialClarity: number;
  userId: string;
  chatId: string | null;
  source: ThreadSource;
  callbackUrl?: string | null;
  now: string;
}

const COLUMNS = [
  "id",
  "uuid",
  "title",
  "original_request",
  "status",
  "idea_type",
  "complexity_score",
  "priority",
  "user_id",
  "chat_id",
  "source",
  "callback_url",
  "initial_clarity_score",
  "final_clarity_score",
  "draft_count",
  "created_date",
  "last_active",
  "completed_date",
  "final_result_summary",
] as const;

export class ThreadsRepo {
  private readonly db: Kysely<Database>;
  // Read at every queue event and written at every draft: compiled once (../precompiled.ts).
  private readonly byIdQuery;
  private readonly recordDraftQuery;

  constructor(db: Kysely<Database>) {
    this.db = db;
    this.byIdQuery = precompile(db, 1, (id: number) =>
      db.selectFrom("idea_threads").select(COLUMNS).where("id", "=", id),
    );
    this.recordDraftQuery = precompile(db, 3, (id: number, summary: string, now: string) =>
      db
        .updateTable("idea_threads")
        .set((eb) => ({
          draft_count: eb("draft_count", "+", 1),
          final_result_summary: summary,
          last_active: now,
        }))
        .where("id", "=", id)
        .returning(COLUMNS),
    );
  }

  async create(t: NewThread): Promise<ThreadRecord> {
    const row = await this.db
      .insertInto("idea_threads")
      .values({
        uuid: t.uuid,
        title: t.title,
        original_request: t.originalRequest,
        status: "active",
        idea_type: t.ideaType,
        complexity_score: t.complexity,
        priority: t.priority,
        initial_clarity_score: t.initialClarity,
        final_clarity_score: t.initialClarity,
        user_id: t.userId,
        chat_id: t.chatId,
        source: t.source,
        callback_url: t.callbackUrl ?? null,
        created_date: t.now,
        last_active: t.now,
      })
      .returning(COLUMNS)
      .executeTakeFirstOrThrow();
    return row as ThreadRecord;
  }

  async byId(id: number): Promise<ThreadRecord | undefined> {
    return (await this.byIdQuery(id)).rows[0] as ThreadRecord | undefined;
  }

  /**
   * By full uuid or by its short prefix (as shown to users), within one user's threads when given.
   * A prefix is a range on the uuid index (`LIKE 'x%'` cannot use it and scanned every thread).
   */
  async byRef(ref: string, userId?: string): Promise<ThreadRecord | undefined> {
    let q = this.db.selectFrom("idea_threads").select(COLUMNS);
    if (ref.length >= 36) q = q.where("uuid", "=", ref);
    else {
      // uuids are stored lowercase; LIKE matched case-insensitively, so the range does too.
      const prefix = ref.toLowerCase().replace(/[%_]/g, "");
      if (prefix === "") return undefined;
      const last = prefix.charCodeAt(prefix.length - 1);
      const upper = prefix.slice(0, -1) + String.fromCharCode(last + 1);
      q = q.where("uuid", ">=", prefix).where("uuid", "<", upper);
    }
    // `+user_id` keeps the planner on the uuid index: the user index would read all their threads.
    if (userId !== undefined) q = q.where(sql<string>`+user_id`, "=", userId);
    return (await q.orderBy("id", "desc").executeTakeFirst()) as ThreadRecord | undefined;
  }

  async recentForUser(userId: string, limit: number): Promise<ThreadRecord[]> {
    return (await this.db
      .selectFrom("idea_threads")
      .select(COLUMNS)
      .where("user_id", "=", userId)
      .orderBy("last_active", "desc")
      .orderBy("id", "desc")
      .limit(limit)
      .execute()) as ThreadRecord[];
  }

  /**
   * Counts a draft stored already finished (an external result); returns the thread as it is now.
   * A job the queue completes is counted by the completion itself (migration 025's trigger), in the
   * same commit: never call this for one, it would count it twice.
   */
  async recordDraft(id: number, summary: string, now: string): Promise<ThreadRecord | undefined> {
    return (await this.recordDraftQuery(id, summary, now)).rows[0] as ThreadRecord | undefined;
  }

  /** Marks the thread active now. */
  async touch(id: number, now: string): Promise<void> {
    await this.db.updateTable("idea_threads").set({ last_active: now }).where("id", "=", id).execute();
  }

  async setStatus(id: number, status: string, now: string): Promise<void> {
    await this.db
      .updateTable("idea_threads")
      .set({ status, last_active: now, ...(status === "completed" ? { completed_date: now } : {}) })
      .where("id", "=", id)
      .execute();
  }

  async countForUser(userId: string): Promise<number> {
    const row = await this.db
      .selectFrom("idea_threads")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("user_id", "=", userId)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }
}
