import { HermesError } from "../../errors.ts";
import type { Slot } from "../../learning/quick-analysis.ts";
import type { Job } from "../../store/jobs/repo.ts";
import type { ThreadRecord } from "../../store/threads/repo.ts";
import { answerLines, refinementVariables } from "../conversation/drafts.ts";
import type { AnswerInput, AnswerOutcome, ConversationPort, QuestionView } from "../conversation/types.ts";
import type { ThreadContext } from "./records.ts";

/**
 * Adding to a thread that exists: answers to its questions and information the user volunteers.
 * One path for every transport: the information is kept as its own conversation entry (so the
 * flow's refined draft and the history see it), and once the questions are over it gets a refined
 * draft of its own — parent: the latest completed draft; sequence: after the highest.
 */

export interface ContinueInput {
  answers?: { questionId: number; input: AnswerInput }[] | undefined;
  information?: string | undefined;
  /** Assumptions the user changed ("Change" under them): each counts against its pattern. */
  corrections?: Slot[] | undefined;
}

export interface ContinueOutcome {
  /** Clarity after the answers, 0–1. */
  clarity: number;
  /** The answers in order, with the question's text when it was the one open. */
  answered: {
    questionId: number;
    question: string | null;
    input: AnswerInput;
    /** The text of a chosen suggestion, when the question was the one open. */
    answerText?: string | undefined;
  }[];
  informationAdded: boolean;
  /** The assumptions corrected (their slots). */
  corrected: Slot[];
  /** The question to ask now, if any. */
  open: QuestionView | undefined;
  refinedJobId: number | undefined;
  stopReason: string | undefined;
}

export function requireConversation(d: ThreadContext): ConversationPort {
  if (!d.conversation) throw new HermesError("NOT_FOUND", "Questions are not enabled.");
  return d.conversation;
}

/** Records the information first, then the answers; refines with the information once nothing is open. */
export async function continueThread(
  d: ThreadContext,
  thread: ThreadRecord,
  userId: string,
  body: ContinueInput,
): Promise<ContinueOutcome> {
  const info = body.information === undefined ? undefined : checkedInformation(d, body.information);
  // Kept first, so a refined draft the answers below queue includes it.
  if (info !== undefined) {
    const now = d.iso();
    await d.conversations.addInformation(thread.id, info, now);
    await d.threads.touch(thread.id, now);
  }
  const out: ContinueOutcome = {
    clarity: thread.final_clarity_score,
    answered: [],
    informationAdded: info !== undefined,
    corrected: [],
    open: await d.conversation?.pending(thread.id),
    refinedJobId: undefined,
    stopReason: undefined,
  };
  for (const slot of body.corrections ?? []) {
    const port = requireConversation(d);
    if (!port.correctAssumption) throw new HermesError("NOT_FOUND", "Assumptions are not enabled.");
    const r = await port.correctAssumption(thread.id, slot, userId);
    out.corrected.push(slot);
    out.clarity = r.clarity;
    out.refinedJobId ??= r.refinedJobId;
    out.open = r.next;
  }
  // The conversation flow records each answer and decides when the questions stop (and queues
  // the refined draft then).
  for (const a of body.answers ?? []) {
    const r = await requireConversation(d).answer(thread.id, a.questionId, a.input, userId);
    out.answered.push({
      questionId: a.questionId,
      question: out.open?.id === a.questionId ? out.open.text : null,
      input: a.input,
      answerText:
        a.input.kind === "suggestion" && out.open?.id === a.questionId
          ? out.open.suggestions[a.input.index]
          : undefined,
    });
    out.clarity = r.clarity;
    out.refinedJobId ??= r.refinedJobId;
    out.stopReason = r.stopReason ?? out.stopReason;
    out.open = r.next;
  }
  // While questions are still open, the information waits for the flow's refined draft.
  if (info !== undefined && out.refinedJobId === undefined && out.open === undefined)
    out.refinedJobId = (await queueRefine(d, thread, userId)).id;
  return out;
}

/** What a reply to a thread's message did. */
export type ReplyOutcome =
  | { answered: AnswerOutcome }
  | { refinedJobId: number }
  /** Kept as information for the refined draft the open questions lead to. */
  | { kept: { open: QuestionView } };

/**
 * A message sent in reply to one of the thread's messages. A reply to the open question's own
 * message answers it; a reply to anything else (the draft, the acknowledgement) is information:
 * a refined draft at once, or — while questions are open — kept for the draft they lead to.
 * ("Also: I live in Berlin" under a draft is never filed as the answer to an unrelated question.)
 */
export async function replyToThread(
  d: ThreadContext,
  thread: ThreadRecord,
  userId: string,
  text: string,
  repliedTo: string | undefined,
): Promise<ReplyOutcome> {
  const info = checkedInformation(d, text);
  const pending = await d.conversation?.pending(thread.id);
  if (pending && d.conversation && repliedTo === "question")
    return {
      answered: await d.conversation.answer(thread.id, pending.id, { kind: "text", text: info }, userId),
    };
  const out = await continueThread(d, thread, userId, { information: info });
  if (out.refinedJobId !== undefined) return { refinedJobId: out.refinedJobId };
  if (out.open) return { kept: { open: out.open } };
  // Nothing open and nothing queued cannot happen (continueThread refines then); say so if it does.
  throw new HermesError("INTERNAL", "The information was kept but no draft was queued.");
}

function checkedInformation(d: ThreadContext, text: string): string {
  const info = text.trim();
  if (info === "")
    throw new HermesError("INVALID_INPUT", "The message is empty.", { details: "information" });
  const max = d.config.number("hermes.web.max_input_length");
  if (info.length > max)
    throw new HermesError("INVALID_INPUT", `That is ${info.length} characters; the limit is ${max}.`, {
      details: "information",
    });
  return info;
}

/**
 * Queues a refined draft (prompts/refine.md) with the whole context: the idea, every answer and
 * every piece of added information (the new one included), and the draft it refines (the latest
 * completed one, filled in when it runs). Preferences are filled in when it runs too (dispatch).
 */
async function queueRefine(d: ThreadContext, thread: ThreadRecord, userId: string): Promise<Job> {
  const jobs = await d.jobs.ofThread(thread.id);
  const latest = [...jobs].reverse().find((j) => j.status === "completed");
  const ideaType = thread.idea_type ?? "mixed";
  const told = await answerLines(d.conversations, thread.id, undefined);
  const parent = latest ?? jobs.at(-1);
  return d.queue.enqueue({
    threadId: thread.id,
    parentJobId: parent?.id ?? null,
    jobSequence: jobs.reduce((m, j) => Math.max(m, j.job_sequence), 0) + 1,
    jobType: ideaType,
    jobSubtype: "refine",
    priority: thread.priority,
    promptTemplate: "refine",
    promptVariables: refinementVariables(thread, ideaType, told, parent, { finishedOnly: true }),
    userId,
    achievedClarity: thread.final_clarity_score,
  });
}
