import { beforeAll, describe, expect, it } from "vitest";
import { applyAnswer, initialSlots } from "../../src/learning/clarity.ts";
import { decideNext, STOP_REASONS } from "../../src/learning/conversation-state.ts";
import { BayesLinear, QuestionModel } from "../../src/learning/question-model.ts";
import {
  opennessOf,
  type SelectionContext,
  SmartQuestionGenerator,
  templatesFor,
  VALUE_FLOOR,
} from "../../src/learning/question-selector.ts";
import { SLOTS, type Slot } from "../../src/learning/quick-analysis.ts";
import { mulberry32 } from "../../src/learning/random.ts";
import { type QuestionTemplate, TemplatesRepo } from "../../src/store/learning/templates-repo.ts";
import { memoryDb } from "../helpers/memory-db.ts";

let templates: QuestionTemplate[];

beforeAll(async () => {
  const db = await memoryDb();
  templates = await new TemplatesRepo(db.db).active();
  await db.close();
});

const ctx = (over: Partial<SelectionContext> = {}): SelectionContext => ({
  slots: initialSlots("Write a newsletter"),
  ideaType: "creation",
  userId: "u1",
  idea: "Write a newsletter",
  asked: 0,
  templates,
  ...over,
});

/** Feeds the model outcomes where only `slot` improves the refined draft for `type`. */
function teach(model: QuestionModel, type: string, slot: Slot, n: number, userId: string | null = null) {
  const random = mulberry32(42);
  for (let i = 0; i < n; i++) {
    const progress = Object.fromEntries(SLOTS.map((s) => [s, random() < 0.6 ? 1 : 0])) as Record<
      Slot,
      number
    >;
    model.observeOutcome({ ideaType: type, userId, progress, gain: progress[slot] * 0.6 });
  }
}

