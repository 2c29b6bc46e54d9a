import { HermesError } from "../../errors.ts";
import { judgeTypedText, type TypedTextVerdict } from "../conversation/typed-text.ts";
import type { AnswerOutcome, QuestionView, WithdrawOutcome } from "../conversation/types.ts";
import type { SubmitIdeaInput, SubmitIdeaResult } from "../ports.ts";
import type { CancelOutcome } from "./cancel.ts";

/**
 * A plain typed message, the same for every transport: it answers the user's open question, or —
 * when it does not read as an answer (../conversation/typed-text.ts) — starts a new idea and
 * leaves the question open. The outcome says which, so the transport can show it: the answered
 * question echoes the answer; a new idea says which question it set aside and offers the undo
 * ({@link TypedOps.answerInstead}).
 */
export type TypedOutcome =
  | {
      kind: "answered";
      question: QuestionView;
      answer: string;
      outcome: AnswerOutcome;
      /** Other ideas with a question open too: the answer went to the one asked last, say which. */
      othersOpen: QuestionView[];
    }
  | {
      kind: "idea";
      idea: SubmitIdeaResult;
      /** The open question this text was not taken as an answer to, and why. */
      setAside?: { question: QuestionView; reason: string };
    };

/** What the thread service lends this module (its own checked calls, so ownership is enforced). */
export interface TypedOps {
  /** The user's open questions, the one asked last first. */
  open(): Promise<QuestionView[]>;
  pendingOf(threadId: number): Promise<QuestionView | undefined>;
  submit(input: Omit<SubmitIdeaInput, "userId" | "guest">): Promise<SubmitIdeaResult>;
  answer(q: QuestionView, text: string): Promise<AnswerOutcome>;
  ideaText(threadId: number): Promise<string>;
  cancelIdea(threadId: number): Promise<CancelOutcome | undefined>;
  withdraw(threadId: number, questionId: number): Promise<WithdrawOutcome>;
  /** The rule, or a judge that may ask a model within a deadline (src/engine/understanding/typed-judge.ts). */
  judge?:
    | ((text: string, question: QuestionView) => TypedTextVerdict | Promise<TypedTextVerdict>)
    | undefined;
}

export async function routeTypedText(
  ops: TypedOps,
  input: Omit<SubmitIdeaInput, "userId" | "guest">,
): Promise<TypedOutcome> {
  // The question asked last is the one the user just saw (views.ts openQuestionsOfUser).
  const [question, ...othersOpen] = await ops.open();
  if (!question) return { kind: "idea", idea: await ops.submit(input) };
  const verdict = await (ops.judge ?? judgeTypedText)(input.text, question);
  if (verdict.route === "answer") {
    const outcome = await ops.answer(question, input.text);
    return { kind: "answered", question, answer: input.text.trim(), outcome, othersOpen };
  }
  const idea = await ops.submit(input);
  return { kind: "idea", idea, setAside: { question, reason: verdict.reason } };
}

/**
 * The undo of a text taken as a new idea: it was the answer after all. The new idea is cancelled
 * (its draft and questions stop) and its text answers the question it was set aside from.
 */
export async function answerInstead(
  ops: TypedOps,
  ideaThreadId: number,
  questionThreadId: number,
  questionId: number,
): Promise<{
  question: QuestionView;
  answer: string;
  outcome: AnswerOutcome;
  cancelled: CancelOutcome | undefined;
}> {
  const question = await ops.pendingOf(questionThreadId);
  if (question?.id !== questionId)
    throw new HermesError("INVALID_INPUT", "That question is closed now, so the new idea stays.");
  const answer = (await ops.ideaText(ideaThreadId)).trim();
  const outcome = await ops.answer(question, answer);
  const cancelled = await ops.cancelIdea(ideaThreadId);
  return { question, answer, outcome, cancelled };
}

/**
 * The undo of a typed text taken as an answer: it was a new idea. The answer is withdrawn (the
 * question is open again and nothing learned from it stays — ../conversation/withdraw.ts) and its
 * text starts a new idea.
 */
export async function newIdeaInstead(
  ops: TypedOps,
  threadId: number,
  questionId: number,
  input: Omit<SubmitIdeaInput, "userId" | "guest" | "text">,
): Promise<{ withdrawn: WithdrawOutcome; idea: SubmitIdeaResult }> {
  const withdrawn = await ops.withdraw(threadId, questionId);
  const idea = await ops.submit({ ...input, text: withdrawn.text });
  return { withdrawn, idea };
}
