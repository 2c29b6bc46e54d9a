import { describe, expect, it } from "vitest";
import {
  applyAnswer,
  applyPattern,
  clarityScore,
  initialSlots,
  isDontKnow,
  openSlots,
  slotProgress,
  textConfidence,
} from "../../src/learning/clarity.ts";
import { quickAnalyze, SLOT_WEIGHTS } from "../../src/learning/quick-analysis.ts";
import { extractTopic } from "../../src/learning/topic.ts";

describe("clarity", () => {
  it("starts from the idea's cues and agrees with quickAnalyze", () => {
    const text = "I want a budget plan for my team, must fit on one page";
    const slots = initialSlots(text);
    expect(slots.intent.source).toBe("text");
    expect(slots.context.source).toBe("text");
    expect(slots.success.source).toBe("none");
    expect(clarityScore(slots)).toBeCloseTo(quickAnalyze(text).clarity, 2);
    expect(clarityScore(initialSlots("blog"))).toBeCloseTo(0.1, 5);
  });

  it("a tapped suggestion gives high confidence; free text by its content; don't know gives none", () => {
    const slots = initialSlots("Write a newsletter");
    const tapped = applyAnswer(slots, "intent", { kind: "suggestion", text: "A quick overview" });
    expect(tapped.confidence).toBe(0.95);
    expect(tapped.gained).toBeCloseTo(SLOT_WEIGHTS.intent * 0.85, 3);
    const long = applyAnswer(slots, "scope", { kind: "text", text: "only the first two chapters, 5 pages" });
    const short = applyAnswer(slots, "scope", { kind: "text", text: "chapters" });
    expect(long.confidence).toBeGreaterThan(short.confidence);
    const dk = applyAnswer(slots, "success", { kind: "unknown" });
    expect(dk.gained).toBe(0);
    expect(dk.slots.success.asked).toBe(1);
    expect(openSlots(dk.slots)).not.toContain("success");
    expect(slots.success.asked).toBe(0); // inputs are not mutated
  });

  it("free text that mentions another slot raises that slot a little", () => {
    const slots = initialSlots("Write a newsletter");
    const out = applyAnswer(slots, "intent", {
      kind: "text",
      text: "get more members, with a budget of $50",
    });
    expect(out.slots.constraints.confidence).toBe(0.6);
  });

  it("recognises don't-know replies", () => {
    for (const t of ["no idea", "Not sure.", "idk", "?", "", "dunno", "doesn't matter"])
      expect(isDontKnow(t)).toBe(true);
    for (const t of ["no more than 3 pages", "not too formal"]) expect(isDontKnow(t)).toBe(false);
    expect(textConfidence("not sure")).toBe(0);
  });

  it("a pattern pre-fills at its confidence, stays askable, and never overrides a real answer", () => {
    const slots = initialSlots("Write a newsletter");
    const filled = applyPattern(slots, "context", "for my book club", 0.8, 7);
    expect(filled.context).toMatchObject({
      confidence: 0.8,
      source: "pattern",
      value: "for my book club",
      patternId: 7,
    });
    expect(openSlots(filled)).toContain("context");
    const answered = applyAnswer(slots, "context", { kind: "suggestion", text: "My team" }).slots;
    expect(applyPattern(answered, "context", "x", 0.99, 1).context.value).toBe("My team");
  });

  it("slot progress is 1 for a full answer to an unknown slot, 0 for an untouched one", () => {
    const slots = initialSlots("Write a newsletter");
    const after = applyAnswer(slots, "intent", { kind: "suggestion", text: "Save time" }).slots;
    const p = slotProgress(slots, after);
    expect(p.intent).toBeCloseTo(1, 5);
    expect(p.scope).toBe(0);
  });
});

describe("topic", () => {
  it("takes a short noun phrase in the idea's own words", () => {
    expect(extractTopic("Help me plan a trip to Lisbon for my family next month")).toBe(
      "this trip to Lisbon",
    );
    expect(extractTopic("Should I buy a new laptop or repair my old one?")).toBe(
      "your plan to buy a new laptop",
    );
    expect(extractTopic("Analyze my monthly spending")).toBe("your monthly spending");
    expect(extractTopic("Compare React and Vue for our new dashboard")).toBe("React and Vue");
    expect(extractTopic("Can you write an email to my landlord about the broken heater")).toBe(
      "this email to my landlord",
    );
    expect(extractTopic("")).toBe("this idea");
  });
});
