import { describe, expect, it } from "vitest";
import { SEED_TEMPLATES } from "../../migrations/005_seed_question_templates.ts";
import { extractTopic } from "../../src/learning/topic.ts";

/** Every question template filled with the topic of an idea, as the user would read it. */
const asked = (idea: string) => SEED_TEMPLATES.map((t) => t.text.replaceAll("{{topic}}", extractTopic(idea)));

describe("the topic phrase a question quotes from the idea", () => {
  it.each([
    ["I'd like to launch a weekly newsletter about local food", "your plan to launch a weekly newsletter"],
    ["I’d like to launch a podcast", "your plan to launch a podcast"],
    ["Help me decide whether to buy a compost bin", "your plan to buy a compost bin"],
    ["I want to buy a compost bin", "your plan to buy a compost bin"],
    ["I'm going to buy a compost bin", "your plan to buy a compost bin"],
    ["Help me decide if I should move to Berlin", "your plan to move to Berlin"],
    ["Different thing: find a birthday present for my dad, he likes fishing", "this birthday present"],
    ["Help me plan a trip to Lisbon for my family next month", "this trip to Lisbon"],
    ["Bake sale for the school fair", "this bake sale"],
  ])("%s → %s", (idea, topic) => {
    expect(extractTopic(idea)).toBe(topic);
  });

  it("never leaves a cut word or a bare infinitive in the questions (the garbled ones users saw)", () => {
    const questions = [
      "I'd like to launch a weekly newsletter about local food",
      "I’d like to launch a weekly newsletter",
      "Help me decide whether to buy a compost bin",
      "Help me figure out how to grow tomatoes",
    ].flatMap(asked);
    for (const q of questions) {
      expect(q).not.toMatch(/\bplan to d\b|\bd like\b|\bout of to\b|\bis to\b|\bfor to\b|\bwith to\b/);
      expect(q).not.toMatch(/(?:of|is|for|with|on|Why) (?:to|how|whether|if) /);
    }
    expect(asked("Help me decide whether to buy a compost bin")).toContain(
      "What do you most want to get out of your plan to buy a compost bin?",
    );
    expect(asked("Help me decide whether to buy a compost bin")).toContain(
      "Who is your plan to buy a compost bin for?",
    );
    expect(asked("I'd like to launch a weekly newsletter about local food")).toContain(
      "Is there a budget or a deadline for your plan to launch a weekly newsletter?",
    );
  });
});
