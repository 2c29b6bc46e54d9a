import { afterEach, describe, expect, it } from "vitest";
import { type ApiHarness, apiHarness } from "./api-harness.ts";

/** POST /api/threads/:id/continue records a chosen suggestion as a tap, as Telegram and the chat do. */

let h: ApiHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function stored(harness: ApiHarness, questionId: number) {
  const row = await harness.database.db
    .selectFrom("conversations")
    .select(["user_response", "optimization_suggested", "clarity_improvement"])
    .where("id", "=", questionId)
    .executeTakeFirstOrThrow();
  return { ...row, plan: JSON.parse(row.optimization_suggested ?? "{}") as Record<string, unknown> };
}

describe("POST /api/threads/:id/continue with suggestion_index", () => {
  it("records the chosen suggestion as a tap, with its text and a suggestion's clarity", async () => {
    h = await apiHarness();
    const { thread_id, questions } = await h.submit();
    const q1 = questions[0]!;
    expect(q1.suggestions.length).toBeGreaterThan(1);
    h.clock.advance(2_000);
    const res = await h.call("POST", `/api/threads/${thread_id}/continue`, {
      json: { answers: [{ question_id: q1.question_id, suggestion_index: 1 }] },
    });
    expect(res.status).toBe(200);
    expect(res.json.data.updated_understanding.answered).toEqual([
      {
        question_id: q1.question_id,
        question: q1.text,
        answer: q1.suggestions[1],
        suggestion_index: 1,
        action: null,
      },
    ]);
    const row = await stored(h, q1.question_id);
    expect(row.user_response).toBe(q1.suggestions[1]);
    // A tap: the time model learns how fast a tap is from it.
    expect(row.plan.answered_by).toBe("tap");
    expect(row.clarity_improvement).toBeGreaterThan(0);
  });

  it("keeps text for free answers (typed) and refuses an index with text, or one out of range", async () => {
    h = await apiHarness();
    const { thread_id, questions } = await h.submit();
    const q1 = questions[0]!;
    const both = await h.call("POST", `/api/threads/${thread_id}/continue`, {
      json: { answers: [{ question_id: q1.question_id, suggestion_index: 0, answer: "x" }] },
    });
    expect(both.status).toBe(400);
    const negative = await h.call("POST", `/api/threads/${thread_id}/continue`, {
      json: { answers: [{ question_id: q1.question_id, suggestion_index: -1 }] },
    });
    expect(negative.status).toBe(400);
    const beyond = await h.call("POST", `/api/threads/${thread_id}/continue`, {
      json: { answers: [{ question_id: q1.question_id, suggestion_index: q1.suggestions.length }] },
    });
    expect(beyond.status).toBe(400);
    expect((await stored(h, q1.question_id)).user_response).toBeNull();
    const typed = await h.call("POST", `/api/threads/${thread_id}/continue`, {
      json: { answers: [{ question_id: q1.question_id, answer: "Something of my own" }] },
    });
    expect(typed.status).toBe(200);
    expect((await stored(h, q1.question_id)).plan.answered_by).toBe("type");
  });
});
