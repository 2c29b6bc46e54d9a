import { afterEach, describe, expect, it } from "vitest";
import { confidenceOf, PatternLearner } from "../../src/learning/patterns.ts";
import { PatternsRepo } from "../../src/store/learning/patterns-repo.ts";
import { ConversationsRepo } from "../../src/store/threads/conversations-repo.ts";
import { flowHarness } from "./flow-harness.ts";

type Harness = Awaited<ReturnType<typeof flowHarness>>;
let h: Harness | undefined;

afterEach(async () => {
  await h?.close();
  h = undefined;
});

/**
 * One conversation where the user answers `context` with `value` and otherwise taps the first
 * suggestion (or skips, which keeps clarity low so every slot gets asked).
 */
async function converse(harness: Harness, text: string, value: string, userId = "u1", others = "tap") {
  const { threadId } = await harness.submit(text, userId);
  const asked: string[] = [];
  let q = await harness.flow.start(threadId, userId);
  while (q) {
    asked.push(q.slot);
    const input =
      q.slot === "context"
        ? ({ kind: "text", text: value } as const)
        : others === "skip"
          ? ({ kind: "skip" } as const)
          : ({ kind: "suggestion", index: 0 } as const);
    q = (await harness.flow.answer(threadId, q.id, input, userId)).next;
  }
  return { threadId, asked };
}

