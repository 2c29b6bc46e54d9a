import { INFORMATION } from "../../store/threads/conversations-repo.ts";
import { nowIso, type ThreadQueriesDeps, touchThread } from "./records.ts";

/**
 * Information a user volunteers through the HTTP API (POST /api/threads/:id/continue). It is not
 * an answer to a question: it is stored as its own conversation entry, which the conversation
 * flow's refined draft includes (and the question model does not learn from).
 */
export async function addInformation(d: ThreadQueriesDeps, threadId: number, text: string): Promise<number> {
  // A client retrying a request that failed after storing it must not store it twice.
  const same = await d.db
    .selectFrom("conversations")
    .select("id")
    .where("thread_id", "=", threadId)
    .where("question_asked", "=", INFORMATION)
    .where("user_response", "=", text)
    .executeTakeFirst();
  if (same) return same.id;
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
  await touchThread(d, threadId, now);
  return row.id;
}
