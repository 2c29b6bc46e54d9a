import { describe, expect, it } from "vitest";
import { AnswerPredictor, questionKind } from "../../src/learning/answer-predictor.ts";
import { AnswerTimeModel } from "../../src/learning/answer-time.ts";
import { mulberry32, pickWeighted } from "../../src/learning/random.ts";

const TEMPLATE = ["Just me", "My team", "A client"];
const values = (p: AnswerPredictor, user: string | null, type = "creation", slot = "context" as const) =>
  p.predict(type, slot, user, TEMPLATE).ranked.map((a) => a.value);

describe("AnswerPredictor", () => {
  it("offers the template's suggestions, in order, while nothing has been learned", () => {
    const p = new AnswerPredictor();
    const prediction = p.predict("creation", "context", "u1", TEMPLATE);
    expect(prediction.ranked.map((a) => a.value)).toEqual(["A client", "Just me", "My team"]);
    expect(prediction.p("just me")).toBeCloseTo(1 / 3, 5);
    expect(prediction.p("something else")).toBe(0);
  });

  it("orders equally likely answers as localeCompare does (case and accents included), prediction after prediction", () => {
    const p = new AnswerPredictor();
    const suggestions = ["Zoo", "école", "apple", "Éclair", "banana"];
    const expected = [...suggestions].sort((a, b) => a.localeCompare(b));
    for (let i = 0; i < 2; i++)
      expect(p.predict("creation", "context", "u1", suggestions).ranked.map((a) => a.value)).toEqual(
        expected,
      );
    // The same suggestions array again after an answer was learned: the answer counts, the prior stays.
    for (const u of ["a", "b", "c"]) p.observe("creation", "context", "banana", u, suggestions);
    expect(p.predict("creation", "context", "u1", suggestions).ranked.map((a) => a.value)).toEqual([
      "banana",
      ...expected.filter((v) => v !== "banana"),
    ]);
  });

  it("offers answers given by at least three people, most frequent first; one person's words only to them", () => {
    const p = new AnswerPredictor();
    for (const u of ["a", "b", "c", "d"]) p.observe("creation", "context", "For the board", u);
    for (let i = 0; i < 6; i++) p.observe("creation", "context", "for my secret project", "a");
    for (const u of ["a", "b", "c"]) p.observe("creation", "context", "Just me", u);
    expect(values(p, "e").slice(0, 2)).toEqual(["For the board", "Just me"]);
    expect(values(p, "e")).not.toContain("for my secret project");
    expect(values(p, null)).not.toContain("for my secret project");
    // The person who gave it is offered it, first: it is their habit.
    expect(values(p, "a")[0]).toBe("for my secret project");
  });

  it("labels a shared answer as most people spelled it, never one person's variant", () => {
    const p = new AnswerPredictor();
    p.observe("creation", "context", "my boss", "a");
    p.observe("creation", "context", "My boss", "b");
    p.observe("creation", "context", "my boss", "c");
    p.observe("research", "context", "MY BOSS 🤬", "d");
    expect(values(p, "e")[0]).toBe("my boss");
    expect(values(p, "e")).not.toContain("MY BOSS 🤬");
  });

  it("learns per slot how far a person's own answers predict them", () => {
    const p = new AnswerPredictor();
    const random = mulberry32(3);
    const shared = ["Save time", "Save money", "Learn something", "Convince someone", "Decide"];
    const users = Array.from({ length: 12 }, (_, i) => `u${i}`);
    for (let i = 0; i < 600; i++) {
      const user = users[i % users.length] as string;
      // Context: everyone has their own habitual audience. Intent: drawn from what people in general want.
      p.observe("creation", "context", `audience of ${user}`, user);
      p.observe("creation", "intent", shared[pickWeighted(random, [5, 3, 1, 1, 1])] as string, user);
    }
    const [contextPopulation, contextHabit] = p.weights("context");
    const [intentPopulation, intentHabit] = p.weights("intent");
    expect(contextHabit).toBeGreaterThan(contextPopulation);
    expect(intentPopulation).toBeGreaterThan(intentHabit);
    const u0 = p.predict("creation", "context", "u0", TEMPLATE);
    expect(u0.ranked[0]?.value).toBe("audience of u0");
    expect(u0.p("audience of u0")).toBeGreaterThan(0.8);
    // A newcomer is offered what most people want, most likely first.
    const newcomer = p.predict("creation", "intent", "new", []);
    expect(newcomer.ranked.slice(0, 2).map((a) => a.value)).toEqual(["Save time", "Save money"]);
  });

  it("keeps a habit to its kind of idea where that predicts better", () => {
    const p = new AnswerPredictor();
    for (let i = 0; i < 40; i++) {
      for (const u of ["a", "b", "c", "d"]) {
        p.observe("research", "scope", `wide ${u}`, u);
        p.observe("creation", "scope", `narrow ${u}`, u);
      }
    }
    expect(p.predict("research", "scope", "a", []).ranked[0]?.value).toBe("wide a");
    expect(p.predict("creation", "scope", "a", []).ranked[0]?.value).toBe("narrow a");
  });
});

