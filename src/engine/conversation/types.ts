import type { Slot } from "../../learning/quick-analysis.ts";
import type { Job } from "../../store/jobs/types.ts";

/** The understanding slots, for transports that validate a slot name (e.g. an API correction). */
export { SLOTS } from "../../learning/quick-analysis.ts";

/**
 * The contract between the conversation flow (questions, answers, draft 2, feedback — built in
 * src/engine/conversation/flow.ts over src/learning/) and its transports (bot/, src/http/, the
 * terminal chat, the simulated users of bench/questions.ts). Transports only see these shapes.
 */
export interface QuestionView {
  /** conversations.id */
  id: number;
  threadId: number;
  /** 1-based position in this thread's conversation. */
  position: number;
  slot: Slot;
  text: string;
  /** 2–4 suggested answers, shown as buttons. */
  suggestions: string[];
  templateId: number | null;
  /** The idea it is about, so two open ideas can be told apart: its short id and first words. */
  idea: { shortId: string; title: string };
}

export type AnswerInput =
  | { kind: "suggestion"; index: number }
  | { kind: "text"; text: string }
  | { kind: "skip" }
  | { kind: "enough" };

export interface AnswerOutcome {
  /** Clarity after this answer, 0–1. */
  clarity: number;
  /** The next question to ask now, if any. */
  next: QuestionView | undefined;
  /** Set when the questions are over and the refined draft was queued. */
  refinedJobId: number | undefined;
  /** Why questions stopped (clarity reached, max questions, user said enough, nothing worth asking). */
  stopReason: string | undefined;
  /**
   * Set when the question could not take an answer: "answered" (a second tap), "closed" (the
   * idea was cancelled or its questions are over). Nothing was recorded; say so.
   */
  stale?: "answered" | "closed";
}

/** A typed answer taken back ("It's a new idea"): what was undone, for the transport to show. */
export interface WithdrawOutcome {
  /** The question, open again as it was asked. */
  question: QuestionView;
  /** The withdrawn text (the new idea). */
  text: string;
  /** Questions asked after it, taken back (their messages should lose their buttons). */
  removedQuestionIds: number[];
  /** The refined draft the answer had queued, cancelled. */
  cancelledRefinedJob: number | undefined;
  /** The refined draft the answer had queued, already written with it (kept; it cannot be unwritten). */
  refinedDraftKept: number | undefined;
}

/** A slot Hermes assumed from the user's earlier conversations instead of asking (shown with "Change"). */
export interface Assumption {
  slot: Slot;
  /** The slot's label ("Constraints"). */
  label: string;
  value: string;
  patternId: number;
}

export interface CorrectionOutcome {
  /** The question open now, if any. */
  next: QuestionView | undefined;
  /** Set when the correction ended the questions and queued the refined draft. */
  refinedJobId: number | undefined;
  /** The questions were already over: the correction teaches, but the refined draft had been queued. */
  questionsOver: boolean;
  clarity: number;
}

export type FeedbackInput = { rating: 1 | 2 | 3 | 4 | 5 } | { adjust: "shorter" | "more_detail" };

export interface FeedbackOutcome {
  recorded: boolean;
  /** For "shorter"/"more detail": the job queued to rewrite the draft, if any. */
  followUpJobId: number | undefined;
  /** What Hermes learned from it, in one sentence (e.g. "I'll keep answers shorter."). */
  learned: string | undefined;
}

/** Implemented by the conversation flow; the Engine delegates to it. */
/** What a new idea's conversation opens with (ConversationPort.open). */
export interface Opening {
  question: QuestionView | undefined;
  /** Why there is no first question, in words for the user (see whyNoQuestion). */
  noQuestion?: string;
  /** What was assumed from the user's earlier conversations (see assumptions). */
  assumptions: Assumption[];
}

export interface ConversationPort {
  /**
   * Called right after draft 1 is queued; returns the first question (or none). Waits on the
   * model's analysis of the idea at most hermes.classification.deadline_ms; never on a draft.
   */
  start(threadId: number, userId: string): Promise<QuestionView | undefined>;
  /**
   * start, whyNoQuestion and assumptions in one (what submit shows), without reading back what the
   * first step just saved. `draft1`: the job submit queued for the idea.
   */
  open?(threadId: number, userId: string, draft1: Job): Promise<Opening>;
  /** Why start asked no first question, in words for the user; undefined when one is open. */
  whyNoQuestion?(threadId: number): Promise<string | undefined>;
  /** The pending (asked, unanswered) question of a thread, if any. */
  pending(threadId: number): Promise<QuestionView | undefined>;
  answer(threadId: number, questionId: number, input: AnswerInput, userId: string): Promise<AnswerOutcome>;
  feedback(threadId: number, jobId: number, input: FeedbackInput, userId: string): Promise<FeedbackOutcome>;
  /** Undoes a typed answer (it was a new idea): the question is open again and nothing learned from it stays. */
  withdraw?(threadId: number, questionId: number): Promise<WithdrawOutcome>;
  /** The idea was cancelled: stop asking, close the open question, queue no refined draft. */
  close(threadId: number, reason: string): Promise<boolean>;
  /** What was assumed from earlier conversations on this thread (each shown with a correction). */
  assumptions?(threadId: number): Promise<Assumption[]>;
  /** "Change" under an assumption: it no longer counts, and the pattern behind it counts a correction. */
  correctAssumption?(threadId: number, slot: Slot, userId: string): Promise<CorrectionOutcome>;
  /** After /forget deleted a user's rows: drops the in-memory models and caches built from them. */
  forgetInMemory?(): void;
}
