import { HermesError } from "../errors.ts";
import { nowIso, type QuestionRecord, type ThreadQueriesDeps, touchThread } from "./thread-records.ts";

/**
 * A thread's questions for the HTTP API: the open ones, and the fallback write paths (answer,
 * skip, volunteered information) used when no ConversationPort is wired.
 */

/** Asked and not yet answered (nor skipped), oldest first. */
export async function pendingQuestions(d: ThreadQueriesDeps, threadId: number): Promise<QuestionRecord[]> {
  return (await d.db
    .selectFrom("conversations")
    .select([
      "id",
      "thread_id",
      "question_asked",
      "question_type",
      "conversation_position",
      "asked_date",
      "user_response",
    ])
    .where("thread_id", "=", threadId)
    .where("user_response", "is", null)
    .where("response_type", "is", null)
    .orderBy("id")
    .execute()) as QuestionRecord[];
}

/** Records an answer to a question of this thread (fallback when no ConversationPort is wired). */
export async function answerQuestion(
  d: ThreadQueriesDeps,
  threadId: number,
  questionId: number,
  answer: string,
): Promise<QuestionRecord> {
  const row = (await d.db
    .selectFrom("conversations")
    .select([
      "id",
      "thread_id",
      "question_asked",
      "question_type",
      "conversation_position",
      "asked_date",
      "user_response",
      "response_type",
    ])
    .where("id", "=", questionId)
    .where("thread_id", "=", threadId)
    .executeTakeFirst()) as (QuestionRecord & { response_type: string | null }) | undefined;
  if (!row)
    throw new HermesError("NOT_FOUND", `Question ${questionId} is not part of this thread.`, {
      details: "answers.question_id",
    });
  if (row.user_response !== null || row.response_type !== null)
    throw new HermesError("INVALID_INPUT", `Question ${questionId} was already answered.`, {
      details: "answers.question_id",
    });
  const now = nowIso(d);
  await d.db
    .updateTable("conversations")
    .set({
      user_response: answer,
      response_type: "direct_answer",
      responded_date: now,
      response_time_seconds: Math.max(0, (Date.parse(now) - Date.parse(row.asked_date)) / 1000) || 0,
    })
    .where("id", "=", questionId)
    .execute();
  return { ...row, user_response: answer };
}

/** Marks open questions as skipped: the given ones, or every open one of the thread ("enough"). */
export async function skipQuestions(
  d: ThreadQueriesDeps,
  threadId: number,
  which: number[] | "all",
): Promise<number> {
  let q = d.db
    .updateTable("conversations")
    .set({ response_type: "skipped", responded_date: nowIso(d) })
    .where("thread_id", "=", threadId)
    .where("user_response", "is", null)
    .where("response_type", "is", null);
  if (which !== "all") {
    if (which.length === 0) return 0;
    q = q.where("id", "in", which);
  }
  const res = await q.executeTakeFirst();
  return Number(res.numUpdatedRows);
}

/** Stores information the user volunteered as a conversation entry of the thread. */
export async function addInformation(d: ThreadQueriesDeps, threadId: number, text: string): Promise<number> {
  const now = nowIso(d);
  const last = await d.db
    .selectFrom("conversations")
    .select((eb) => eb.fn.max("conversation_position").as("p"))
    .where("thread_id", "=", threadId)
    .executeTakeFirst();
  const row = await d.db
    .insertInto("conversations")
    .values({
      thread_id: threadId,
      conversation_phase: "refinement",
      question_asked: "(additional information)",
      question_type: "context",
      user_response: text,
      response_type: "clarification",
      asked_date: now,
      responded_date: now,
      conversation_position: Number(last?.p ?? 0) + 1,
    })
    .returning("id")
    .executeTakeFirstOrThrow();
  await touchThread(d, threadId, now);
  return row.id;
}