describe("AnswerTimeModel", () => {
  it("learns how much quicker a tap is than typing, and prices a predictable answer lower", () => {
    const m = new AnswerTimeModel(3, true);
    for (let i = 0; i < 30; i++) {
      const user = `u${i}`;
      m.observe({
        templateId: 1,
        slot: "intent",
        ideaType: "creation",
        userId: user,
        mode: "type",
        seconds: 16,
        expectedSeconds: 10,
      });
      m.observe({
        templateId: 1,
        slot: "intent",
        ideaType: "creation",
        userId: user,
        mode: "tap",
        seconds: 4,
        expectedSeconds: 10,
      });
    }
    expect(m.ratio("intent", "tap")).toBeGreaterThan(0.2);
    expect(m.ratio("intent", "tap")).toBeLessThan(0.35);
    const q = {
      templateId: 1,
      slot: "intent" as const,
      ideaType: "creation",
      userId: null,
      expectedSeconds: 10,
      answerRate: 1,
    };
    const typed = m.expected({ ...q, hitChance: 0 });
    const tapped = m.expected({ ...q, hitChance: 1 });
    expect(typed).toBeGreaterThan(13);
    expect(typed).toBeLessThan(17);
    expect(tapped).toBeLessThan(typed * 0.4);
    expect(m.expected({ ...q, hitChance: 0.5 })).toBeCloseTo((typed + tapped) / 2, 5);
  });

  it("does not believe a user who walked away: one hour-long answer moves little", () => {
    const m = new AnswerTimeModel(3, true);
    const q = {
      templateId: 2,
      slot: "intent" as const,
      ideaType: "creation",
      userId: null,
      expectedSeconds: 10,
      answerRate: 1,
    };
    const typedBefore = m.expected({ ...q, hitChance: 0 });
    m.observe({
      templateId: 1,
      slot: "intent",
      ideaType: "creation",
      userId: "away",
      mode: "tap",
      seconds: 3600,
      expectedSeconds: 10,
    });
    m.observe({
      templateId: 2,
      slot: "intent",
      ideaType: "creation",
      userId: "away",
      mode: "unknown",
      seconds: 3600,
      expectedSeconds: 10,
    });
    expect(m.ratio("intent", "tap")).toBeLessThanOrEqual(1);
    expect(m.expected({ ...q, hitChance: 1 })).toBeLessThanOrEqual(m.expected({ ...q, hitChance: 0 }));
    expect(m.expected({ ...q, hitChance: 0 })).toBeLessThan(typedBefore * 2.1);
  });

  it("scales to a user's own speed once they have enough answers", () => {
    const m = new AnswerTimeModel(3, true);
    const slow = (n: number) => {
      for (let i = 0; i < n; i++)
        m.observe({
          templateId: 2,
          slot: "scope",
          ideaType: "research",
          userId: "slow",
          mode: "type",
          seconds: 30,
          expectedSeconds: 6,
        });
    };
    const q = {
      templateId: 2,
      slot: "scope" as const,
      ideaType: "research",
      expectedSeconds: 6,
      answerRate: 1,
      hitChance: 0,
    };
    slow(2);
    expect(m.speed("slow", "scope")).toBe(1);
    slow(1);
    expect(m.speed("slow", "scope")).toBeGreaterThan(1.5);
    expect(m.expected({ ...q, userId: "slow" })).toBeGreaterThan(m.expected({ ...q, userId: "other" }) * 1.5);
    expect(new AnswerTimeModel(3, false).speed("slow", "scope")).toBe(1);
  });
});

describe("answers stay with their kind of question", () => {
  it("an answer to 'Who is it for?' is never offered for 'How familiar are you?' (same slot, other template)", () => {
    const p = new AnswerPredictor();
    const whoFor = questionKind("context", 11);
    const familiar = questionKind("context", 12);
    p.observe("creation", whoFor, "The public", "u1", ["Just me", "The public"]);
    p.observe("creation", whoFor, "The public", "u1", ["Just me", "The public"]);
    const offered = p.predict("creation", familiar, "u1", ["I'm a beginner", "I'm an expert"]);
    expect(offered.ranked.map((a) => a.value)).toEqual(["I'm a beginner", "I'm an expert"]);
    expect(offered.p("The public")).toBe(0);
    expect(p.predict("creation", whoFor, "u1", ["Just me"]).ranked[0]?.value).toBe("The public");
  });
});

describe("seeded suggestions fit their question for any idea", () => {
  it("'What problem should this birthday present solve for you?' offers no 'Convince someone'", async () => {
    const { FITTING_SUGGESTIONS } = await import("../../migrations/011_question_suggestions.ts");
    expect(FITTING_SUGGESTIONS.intent_problem?.now).not.toContain("Convince someone");
    expect(FITTING_SUGGESTIONS.intent_problem?.now).not.toContain("Learn something new");
  });
});
