import { describe, expect, it } from "vitest";
import { judgeTypedText } from "../../src/engine/conversation/typed-text.ts";
import type { QuestionView } from "../../src/engine/conversation/types.ts";

const question: QuestionView = {
  id: 1,
  threadId: 1,
  position: 1,
  slot: "constraints",
  text: "Is there a budget or a deadline for this weekly newsletter?",
  suggestions: ["Tight budget", "Firm deadline"],
  templateId: 4,
  idea: { shortId: "0e93c7aa", title: "Write a weekly newsletter" },
};
const route = (text: string) => judgeTypedText(text, question).route;

describe("judgeTypedText: does a typed message answer the open question?", () => {
  it.each([
    "Different thing: find a birthday present for my dad, he likes fishing",
    "New idea: a podcast about bees",
    "btw can you look at my CV",
    "Can you explain how tides work?",
    "What is the best compost bin for a balcony?",
    "Find a birthday present for my dad who likes fishing",
    Array.from({ length: 80 }, (_, i) => `word${i}`).join(" "),
  ])("a new idea: %s", (text) => {
    expect(route(text)).toBe("new_idea");
  });

  it.each([
    "Monthly is fine",
    "Under 50 euros, before Friday",
    "Not sure?",
    "Please keep it short and simple",
    "Make it fun for kids",
    "Plan for 20 people at most",
    "For the neighbours in my street, most of them retired",
    "x".repeat(20_000), // one long word: an answer, refused by the answer length limit instead
  ])("an answer: %s", (text) => {
    expect(route(text)).toBe("answer");
  });

  it("says why a text was taken as a new idea", () => {
    expect(judgeTypedText("Different thing: a podcast", question)).toEqual({
      route: "new_idea",
      reason: "it says it is something new",
    });
  });
});
