import { afterEach, describe, expect, it, vi } from "vitest";
import type { RunRequest } from "../../src/backends/backend.ts";
import { SLOTS } from "../../src/learning/quick-analysis.ts";
import { testHermes } from "../helpers/test-hermes.ts";

type Built = Awaited<ReturnType<typeof testHermes>>;
const running: Built[] = [];
afterEach(async () => {
  for (const b of running.splice(0)) await b.hermes.stop();
});

const phrase = (slot: string) => `the ${slot} you had in mind`;

/** Hermes whose drafts finish at once and whose model reads an assumption for every slot from draft 1. */
async function build(config: Record<string, string> = {}) {
  const built = await testHermes({
    config,
    dispatch: async (ctx) => ({
      text: `Assumed: a small budget. Draft for job ${ctx.job.id}.`,
      summary: "draft",
      backend: "ollama",
      model: "llama3.1:8b",
      costCents: 0,
      executionMs: 1,
    }),
  });
  running.push(built);
  built.ollama.structured = (req: RunRequest) => {
    if (req.responseFormat?.name !== "draft_assumptions") return { text: "{}" }; // analysis: heuristics
    const assumptions = SLOTS.map((slot) => ({ slot, assumption: phrase(slot), risk: 0.8 }));
    return { text: JSON.stringify({ assumptions }) };
  };
  await built.hermes.start();
  return built;
}

const stateOf = (b: Built, threadId: number) =>
  JSON.parse(
    (
      b.hermes.database.sqlite
        .prepare("SELECT clarity_slots FROM idea_threads WHERE id = ?")
        .get(threadId) as {
        clarity_slots: string;
      }
    ).clarity_slots,
  );

async function submitAndWaitForAssumptions(b: Built) {
  const r = await b.hermes.engine.submitIdea({
    userId: "u1",
    text: "a birthday present for my sister",
    source: "cli",
  });
  for (let i = 0; i < 200 && !stateOf(b, r.thread.id).assumptions; i++)
    await new Promise((res) => setImmediate(res));
  expect(stateOf(b, r.thread.id).assumptions?.length).toBeGreaterThan(0);
  expect(b.hermes.draftAssumptions.snapshot().model).toBe(1);
  const q1 = r.question;
  if (!q1) throw new Error("no first question");
  return { threadId: r.thread.id, q1 };
}

describe("draft 1's assumptions as one-tap confirmations", () => {
  it("with the model's help off, draft 1's assumptions are not read (counted as disabled)", async () => {
    const b = await build({ "hermes.classification.enable_llm": "false" });
    const noting = vi.spyOn(b.hermes.flow, "noteDraftAssumptions");
    const r = await b.hermes.engine.submitIdea({ userId: "u1", text: "a birthday present", source: "cli" });
    for (let i = 0; i < 200 && b.hermes.draftAssumptions.snapshot().disabled === 0; i++)
      await new Promise((res) => setImmediate(res));
    expect(b.hermes.draftAssumptions.snapshot().disabled).toBe(1);
    const jobs = b.hermes.database.sqlite
      .prepare("SELECT status FROM jobs WHERE thread_id = ?")
      .all(r.thread.id);
    expect(jobs).toContainEqual({ status: "completed" });
    expect(noting).not.toHaveBeenCalled();
    expect(b.ollama.structuredCalls).toHaveLength(0);
    expect(stateOf(b, r.thread.id).assumptions).toBeUndefined();
  });

  it("the next question confirms an assumption; Yes answers the slot with it", async () => {
    const b = await build();
    const { threadId, q1 } = await submitAndWaitForAssumptions(b);
    const after1 = await b.hermes.flow.answer(threadId, q1.id, { kind: "skip" }, "u1");
    const q2 = after1.next;
    expect(q2?.text).toBe(`I assumed ${phrase(q2?.slot ?? "")} — right?`);
    expect(q2?.suggestions).toEqual(["Yes", "No"]);
    expect(
      b.ollama.structuredCalls.some((c) => c.messages.at(-1)?.content.includes("Assumed: a small budget")),
    ).toBe(true);
    await b.hermes.flow.answer(threadId, q2?.id ?? 0, { kind: "suggestion", index: 0 }, "u1");
    const row = b.hermes.database.sqlite
      .prepare("SELECT user_response FROM conversations WHERE id = ?")
      .get(q2?.id) as { user_response: string };
    expect(row.user_response).toBe(phrase(q2?.slot ?? ""));
    const slot = stateOf(b, threadId).slots[q2?.slot ?? "intent"];
    expect(slot).toMatchObject({ source: "answer", value: phrase(q2?.slot ?? "") });
  });

  it("No leaves the slot open and is recorded beside the question", async () => {
    const b = await build();
    const { threadId, q1 } = await submitAndWaitForAssumptions(b);
    const q2 = (await b.hermes.flow.answer(threadId, q1.id, { kind: "skip" }, "u1")).next;
    expect(q2?.suggestions).toEqual(["Yes", "No"]);
    await b.hermes.flow.answer(threadId, q2?.id ?? 0, { kind: "suggestion", index: 1 }, "u1");
    const row = b.hermes.database.sqlite
      .prepare("SELECT user_response, question_asked FROM conversations WHERE id = ?")
      .get(q2?.id) as { user_response: string; question_asked: string };
    expect(row).toMatchObject({ user_response: "No", question_asked: expect.stringMatching(/^I assumed /) });
    expect(stateOf(b, threadId).slots[q2?.slot ?? "intent"].source).not.toBe("answer");
  });
});
