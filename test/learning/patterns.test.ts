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

  it("the same answer three times for one kind becomes a pattern; validated by two more, it pre-fills and is shown", async () => {
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
    // Not validated yet: the next poem asks about context, offering the assumed value first.
    const asking = await converse(h, "Write a poem about rain", "for my book club");
    expect(asking.asked).toContain("context");
    expect((await h.flow.assumptions(asking.threadId)).some((a) => a.slot === "context")).toBe(false);
    await converse(h, "Write a poem about snow", "for my book club");
    // Two confirmations: the next creation idea has the slot pre-filled, recorded as pattern_matched.
    const { threadId } = await h.submit("Write a poem about the sea");
    await h.flow.start(threadId, "u1");
    const prefill = h.sqlite
      .prepare(
        "SELECT pattern_matched, user_response, conversation_position FROM conversations WHERE thread_id = ? AND pattern_matched IS NOT NULL AND question_type = 'context'",
      )
      .get(threadId) as Record<string, unknown> | undefined;
    expect(prefill).toMatchObject({ user_response: "for my book club", conversation_position: null });
    expect(String(prefill?.pattern_matched)).toContain("prefill context");
    // …and shown to the user, with what it is.
    expect((await h.flow.assumptions(threadId)).filter((a) => a.slot === "context")).toEqual([
      { slot: "context", label: "Context", value: "for my book club", patternId: expect.any(Number) },
    ]);
    const thread = h.sqlite
      .prepare(
        "SELECT pattern_confidence, learned_patterns, optimization_applied FROM idea_threads WHERE id = ?",
      )
      .get(threadId) as Record<string, unknown>;
    expect(thread.pattern_confidence).toBeCloseTo(confidenceOf(5, 5), 3);
    expect(String(thread.learned_patterns)).toContain("for my book club");
    // Another user is not affected.
    const other = await h.submit("Write a poem", "u2");
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
    const { threadId } = await h.submit("Write a poem for the wedding");
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
    const first = await converse(h, "Write a poem for a friend", "for my colleagues", "u1", "skip");
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

  it("a pattern stays with the kind of idea it was learned from (a device budget is not a skill's)", async () => {
    h = await flowHarness({ seed: 21, flow: { policy: "learning", valueFloor: 0 } });
    for (let i = 0; i < 5; i++) await converse(h, `Replace my broken laptop number ${i}`, "for my book club");
    const learner = new PatternLearner(new PatternsRepo(h.db), new ConversationsRepo(h.db));
    const device = await learner.applicable("u1", "device", 0.7, 0.8);
    expect(device.get("context")).toMatchObject({ validated: true, pattern: { value: "for my book club" } });
    // No pattern for "any type" is learned, and none reaches another kind.
    expect((await h.flow.listPatterns()).filter((x) => x.trigger.idea_type !== "device")).toEqual([]);
    expect((await learner.applicable("u1", "skill", 0.7, 0.8)).size).toBe(0);
    const { threadId } = await h.submit("Pick up touch typing, three hours a week");
    await h.flow.start(threadId, "u1");
    expect(await h.flow.assumptions(threadId)).toEqual([]);
  });

  it("'Change' under an assumption takes it back and counts against the pattern", async () => {
    h = await flowHarness({ seed: 21, flow: { policy: "learning", valueFloor: 0 } });
    for (let i = 0; i < 5; i++) await converse(h, `Write a poem number ${i}`, "for my book club");
    const before = (await h.flow.listPatterns()).find((x) => x.trigger.slot === "context");
    const { threadId } = await h.submit("Write a poem about the sea");
    const first = await h.flow.start(threadId, "u1");
    expect((await h.flow.assumptions(threadId)).map((a) => a.value)).toContain("for my book club");
    const out = await h.flow.correctAssumption(threadId, "context", "u1");
    // With the context assumed, nothing was left worth asking: the refined draft was queued at once,
    // and the correction says so (it teaches the pattern; the draft in flight keeps what it had).
    expect(first).toBeUndefined();
    expect(out.questionsOver).toBe(true);
    expect((await h.flow.assumptions(threadId)).some((a) => a.slot === "context")).toBe(false);
    const after = (await h.flow.listPatterns()).find((x) => x.trigger.slot === "context");
    expect(after?.corrections).toBe((before?.corrections ?? 0) + 1);
    expect(after?.confidence).toBeLessThan(before?.confidence ?? 0);
    await expect(h.flow.correctAssumption(threadId, "context", "u1")).rejects.toThrow(/Nothing is assumed/);
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
