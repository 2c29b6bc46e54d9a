import { z } from "zod";
import { type ClaritySlots, initialSlots } from "../../learning/clarity.ts";
import type { OrderArm } from "../../learning/order-arms.ts";
import type { AnswerMode } from "../../learning/question-model.ts";
import type { QuestionPolicy } from "../../learning/question-selector.ts";
import { ideaKind, SLOTS, type Slot } from "../../learning/quick-analysis.ts";
import { extractTopic } from "../../learning/topic.ts";
import { parseOptionalJsonColumn } from "../../store/json-column.ts";
import type { ConversationRow } from "../../store/schema.ts";
import type { Assumption } from "../understanding/assumptions.ts";
import type { Understanding } from "../understanding/schema.ts";
import type { QuestionView } from "./types.ts";

/**
 * What the conversation flow stores and reads back: the conversation state of a thread
 * (idea_threads.clarity_slots JSON), the plan stored with each question
 * (conversations.optimization_suggested JSON), and the small conversions between rows and views.
 */

export interface AppliedOptimization {
  kind: "pattern" | "preference";
  id: number;
  name: string;
  slot?: Slot | undefined;
  value: string;
  confidence: number;
  at: string;
  /** Patterns: the seconds of the user's time the skipped question would have taken. */
  secondsSaved?: number | undefined;
}

/** Everything the flow keeps about one thread's conversation (idea_threads.clarity_slots JSON). */
export interface ConversationState {
  v: 1;
  topic: string;
  ideaType: string;
  /**
   * The kind of idea the learners learn per (quick-analysis ideaKind: trip, talk, … or the type);
   * absent in states stored before kinds existed (the type is used then).
   */
  kind?: string;
  /** "fixed": this session follows the fixed order (the kind's learned order is losing; order-arms.ts). */
  order?: OrderArm;
  userId: string | null;
  policy: QuestionPolicy;
  initial: ClaritySlots;
  slots: ClaritySlots;
  asked: number;
  seconds: number;
  /** Slots whose pattern is being validated by asking (pattern id). */
  validating: Partial<Record<Slot, number>>;
  applied: AppliedOptimization[];
  /** The model's understanding of the idea (src/engine/understanding/), when it answered in time. */
  understanding?: Understanding | undefined;
  /** Draft 1's risky assumptions, riskiest first, to confirm with one tap (./assumptions.ts). */
  assumptions?: Assumption[] | undefined;
  stop?: { reason: string; at: string; refinedJobId: number | null; progress: Record<Slot, number> };
}

/** The plan stored with each question (conversations.optimization_suggested). */
export interface QuestionPlan {
  suggestions: string[];
  /** Predicted chance that the suggestions hold the user's answer (learning policy). */
  predicted_hit?: number;
  /** How the question was answered: a tap on a suggestion, typed, or "don't know" / skip. */
  answered_by?: AnswerMode;
  /** A typed answer: the learned rows as they were before it (read with LearningSnapshotSchema). */
  undo?: unknown;
  predicted_improvement?: number;
  predicted_seconds?: number;
  value?: number;
  policy?: string;
  quality_improvement?: number;
  satisfaction_improvement?: number;
  /** "model": the question text and its answers were written by the model for this idea. */
  written_by?: "model" | "template" | "assumption";
  /** A confirmation of draft 1's assumption: the assumption ("a budget under €50"). */
  assumption?: string;
}

export const SLOT_LABELS: Record<Slot, string> = {
  intent: "Goal",
  constraints: "Constraints",
  success: "Success looks like",
  context: "Context",
  scope: "Scope",
};

/** The state of a conversation that has not asked or assumed anything yet. */
export function freshState(
  idea: string,
  ideaType: string,
  userId: string | null,
  policy: QuestionPolicy,
): ConversationState {
  const slots = initialSlots(idea);
  return {
    v: 1,
    topic: extractTopic(idea),
    ideaType,
    kind: ideaKind(idea, ideaType),
    userId,
    policy,
    initial: slots,
    slots,
    asked: 0,
    seconds: 0,
    validating: {},
    applied: [],
  };
}

/** The kind a conversation's learning is keyed by (the idea type for states from before kinds). */
export const kindOf = (state: Pick<ConversationState, "kind" | "ideaType">): string =>
  state.kind ?? state.ideaType;

export function toView(
  row: ConversationRow,
  suggestions: string[],
  thread: { id: number; uuid: string; original_request: string },
): QuestionView {
  return {
    id: row.id,
    threadId: thread.id,
    position: row.conversation_position ?? 0,
    slot: asSlot(row.question_type),
    text: row.question_asked,
    suggestions,
    templateId: row.question_template_id,
    idea: { shortId: thread.uuid.slice(0, 8), title: ideaTitle(thread.original_request) },
  };
}

/** The first words of an idea (at most ~40 characters, cut at a word), to name it under a question. */
export function ideaTitle(idea: string): string {
  const line = idea.trim().split("\n")[0]?.replace(/\s+/g, " ") ?? "";
  return line.length <= 40 ? line : `${line.slice(0, 40).replace(/\s+\S*$/, "")}…`;
}

// Both columns hold JSON objects written by this flow; anything else there is corrupt (an error).
const StoredObject = z.record(z.string(), z.unknown());

/** A thread's conversation state; undefined when none was stored yet or it predates this version. */
export function parseState(raw: string | null): ConversationState | undefined {
  const s = parseOptionalJsonColumn(StoredObject, raw, { table: "idea_threads", column: "clarity_slots" });
  if (s?.v !== 1 || !s.slots || !s.initial) return undefined;
  return s as unknown as ConversationState;
}

export function parsePlan(raw: string | null): QuestionPlan {
  const p = parseOptionalJsonColumn(StoredObject, raw, {
    table: "conversations",
    column: "optimization_suggested",
  });
  if (!p) return { suggestions: [] };
  return {
    ...(p as Partial<QuestionPlan>),
    suggestions: Array.isArray(p.suggestions) ? p.suggestions.filter((s) => typeof s === "string") : [],
  };
}

export function isSlot(s: string): s is Slot {
  return (SLOTS as readonly string[]).includes(s);
}

export function asSlot(s: string): Slot {
  return isSlot(s) ? s : s === "constraint" ? "constraints" : "intent";
}

export const round3 = (n: number) => Math.round(n * 1000) / 1000;
