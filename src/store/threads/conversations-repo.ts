import type { Kysely } from "kysely";
import type { ConversationRow, ConversationUpdate, Database, NewConversation } from "../schema.ts";

/**
 * The conversations table: one row per question asked (conversation_position 1, 2, …) and one per
 * slot pre-filled from a learned pattern (conversation_position NULL, pattern_matched set, answered
 * at once). `optimization_suggested` (JSON) holds the question's plan: the suggestions shown, the
 * learner's predicted improvement and seconds, and after feedback the credited quality improvement.
 */
export type ResponseType = "direct_answer" | "clarification" | "preference" | "correction";

export interface NewQuestion {
  threadId: number;
  jobId: number | null;
  phase: "initial" | "clarification" | "refinement" | "completion";
  text: string;
  slot: string;
  templateId: number | null;
  confidence: number;
  position: number | null;
  askedDate: string;
  patternMatched?: string | null;
  plan: object;
}

export interface ResponseFields {
  response: string;
  responseType: ResponseType;
  respondedDate: string;
  seconds: number;
  clarityImprovement: number;
  efficiency: number;
  predictionAccuracy: number;
  plan?: object;
}

/** A responded question with its thread's idea type and owner: what the question model learns from. */
export interface QuestionObservationRow {
  id: number;
  thread_id: number;
  question_template_id: number | null;
  question_type: string;
  response_type: string | null;
  user_response: string | null;
  response_time_seconds: number;
  clarity_improvement: number;
  optimization_suggested: string | null;
  idea_type: string | null;
  original_request: string;
  user_id: string | null;
}

export interface UserAnswerRow {
  id: number;
  thread_id: number;
  question_type: string;
  user_response: string | null;
  response_type: string | null;
  response_time_seconds: number;
  idea_type: string | null;
  /** The idea's text (its kind is derived from it: quick-analysis ideaKind). */
  original_request: string;
}