describe("learned patterns", () => {
  it("confidence is the Laplace estimate of success", () => {
    expect(confidenceOf(3, 3)).toBe(0.8);
    expect(confidenceOf(4, 5)).toBeCloseTo(0.714, 3);
  });

  it("the same answer three times for one idea type becomes a pattern that pre-fills the slot", async () => {
    // Every slot is asked (clarity never reaches the stop before), so context is answered each time.
    h = await flowHarness({ seed: 21, flow: { policy: "learning", valueFloor: 0 } });
    for (let i = 0; i < 3; i++) await converse(h, `Write a poem number ${i}`, "for my book club");
    const [p] = (await h.flow.listPatterns()).filter(
      (x) => x.trigger.idea_type === "creation" && x.trigger.slot === "context",
    );
    expect(p).toMatchObject({
      category: "user_behavior",
      trigger: { user_id: "u1", idea_type: "creation", slot: "context" },
      value: "for my book club",
      confidence: 0.8,
      active: true,
    });
    // Applied to the next creation idea: the slot is pre-filled and recorded as pattern_matched.
    const { threadId } = await h.submit("Write a speech for the wedding");
    await h.flow.start(threadId, "u1");
    const prefill = h.sqlite
      .prepare(
        "SELECT pattern_matched, user_response, conversation_position FROM conversations WHERE thread_id = ? AND pattern_matched IS NOT NULL AND question_type = 'context'",
      )
      .get(threadId) as Record<string, unknown> | undefined;
    expect(prefill).toMatchObject({ user_response: "for my book club", conversation_position: null });
    expect(String(prefill?.pattern_matched)).toContain("prefill context");
    const thread = h.sqlite
      .prepare(
        "SELECT pattern_confidence, learned_patterns, optimization_applied FROM idea_threads WHERE id = ?",
      )
      .get(threadId) as Record<string, unknown>;
    expect(thread.pattern_confidence).toBe(0.8);
    expect(String(thread.learned_patterns)).toContain("for my book club");
    // Another user is not affected.
    const other = await h.submit("Write a speech", "u2");
    await h.flow.start(other.threadId, "u2");
    expect(
      h.sqlite
        .prepare(
          "SELECT count(*) AS n FROM conversations WHERE thread_id = ? AND pattern_matched IS NOT NULL",
        )
        .get(other.threadId),
    ).toEqual({ n: 0 });
  });

  it("is not applied below hermes.learning.confidence_threshold", async () => {
    h = await flowHarness({
      seed: 21,
      flow: { policy: "learning", valueFloor: 0 },
      config: { "hermes.learning.confidence_threshold": "0.85" },
    });
    for (let i = 0; i < 3; i++) await converse(h, `Write a poem number ${i}`, "for my book club");
    const { threadId } = await h.submit("Write a speech for the wedding");
    await h.flow.start(threadId, "u1");
    expect(
      h.sqlite
        .prepare(
          "SELECT count(*) AS n FROM conversations WHERE thread_id = ? AND pattern_matched IS NOT NULL",
        )
        .get(threadId),
    ).toEqual({ n: 0 });
  });

  it("a correction weakens the pattern until it is no longer applied", async () => {
    h = await flowHarness({ seed: 21, flow: { policy: "learning", valueFloor: 0 } });
    for (let i = 0; i < 3; i++) await converse(h, `Write a poem number ${i}`, "for my book club");
    // The pre-filled context is asked anyway when it is worth it (floor 0 here): the user corrects it.
    const first = await converse(h, "Write a toast", "for my colleagues", "u1", "skip");
    expect(first.asked).toContain("context");
    const corrected = h.sqlite
      .prepare(
        "SELECT response_type, pattern_matched FROM conversations WHERE thread_id = ? AND question_type = 'context' AND conversation_position IS NOT NULL",
      )
      .get(first.threadId) as Record<string, unknown>;
    expect(corrected.response_type).toBe("correction");
    const [p] = (await h.flow.listPatterns()).filter(
      (x) => x.trigger.idea_type === "creation" && x.trigger.slot === "context",
    );
    expect(p?.confidence).toBeCloseTo(confidenceOf(3, 4), 3);
    expect(p?.corrections).toBe(1);
    await converse(h, "Write a limerick", "for my colleagues");
    const [q] = (await h.flow.listPatterns()).filter(
      (x) => x.trigger.idea_type === "creation" && x.trigger.slot === "context",
    );
    expect(q?.confidence).toBeLessThan(0.7);
    expect(q?.active).toBe(false);
  });

  it("a pattern for any idea type is not applied where the user's answers for that type disagree", async () => {
    h = await flowHarness({ seed: 21, flow: { policy: "learning", valueFloor: 0 } });
    for (let i = 0; i < 4; i++) await converse(h, `Write a poem number ${i}`, "for my book club");
    const any = (await h.flow.listPatterns()).find(
      (x) => x.trigger.idea_type === null && x.trigger.slot === "context",
    );
    expect(any).toMatchObject({ value: "for my book club", active: true });
    // Research ideas: this user's context was different each time.
    const contexts = ["for my thesis", "for my boss", "for my class"];
    for (const [i, v] of contexts.entries()) {
      const { threadId } = await h.submit(`Research topic number ${i}`);
      h.sqlite
        .prepare(
          `INSERT INTO conversations (thread_id, question_asked, question_type, conversation_position, user_response,
            response_type, asked_date, responded_date) VALUES (?, 'Who is it for?', 'context', 1, ?, 'direct_answer', 'x', 'x')`,
        )
        .run(threadId, v);
    }
    const learner = new PatternLearner(new PatternsRepo(h.db), new ConversationsRepo(h.db));
    expect((await learner.applicable("u1", "research", 0.7, 0.8)).has("context")).toBe(false);
    expect((await learner.applicable("u1", "creation", 0.7, 0.8)).get("context")?.value).toBe(
      "for my book club",
    );
    expect((await learner.applicable("u1", "analysis", 0.7, 0.8)).get("context")?.ideaType).toBeNull();
  });

  it("offers the user's own frequent answers as suggestions", async () => {
    h = await flowHarness({ seed: 21, flow: { policy: "learning", valueFloor: 0 } });
    await converse(h, "Write a poem", "for my book club");
    await converse(h, "Write a song", "for my book club");
    const { threadId } = await h.submit("Write a riddle", "u1");
    let q = await h.flow.start(threadId, "u1");
    while (q && q.slot !== "context")
      q = (await h.flow.answer(threadId, q.id, { kind: "suggestion", index: 0 }, "u1")).next;
    expect(q?.suggestions[0]).toBe("for my book club");
  });
});