describe("SmartQuestionGenerator", () => {
  it("the fixed order standing in for a losing kind: its slot, in the wording this kind answers most", () => {
    const model = new QuestionModel();
    const intent = templatesFor(templates, "intent", "creation");
    const [first, other] = intent as [QuestionTemplate, QuestionTemplate];
    // Trips: the first intent wording is met with "don't know", another one is answered.
    for (let i = 0; i < 30; i++) {
      const base = {
        slot: "intent" as const,
        ideaType: "trip",
        userId: `p${i}`,
        seconds: 8,
        expectedSeconds: 8,
      };
      model.observeQuestion({ ...base, templateId: first.id, mode: "unknown" });
      model.observeQuestion({ ...base, templateId: other.id, mode: "type" });
    }
    const gen = new SmartQuestionGenerator(model, mulberry32(4));
    const trip = ctx({
      kind: "trip",
      idea: "Plan a trip to Lisbon",
      slots: initialSlots("Plan a trip to Lisbon"),
    });
    // Learning off keeps the first wording; the fallback keeps the fixed order's slot, not its wording.
    expect(gen.select(trip, "fixed").best?.template.id).toBe(first.id);
    for (let i = 0; i < 20; i++) {
      const best = gen.select(trip, "fallback").best;
      expect(best?.slot).toBe("intent");
      expect(best?.template.id).not.toBe(first.id);
    }
    // And it has no value floor: the next open slot in the fixed order is always offered.
    expect(gen.select(trip, "fallback").floor).toBeUndefined();
  });

  it("clarity ends the questions unless told not to (the fallback asks every open slot)", () => {
    const base = {
      clarity: 0.87,
      asked: 4,
      maxQuestions: 5,
      userSaidEnough: false,
      bestValue: 1,
      floor: undefined,
    };
    expect(decideNext(base)).toMatchObject({ ask: false, reason: STOP_REASONS.adequate });
    expect(decideNext({ ...base, clarity: 0.95 })).toMatchObject({
      ask: false,
      reason: STOP_REASONS.clarity,
    });
    expect(decideNext({ ...base, clarityStops: false }).ask).toBe(true);
    expect(decideNext({ ...base, clarity: 0.95, clarityStops: false }).ask).toBe(true);
    expect(decideNext({ ...base, asked: 5, clarityStops: false })).toMatchObject({
      ask: false,
      reason: STOP_REASONS.max,
    });
  });

  it("fixed order (learning disabled): intent, constraints, success, context, scope — open slots only", () => {
    const gen = new SmartQuestionGenerator(new QuestionModel(), mulberry32(1));
    expect(gen.select(ctx(), "fixed").best?.slot).toBe("intent");
    const answered = applyAnswer(initialSlots("Write a newsletter"), "intent", {
      kind: "suggestion",
      text: "Save time",
    });
    expect(gen.select(ctx({ slots: answered.slots }), "fixed").best?.slot).toBe("constraints");
    const cued = initialSlots("I want a newsletter");
    expect(cued.intent.source).toBe("text");
    expect(gen.select(ctx({ slots: cued }), "fixed").best?.slot).toBe("constraints");
  });

  it("static ranking: value = prior improvement ÷ expected seconds, best first", () => {
    const gen = new SmartQuestionGenerator(new QuestionModel(), mulberry32(1));
    const ranked = gen.ranked(ctx(), false);
    expect(ranked.length).toBeGreaterThan(5);
    for (let i = 1; i < ranked.length; i++)
      expect((ranked[i - 1] as { value: number }).value).toBeGreaterThanOrEqual(
        (ranked[i] as { value: number }).value,
      );
    const top = ranked[0];
    expect(top?.value).toBeCloseTo((top?.improvement ?? 0) / (top?.seconds ?? 1), 6);
  });

  it("only templates applicable to the idea type are candidates", () => {
    const forDecision = templatesFor(templates, "intent", "decision").map((t) => t.name);
    const forResearch = templatesFor(templates, "intent", "research").map((t) => t.name);
    expect(forDecision).toContain("intent_decision_options");
    expect(forResearch).not.toContain("intent_decision_options");
  });

  it("learns which slot matters for an idea type from rated outcomes and asks it first", () => {
    const model = new QuestionModel();
    teach(model, "creation", "scope", 40);
    const gains = model.gains("creation", null);
    expect(gains.scope).toBeGreaterThan(0.45);
    expect(gains.intent).toBeLessThan(0.1);
    const gen = new SmartQuestionGenerator(model, mulberry32(3));
    const picks = Array.from({ length: 20 }, () => gen.select(ctx(), "learning").best?.slot);
    expect(picks.filter((s) => s === "scope").length).toBeGreaterThanOrEqual(18);
    // Another idea type is untouched.
    expect(model.gains("research", null).intent).toBeCloseTo(0.3, 5);
  });

  it("stops when no question is worth the user's time", () => {
    const model = new QuestionModel();
    const random = mulberry32(8);
    for (let i = 0; i < 80; i++) {
      const progress = Object.fromEntries(SLOTS.map((s) => [s, random() < 0.5 ? 1 : 0])) as Record<
        Slot,
        number
      >;
      model.observeOutcome({ ideaType: "creation", userId: null, progress, gain: 0 });
    }
    const gen = new SmartQuestionGenerator(model, mulberry32(5));
    const sel = gen.select(ctx(), "learning");
    expect(sel.floor).toBe(VALUE_FLOOR);
    expect(sel.best?.value ?? 0).toBeLessThan(VALUE_FLOOR);
    const d = decideNext({
      clarity: 0.1,
      asked: 0,
      maxQuestions: 5,
      userSaidEnough: false,
      bestValue: sel.best?.value,
      floor: sel.floor,
    });
    expect(d).toEqual({ ask: false, reason: STOP_REASONS.floor });
  });

  it("answer rates and seconds are learned per template × idea type, per user after N observations", () => {
    const model = new QuestionModel({ minUserObservations: 3 });
    const t = templates.find((x) => x.name === "success_done_when") as QuestionTemplate;
    for (let i = 0; i < 20; i++)
      model.observeQuestion({
        templateId: t.id,
        slot: "success",
        ideaType: "creation",
        userId: `u${i}`,
        mode: i % 4 === 0 ? "type" : "unknown",
        seconds: 20,
        expectedSeconds: t.expectedSeconds,
      });
    const [a, b] = model.answerBeta(t.id, "success", "creation", null);
    expect(a / (a + b)).toBeLessThan(0.45);
    expect(model.seconds(t.id, "success", "creation", null, t.expectedSeconds)).toBeGreaterThan(16);
    const [ra, rb] = model.answerBeta(t.id, "success", "research", null);
    expect(ra / (ra + rb)).toBeLessThan(0.7); // the template's rate over all types is the prior
    // A fast, always-answering user: their own estimates apply once they have 3 observations.
    const fast = (n: number) => {
      for (let i = 0; i < n; i++)
        model.observeQuestion({
          templateId: t.id,
          slot: "success",
          ideaType: "creation",
          userId: "fast",
          mode: "type",
          seconds: 4,
          expectedSeconds: t.expectedSeconds,
        });
    };
    fast(2);
    const before = model.seconds(t.id, "success", "creation", "fast", t.expectedSeconds);
    fast(1);
    const after = model.seconds(t.id, "success", "creation", "fast", t.expectedSeconds);
    expect(after).toBeLessThan(before * 0.8);
    const [ua, ub] = model.answerBeta(t.id, "success", "creation", "fast");
    expect(ua / (ua + ub)).toBeGreaterThan(a / (a + b));
  });

  it("a user's own don't-know rate scales the templates' miss rates without hiding which phrasing works", () => {
    const model = new QuestionModel({ minUserObservations: 3 });
    const [good, bad] = templates.filter((t) => t.category === "success") as [
      QuestionTemplate,
      QuestionTemplate,
    ];
    const observe = (t: QuestionTemplate, userId: string, answered: boolean) =>
      model.observeQuestion({
        templateId: t.id,
        slot: "success",
        ideaType: "research",
        userId,
        mode: answered ? "type" : "unknown",
        seconds: 8,
        expectedSeconds: t.expectedSeconds,
      });
    for (let i = 0; i < 40; i++) {
      observe(good, `p${i}`, i % 10 !== 0);
      observe(bad, `p${i}`, i % 10 < 4);
    }
    for (let i = 0; i < 12; i++) observe(bad, "vague", false);
    const rate = (t: QuestionTemplate, userId: string | null) => {
      const [a, b] = model.answerBeta(t.id, "success", "research", userId);
      return a / (a + b);
    };
    expect(rate(good, "vague")).toBeLessThan(rate(good, null) - 0.03);
    expect(rate(bad, "vague")).toBeLessThan(rate(bad, null));
    expect(rate(good, "vague") - rate(bad, "vague")).toBeGreaterThan(0.35);
    expect(rate(good, "someone-new")).toBeCloseTo(rate(good, null), 10);
  });

  it("a user's own gains take over once they have enough rated outcomes", () => {
    const model = new QuestionModel({ minUserObservations: 5 });
    teach(model, "creation", "intent", 40);
    teach(model, "creation", "context", 4, "me");
    expect(model.gains("creation", "me").context).toBeLessThan(0.15); // 4 < N: population only
    teach(model, "creation", "context", 20, "me");
    expect(model.gains("creation", "me").context).toBeGreaterThan(0.3);
    expect(new QuestionModel({ perUser: false }).gains("creation", "me").context).toBeCloseTo(0.15, 5);
  });

  it("Thompson draws are reproducible with the same seed", () => {
    const a = new SmartQuestionGenerator(new QuestionModel(), mulberry32(9));
    const b = new SmartQuestionGenerator(new QuestionModel(), mulberry32(9));
    const seq = (g: SmartQuestionGenerator) =>
      Array.from({ length: 10 }, () => g.select(ctx(), "learning").best?.template.id);
    expect(seq(a)).toEqual(seq(b));
  });

  it("a slot assumed from a pattern is worth asking in proportion to the chance it is wrong", () => {
    const slots = initialSlots("Write a newsletter");
    slots.context = { confidence: 0.9, value: "x", source: "pattern", asked: 0, patternId: 1 };
    expect(opennessOf(slots, "context")).toBeCloseTo(0.1, 5);
    expect(opennessOf(slots, "intent")).toBeCloseTo(1, 5);
  });
});

