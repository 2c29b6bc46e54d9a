// A model's answer to the idea-analysis call (src/engine/understanding/schema.ts), for the fakes:
// every slot has its own question and answers, so a test can tell which slot was asked and that
// the words came from the model.
import { SLOTS, type Slot } from "../../src/learning/quick-analysis.ts";

export function understandingFor(
  topic: string,
  overrides: Partial<Record<Slot, { says?: string; missing?: string }>> = {},
) {
  const slots = Object.fromEntries(
    SLOTS.map((slot) => [
      slot,
      {
        says: overrides[slot]?.says ?? "",
        missing: overrides[slot]?.missing ?? `the ${slot}`,
        question: `Model question about the ${slot} of ${topic}?`,
        answers: [`${slot} answer A`, `${slot} answer B`, `${slot} answer C`],
      },
    ]),
  );
  return { idea_type: "creation", complexity: 3, title: `Plan ${topic}`, topic, slots };
}