export class ConversationsRepo {
  private readonly db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.db = db;
  }

  /** A pre-filled slot: asked of nobody, answered by a pattern. */
  async insertPrefill(q: NewQuestion & { value: string }): Promise<ConversationRow> {
    return this.db
      .insertInto("conversations")
      .values({
        ...questionRow(q),
        responded_date: q.askedDate,
        conversation_position: null,
        user_response: q.value,
        response_type: "preference",
      })
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  async byId(id: number): Promise<ConversationRow | undefined> {
    return this.db.selectFrom("conversations").selectAll().where("id", "=", id).executeTakeFirst();
  }

  async forThread(threadId: number): Promise<ConversationRow[]> {
    return this.db
      .selectFrom("conversations")
      .selectAll()
      .where("thread_id", "=", threadId)
      .orderBy("id")
      .execute();
  }

  /** The asked, unanswered question of a thread (the latest one). */
  async pending(threadId: number): Promise<ConversationRow | undefined> {
    return this.db
      .selectFrom("conversations")
      .selectAll()
      .where("thread_id", "=", threadId)
      .where("conversation_position", "is not", null)
      .where("responded_date", "is", null)
      .orderBy("id", "desc")
      .executeTakeFirst();
  }

  /** Records an answer once; false when the question was already answered. */
  async respond(id: number, r: ResponseFields): Promise<boolean> {
    const set: ConversationUpdate = {
      user_response: r.response,
      response_type: r.responseType,
      responded_date: r.respondedDate,
      response_time_seconds: r.seconds,
      clarity_improvement: r.clarityImprovement,
      conversation_efficiency: r.efficiency,
      prediction_accuracy: r.predictionAccuracy,
    };
    if (r.plan !== undefined) set.optimization_suggested = JSON.stringify(r.plan);
    const result = await this.db
      .updateTable("conversations")
      .set(set)
      .where("id", "=", id)
      .where("responded_date", "is", null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /**
   * Information the user volunteered (no question was asked): its own entry, next in the
   * conversation, which the refined draft includes and the question model does not learn from.
   * The same text twice (a client retrying) is stored once. Returns the entry's id.
   */
  async addInformation(threadId: number, text: string, now: string): Promise<number> {
    const same = await this.db
      .selectFrom("conversations")
      .select("id")
      .where("thread_id", "=", threadId)
      .where("question_asked", "=", INFORMATION)
      .where("user_response", "=", text)
      .executeTakeFirst();
    if (same) return same.id;
    const last = await this.db
      .selectFrom("conversations")
      .select((eb) => eb.fn.max("conversation_position").as("p"))
      .where("thread_id", "=", threadId)
      .executeTakeFirst();
    const row = await this.db
      .insertInto("conversations")
      .values({
        thread_id: threadId,
        conversation_phase: "refinement",
        question_asked: INFORMATION,
        question_type: "context",
        user_response: text,
        response_type: "clarification",
        asked_date: now,
        responded_date: now,
        conversation_position: Number(last?.p ?? 0) + 1,
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    return row.id;
  }

  /** An answer taken back ("It's a new idea"): the question is open again, with the plan it was asked with. */
  async reopen(id: number, plan: object): Promise<void> {
    await this.db
      .updateTable("conversations")
      .set({
        user_response: null,
        response_type: null,
        responded_date: null,
        response_time_seconds: 0,
        clarity_improvement: 0,
        conversation_efficiency: 0,
        prediction_accuracy: 0,
        optimization_suggested: JSON.stringify(plan),
      })
      .where("id", "=", id)
      .execute();
  }

  /** Deletes the thread's unanswered questions asked after question `afterId`; returns them. */
  async deleteOpenAfter(threadId: number, afterId: number): Promise<ConversationRow[]> {
    return this.db
      .deleteFrom("conversations")
      .where("thread_id", "=", threadId)
      .where("id", ">", afterId)
      .where("conversation_position", "is not", null)
      .where("responded_date", "is", null)
      .returningAll()
      .execute();
  }

  async setPlan(id: number, plan: object): Promise<void> {
    await this.db
      .updateTable("conversations")
      .set({ optimization_suggested: JSON.stringify(plan) })
      .where("id", "=", id)
      .execute();
  }

  async setThreadSatisfaction(threadId: number, rating: number): Promise<void> {
    await this.db
      .updateTable("conversations")
      .set({ user_satisfaction: rating })
      .where("thread_id", "=", threadId)
      .execute();
  }

  /** Every answered question (not pre-fills, not "enough"), oldest first, for rebuilding the model. */
  async observations(): Promise<QuestionObservationRow[]> {
    return this.db
      .selectFrom("conversations as c")
      .innerJoin("idea_threads as t", "t.id", "c.thread_id")
      .select([
        "c.id",
        "c.thread_id",
        "c.question_template_id",
        "c.question_type",
        "c.response_type",
        "c.user_response",
        "c.response_time_seconds",
        "c.clarity_improvement",
        "c.optimization_suggested",
        "t.idea_type",
        "t.original_request",
        "t.user_id",
      ])
      .where("c.conversation_position", "is not", null)
      .where("c.responded_date", "is not", null)
      .where("c.user_response", "!=", ENOUGH)
      .where("c.question_asked", "!=", INFORMATION)
      .orderBy("c.id")
      .execute();
  }

  /**
   * A user's latest answers about one slot (asked questions only, not pre-fills), optionally for
   * one idea type, newest first: what patterns are discovered from.
   */
  async userAnswers(
    userId: string,
    slot: string,
    ideaType: string | null,
    limit: number,
  ): Promise<UserAnswerRow[]> {
    let q = this.answersOf(userId).where("c.question_type", "=", slot);
    if (ideaType !== null) q = q.where("t.idea_type", "=", ideaType);
    return q.orderBy("c.id", "desc").limit(limit).execute();
  }

  /** A user's latest substantive answers to any slot, newest first (one query for all slots). */
  async recentAnswers(userId: string, limit: number): Promise<UserAnswerRow[]> {
    return this.answersOf(userId).orderBy("c.id", "desc").limit(limit).execute();
  }

  /** The user's substantive answers to asked questions (not pre-fills, not "enough"). */
  private answersOf(userId: string) {
    return this.db
      .selectFrom("conversations as c")
      .innerJoin("idea_threads as t", "t.id", "c.thread_id")
      .select([
        "c.id",
        "c.thread_id",
        "c.question_type",
        "c.user_response",
        "c.response_type",
        "c.response_time_seconds",
        "t.idea_type",
        "t.original_request",
      ])
      .where("t.user_id", "=", userId)
      .where("c.conversation_position", "is not", null)
      .where("c.responded_date", "is not", null)
      .where("c.response_type", "in", ["direct_answer", "correction", "preference"])
      .where("c.user_response", "!=", ENOUGH);
  }
}

/** What user_response holds for a question closed by "enough" and by a skip. */
export const ENOUGH = "(enough)";
/** question_asked of an entry holding information the user volunteered (no question was asked). */
export const INFORMATION = "(additional information)";
export const SKIPPED = "(skipped)";

/**
 * The columns every question row has, asked or pre-filled (an asked one is inserted by
 * QuestionStepRepo, with the rest of its step).
 */
export const QUESTION_COLUMNS = [
  "thread_id",
  "job_id",
  "conversation_phase",
  "question_asked",
  "question_type",
  "question_template_id",
  "question_confidence",
  "asked_date",
  "conversation_position",
  "pattern_matched",
  "optimization_suggested",
] as const satisfies readonly (keyof NewConversation)[];

/** Its type lists exactly QUESTION_COLUMNS: a column added here and not there does not compile. */
export function questionRow(
  q: NewQuestion,
): Required<Pick<NewConversation, (typeof QUESTION_COLUMNS)[number]>> {
  return {
    thread_id: q.threadId,
    job_id: q.jobId,
    conversation_phase: q.phase,
    question_asked: q.text,
    question_type: q.slot,
    question_template_id: q.templateId,
    question_confidence: q.confidence,
    asked_date: q.askedDate,
    conversation_position: q.position,
    pattern_matched: q.patternMatched ?? null,
    optimization_suggested: JSON.stringify(q.plan),
  };
}
