import { z } from "zod";
import type { ResponseFormat } from "../../backends/backend.ts";
import type { TypedTextVerdict } from "../conversation/typed-text.ts";
import { judgeTypedText } from "../conversation/typed-text.ts";
import type { QuestionView } from "../conversation/types.ts";
import { jsonSchemaOf } from "./schema.ts";
import { structuredCall, type UnderstandDeps } from "./understand.ts";

/**
 * A typed message while a question is open: the answer, or a new idea? The keyword rule
 * (../conversation/typed-text.ts) decides at once where it is sure — a short reply is an answer,
 * a message that says it is something new is new. In between, the model reads the question and the
 * message under the analysis deadline; late, failed or malformed, the rule's verdict stands. Either
 * way the user can undo it in one tap.
 */
const VerdictSchema = z.object({ route: z.enum(["answer", "new_idea"]) });

const PROMPT = `Hermes asked the user a question about one of their ideas, and the user typed a message.
Decide whether the message answers that question ("answer") or is a new, separate request ("new_idea").
Answer with JSON only: {"route": "answer"} or {"route": "new_idea"}.`;

/** Up to this many words a reply reads as an answer without asking the model (typical answers: 1–15 words). */
const SURE_ANSWER_WORDS = 4;
const SURE_NEW_REASON = "it says it is something new";
const MODEL_REASON = "the model read it as a new request";

export function modelTypedJudge(d: UnderstandDeps) {
  return async (text: string, question: QuestionView): Promise<TypedTextVerdict> => {
    const rule = judgeTypedText(text, question);
    const words = text.trim().split(/\s+/).filter(Boolean).length;
    const sure = rule.route === "answer" ? words <= SURE_ANSWER_WORDS : rule.reason === SURE_NEW_REASON;
    if (sure) return rule;
    const verdict = await structuredCall(d, {
      jobType: "typed_text",
      threadId: question.threadId,
      maxTokens: 100,
      messages: [
        { role: "system", content: PROMPT },
        {
          role: "user",
          content: `The idea: ${question.idea.title}\nThe open question: ${question.text}\nThe message: ${text.trim()}`,
        },
      ],
      format: VERDICT_FORMAT,
      parse: (raw) => {
        try {
          const parsed = VerdictSchema.safeParse(JSON.parse(raw));
          return parsed.success ? parsed.data : undefined;
        } catch {
          return undefined;
        }
      },
    });
    if (!verdict) return rule;
    // The reason is shown to the user: it says who judged, not words the model made up.
    return verdict.route === "answer" ? { route: "answer" } : { route: "new_idea", reason: MODEL_REASON };
  };
}

/** Converted once (see jsonSchemaOf), shared by every call. */
const VERDICT_FORMAT: ResponseFormat = Object.freeze({
  name: "typed_text_verdict",
  schema: jsonSchemaOf(VerdictSchema),
});
