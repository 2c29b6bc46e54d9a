import { describe, expect, it } from "vitest";
import type { ConversationContext } from "../../src/engine/conversation/context.ts";
import { freshState } from "../../src/engine/conversation/records.ts";
import { whyNoQuestion } from "../../src/engine/conversation/start.ts";
import { STOP_REASONS } from "../../src/learning/conversation-state.ts";

/**
 * The sentence a user reads when an idea gets no first question must be true: "the idea says
 * enough" only when the idea did, not when slots were filled from earlier ideas' habits.
 */
function contextWith(state: ReturnType<typeof freshState>, maxQuestions = 4): ConversationContext {
  return {
    threads: { thread: async () => ({ clarity_slots: JSON.stringify(state) }) },
    conversations: { pending: async () => undefined },
    config: { number: () => maxQuestions },
  } as unknown as ConversationContext;
}

function stopped(reason: string) {
  const state = freshState(
    "Plan a birthday party for my sister, at home, under 50 euros",
    "creation",
    "u1",
    "learning",
  );
  state.stop = {
    reason,
    at: "2026-01-01T00:00:00.000Z",
    refinedJobId: null,
    progress: state.stop?.progress ?? ({} as never),
  };
  return state;
}

describe("why an idea got no first question", () => {
  it("says the idea says enough when it did", async () => {
    const state = stopped(STOP_REASONS.clarity);
    expect(await whyNoQuestion(contextWith(state), 1)).toBe(
      "No questions needed: the idea says enough for the draft.",
    );
  });

  it("says earlier ideas' habits filled the rest when a slot was pre-filled from a pattern", async () => {
    const state = stopped(STOP_REASONS.clarity);
    state.slots.context = { ...state.slots.context, source: "pattern", confidence: 0.9 };
    expect(await whyNoQuestion(contextWith(state), 1)).toBe(
      "No questions needed: with what you told me about earlier ideas, there is enough for the draft; each thing I assumed is shown so you can correct it.",
    );
  });

  it("names the configured limit of questions", async () => {
    expect(await whyNoQuestion(contextWith(stopped(STOP_REASONS.max), 2), 1)).toBe(
      "No questions: the limit of questions per idea is 2 (hermes.learning.max_questions_per_conversation).",
    );
  });
});
