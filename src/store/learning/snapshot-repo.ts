import { type Kysely, sql } from "kysely";
import { z } from "zod";
import type { Database } from "../schema.ts";

/**
 * What one answer may change in the learned rows of its user, taken just before the answer is
 * recorded so that "It's a new idea" can put them back exactly: the user's learned patterns
 * (validated, corrected, discovered) and preferences (inferred from the answer), and the thread's
 * conversation columns (state, clarity, time). Restoring rewrites those rows as they were and
 * deletes the ones created since. It is stored with the answer (JSON) and read back through zod.
 */
export const LearningSnapshotSchema = z.object({
  userId: z.string(),
  thread: z.object({
    id: z.number().int(),
    clarity_slots: z.string().nullable(),
    final_clarity_score: z.number(),
    total_conversation_time_minutes: z.number(),
    optimization_savings: z.number(),
    conversation_effectiveness: z.number(),
  }),
  patterns: z.array(z.record(z.string(), z.unknown()).and(z.object({ id: z.number().int() }))),
  preferences: z.array(z.record(z.string(), z.unknown()).and(z.object({ id: z.number().int() }))),
});
export type LearningSnapshot = z.infer<typeof LearningSnapshotSchema>;

type Row = Record<string, unknown> & { id: number };

export class LearningSnapshotRepo {
  private readonly db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.db = db;
  }

  async take(threadId: number, userId: string): Promise<LearningSnapshot> {
    const thread = await this.db
      .selectFrom("idea_threads")
      .select([
        "id",
        "clarity_slots",
        "final_clarity_score",
        "total_conversation_time_minutes",
        "optimization_savings",
        "conversation_effectiveness",
      ])
      .where("id", "=", threadId)
      .executeTakeFirstOrThrow();
    return {
      userId,
      thread: LearningSnapshotSchema.shape.thread.parse(thread),
      patterns: (await patternRows(this.db, userId)) as Row[],
      preferences: (await preferenceRows(this.db, userId)) as Row[],
    };
  }

  /** Puts the rows back as the snapshot holds them; rows of the user created since are deleted. */
  async restore(s: LearningSnapshot): Promise<void> {
    const { id, ...thread } = s.thread;
    await this.db.transaction().execute(async (trx) => {
      await trx.updateTable("idea_threads").set(thread).where("id", "=", id).execute();
      await restoreRows(trx, "learned_patterns", (await patternRows(trx, s.userId)) as Row[], s.patterns);
      await restoreRows(
        trx,
        "user_preferences",
        (await preferenceRows(trx, s.userId)) as Row[],
        s.preferences,
      );
    });
  }
}

function patternRows(db: Kysely<Database>, userId: string) {
  return db
    .selectFrom("learned_patterns")
    .selectAll()
    .where(sql<string>`json_extract(trigger_conditions, '$.user_id')`, "=", userId)
    .execute();
}

function preferenceRows(db: Kysely<Database>, userId: string) {
  return db.selectFrom("user_preferences").selectAll().where("user_id", "=", userId).execute();
}

/** Rewrites the rows that still exist from the snapshot (only columns the table has) and deletes the new ones. */
async function restoreRows(
  trx: Kysely<Database>,
  table: "learned_patterns" | "user_preferences",
  now: Row[],
  before: Row[],
): Promise<void> {
  const old = new Map(before.map((r) => [r.id, r]));
  for (const row of now) {
    const was = old.get(row.id);
    if (!was) {
      await trx.deleteFrom(table).where("id", "=", row.id).execute();
      continue;
    }
    // Only the table's own columns, as read now: a snapshot never names a column.
    const set = Object.fromEntries(
      Object.keys(row).flatMap((k) => (k === "id" ? [] : [[k, was[k] ?? null]])),
    );
    await trx
      .updateTable(table)
      .set(set as never)
      .where("id", "=", row.id)
      .execute();
  }
}