describe("BayesLinear", () => {
  it("recovers coefficients from noisy observations", () => {
    const reg = new BayesLinear([0, 0, 0], 1, 0.1);
    const random = mulberry32(1);
    for (let i = 0; i < 400; i++) {
      const x = [random(), random(), random()];
      reg.observe(x, 0.5 * (x[0] ?? 0) - 0.2 * (x[1] ?? 0) + 0.1 * (x[2] ?? 0) + (random() - 0.5) * 0.1);
    }
    const m = reg.mean();
    expect(m[0]).toBeCloseTo(0.5, 1);
    expect(m[1]).toBeCloseTo(-0.2, 1);
    expect(m[2]).toBeCloseTo(0.1, 1);
    expect(Math.max(...reg.sd())).toBeLessThan(0.05);
  });
});

describe("stop rule", () => {
  const base = {
    clarity: 0.5,
    asked: 1,
    maxQuestions: 5,
    userSaidEnough: false,
    bestValue: 0.05,
    floor: 0.01,
  };
  it("follows the spec's order", () => {
    expect(decideNext({ ...base, userSaidEnough: true }).reason).toBe(STOP_REASONS.enough);
    expect(decideNext({ ...base, clarity: 0.9 }).reason).toBe(STOP_REASONS.clarity);
    expect(decideNext({ ...base, asked: 5 }).reason).toBe(STOP_REASONS.max);
    expect(decideNext({ ...base, bestValue: undefined }).reason).toBe(STOP_REASONS.none);
    expect(decideNext({ ...base, bestValue: 0.001 }).reason).toBe(STOP_REASONS.floor);
    expect(decideNext(base)).toEqual({ ask: true, reason: "clarity still insufficient" });
    expect(decideNext({ ...base, clarity: 0.8 }).ask).toBe(true);
    expect(decideNext({ ...base, clarity: 0.86 }).reason).toBe(STOP_REASONS.adequate);
    // Policies without a floor ask whatever they picked.
    expect(decideNext({ ...base, bestValue: Number.NaN, floor: undefined }).ask).toBe(true);
  });
});
