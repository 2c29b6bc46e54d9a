import { afterEach, describe, expect, it } from "vitest";
import { type ApiHarness, apiHarness } from "./api-harness.ts";

/** Assumptions from earlier conversations: shown in the API's responses, corrected with one call. */

let h: ApiHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** A poem idea through the API: context answered "for my book club", everything else skipped. */
async function poem(harness: ApiHarness, n: number) {
  const sub = await harness.submit(`Write a poem number ${n}`);
  let q = sub.questions[0];
  while (q) {
    const answer =
      q.slot === "context"
        ? { question_id: q.question_id, answer: "for my book club" }
        : { question_id: q.question_id, action: "skip" };
    const r = await harness.call("POST", `/api/threads/${sub.thread_id}/continue`, {
      json: { answers: [answer] },
    });
    q = r.json.data.pending_questions[0];
  }
  return sub;
}

describe("assumptions through the HTTP API", () => {
  it("submit and status show every assumption; a correction takes it back and counts against the pattern", async () => {
    h = await apiHarness();
    for (let i = 0; i < 5; i++) await poem(h, i);
    const sub = await h.submit("Write a poem about the sea");
    const shown = sub.assumptions.filter((a) => a.slot === "context");
    expect(shown).toEqual([
      {
        slot: "context",
        label: "Context",
        value: "for my book club",
        text: "Assumed from earlier — Context: for my book club",
      },
    ]);
    const status = await h.call("GET", `/api/threads/${sub.thread_id}/status`);
    expect(status.json.data.assumptions).toEqual(sub.assumptions);
    const res = await h.call("POST", `/api/threads/${sub.thread_id}/continue`, {
      json: { corrections: ["context"] },
    });
    expect(res.status).toBe(200);
    expect(res.json.data.updated_understanding.corrected).toEqual(["context"]);
    const after = await h.call("GET", `/api/threads/${sub.thread_id}/status`);
    expect(after.json.data.assumptions.some((a: { slot: string }) => a.slot === "context")).toBe(false);
    const pattern = await h.database.db
      .selectFrom("learned_patterns")
      .selectAll()
      .where("pattern_name", "like", "prefill context%")
      .executeTakeFirstOrThrow();
    expect(JSON.parse(String(pattern.pattern_evolution ?? "{}")).corrections).toBe(1);
    // Correcting what is not assumed, or an unknown slot, is refused.
    const again = await h.call("POST", `/api/threads/${sub.thread_id}/continue`, {
      json: { corrections: ["context"] },
    });
    expect(again.status).toBe(400);
    const unknown = await h.call("POST", `/api/threads/${sub.thread_id}/continue`, {
      json: { corrections: ["budget"] },
    });
    expect(unknown.status).toBe(400);
  });
});
