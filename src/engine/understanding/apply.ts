import { BASE_CONFIDENCE, SLOTS, type Slot, TEXT_CUE_CONFIDENCE } from "../../learning/quick-analysis.ts";
import type { ConversationState } from "../conversation/records.ts";
import type { SlotReading, Understanding } from "./schema.ts";

/**
 * What the model's understanding changes in a fresh conversation: the topic phrase, and what the
 * idea says per slot where the keyword cues could not tell. A slot the model reads as answered
 * counts like a cue in the text (so the learner does not ask about it); a cue the model reads as
 * not answered (a keyword that misled: "for my" in "for my 3 pm meeting") falls back to unknown.
 * Slots filled by answers or patterns are never touched. The understanding is kept in the state
 * for the questions asked later.
 */
export function applyUnderstanding(state: ConversationState, u: Understanding): void {
  state.understanding = u;
  state.topic = u.topic.trim();
  for (const slot of SLOTS) {
    const reading = u.slots[slot];
    const s = state.slots[slot];
    if (s.source === "none" && answered(reading)) {
      state.slots[slot] = {
        ...s,
        confidence: TEXT_CUE_CONFIDENCE,
        value: reading.says.trim(),
        source: "text",
      };
    } else if (s.source === "text" && reading.says.trim() === "" && reading.missing.trim() !== "") {
      state.slots[slot] = { ...s, confidence: BASE_CONFIDENCE, value: null, source: "none" };
    }
    state.initial[slot] = { ...state.slots[slot] };
  }
}

/** The idea says something about the slot and nothing about it is missing. */
function answered(r: SlotReading): boolean {
  return r.says.trim() !== "" && r.missing.trim() === "";
}

/** The question the model wrote for a slot of this idea, with its likely answers; none without an understanding. */
export function writtenQuestion(
  state: ConversationState,
  slot: Slot,
): { question: string; answers: string[] } | undefined {
  const r = state.understanding?.slots[slot];
  if (!r) return undefined;
  return { question: r.question.trim(), answers: r.answers.map((a) => a.trim()).filter((a) => a !== "") };
}
