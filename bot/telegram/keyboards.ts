import { InlineKeyboard } from "grammy";
import {
  type AnswerInput,
  type Assumption,
  type FeedbackInput,
  type QuestionView,
  SLOTS,
} from "../../src/engine/conversation/types.ts";

/**
 * Inline keyboards and their callback data (Telegram allows 64 bytes):
 *   q:<thread>:<question>:<n|s|e>   suggested answer n, skip, enough
 *   ans:<idea>:<thread>:<question>  "that was my answer": undo a text taken as a new idea
 *   ni:<thread>:<question>          "it's a new idea": undo a text taken as the answer
 *   r:<job>:<1-5|short|more>        rating or adjustment of a draft
 *   as:<thread>:<slot>              "Change" under an assumption from earlier conversations
 *   cancel:<job>                    (status-line.ts)
 *   forget:<yes|no>
 */
const LABEL_MAX = 60;

export function questionKeyboard(q: QuestionView): InlineKeyboard {
  const kb = new InlineKeyboard();
  q.suggestions.slice(0, 4).forEach((s, i) => {
    kb.text(s.length > LABEL_MAX ? `${s.slice(0, LABEL_MAX - 1)}…` : s, `q:${q.threadId}:${q.id}:${i}`).row();
  });
  return kb.text("Skip", `q:${q.threadId}:${q.id}:s`).text("Enough — go ahead", `q:${q.threadId}:${q.id}:e`);
}

export function parseAnswerData(
  data: string,
): { threadId: number; questionId: number; input: AnswerInput } | undefined {
  const m = /^q:(\d+):(\d+):(\d|s|e)$/.exec(data);
  if (!m) return undefined;
  const code = m[3] as string;
  const input: AnswerInput =
    code === "s"
      ? { kind: "skip" }
      : code === "e"
        ? { kind: "enough" }
        : { kind: "suggestion", index: Number(code) };
  return { threadId: Number(m[1]), questionId: Number(m[2]), input };
}

export function ratingKeyboard(jobId: number): InlineKeyboard {
  const kb = new InlineKeyboard();
  for (let i = 1; i <= 5; i++) kb.text("★".repeat(i), `r:${jobId}:${i}`);
  return kb.row().text("✂ Shorter", `r:${jobId}:short`).text("➕ More detail", `r:${jobId}:more`);
}

export function parseRatingData(data: string): { jobId: number; input: FeedbackInput } | undefined {
  const m = /^r:(\d+):([1-5]|short|more)$/.exec(data);
  if (!m) return undefined;
  const v = m[2] as string;
  const input: FeedbackInput =
    v === "short"
      ? { adjust: "shorter" }
      : v === "more"
        ? { adjust: "more_detail" }
        : { rating: Number(v) as 1 | 2 | 3 | 4 | 5 };
  return { jobId: Number(m[1]), input };
}

/** Which idea a question is about, so two open ideas can be told apart. */
const ideaLine = (q: QuestionView) => `💡 ${q.idea.shortId} · ${q.idea.title}`;

export function questionText(q: QuestionView): string {
  return `❓ ${q.position}. ${q.text}\n${ideaLine(q)}\n\nTap an answer or type your own. (/new starts a different idea.)`;
}

/** The question once settled: what was answered (tapped, typed, skipped) or that it closed. */
export function settledQuestionText(q: QuestionView, outcome: string): string {
  return `❓ ${q.position}. ${q.text}\n${ideaLine(q)}\n→ ${outcome}`;
}

/** An assumption from earlier conversations, as shown to the user (one message each, with "Change"). */
export function assumptionText(a: Assumption): string {
  return `🧠 Assumed from earlier — ${a.label}: ${a.value}`;
}

/** The one-tap correction under an assumption. */
export function assumptionKeyboard(threadId: number, a: Assumption): InlineKeyboard {
  return new InlineKeyboard().text("✏ Change", `as:${threadId}:${a.slot}`);
}

export function parseAssumptionData(
  data: string,
): { threadId: number; slot: Assumption["slot"] } | undefined {
  const m = /^as:(\d+):([a-z]+)$/.exec(data);
  const slot = SLOTS.find((s) => s === m?.[2]);
  return m && slot ? { threadId: Number(m[1]), slot } : undefined;
}

/** No buttons: an answered, closed or cancelled question keeps none (an empty keyboard removes them). */
export const NO_BUTTONS = { inline_keyboard: [] as [] };

/** Under the notice that a text was taken as a new idea: the one-tap undo. */
export function answerInsteadKeyboard(
  ideaThreadId: number,
  q: Pick<QuestionView, "threadId" | "id" | "position">,
): InlineKeyboard {
  return new InlineKeyboard().text(
    `↩ No — that was my answer to question ${q.position}`,
    `ans:${ideaThreadId}:${q.threadId}:${q.id}`,
  );
}

export function parseAnswerInsteadData(
  data: string,
): { ideaThreadId: number; threadId: number; questionId: number } | undefined {
  const m = /^ans:(\d+):(\d+):(\d+)$/.exec(data);
  return m ? { ideaThreadId: Number(m[1]), threadId: Number(m[2]), questionId: Number(m[3]) } : undefined;
}

/** Under a question answered by typing: the one-tap undo when the text was a new idea. */
export function newIdeaKeyboard(q: Pick<QuestionView, "threadId" | "id">): InlineKeyboard {
  return new InlineKeyboard().text("💡 It's a new idea", `ni:${q.threadId}:${q.id}`);
}

export function parseNewIdeaData(data: string): { threadId: number; questionId: number } | undefined {
  const m = /^ni:(\d+):(\d+)$/.exec(data);
  return m ? { threadId: Number(m[1]), questionId: Number(m[2]) } : undefined;
}
