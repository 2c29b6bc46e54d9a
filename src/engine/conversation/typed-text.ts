import type { QuestionView } from "./types.ts";

/**
 * Where a plain typed message goes while one of the user's questions is open: the answer to that
 * question, or a new idea. The rule is small and pure so a transport, a test and (later) a model
 * with a deadline can all use it: {@link TypedTextJudge} is the seam to swap in a smarter judge.
 *
 * A message reads as a new idea when it says so ("Different thing: …", "New idea: …"), asks
 * something of its own (a question of several words), starts like a request ("Can you …",
 * "Help me …", "Write …") with enough words to be one, or is far longer than answers are. Anything
 * else is the answer. Either way the user sees what happened and can undo it in one tap.
 */

/** Longest typed answer accepted (an idea may be longer: hermes.web.max_input_length). */
export const MAX_ANSWER_CHARS = 1000;

export type TypedTextVerdict = { route: "answer" } | { route: "new_idea"; reason: string };
export type TypedTextJudge = (text: string, question: QuestionView) => TypedTextVerdict;

const SAYS_NEW =
  /^(?:(?:a\s+)?(?:different|another|other|separate|unrelated)\s+(?:thing|idea|topic|question|request)|(?:a\s+)?new\s+(?:idea|thing|topic|request|question)|something\s+(?:else|different)|btw|by\s+the\s+way|separately|also,?\s+(?:can|could)\s+you)\b/i;
/** Asks Hermes for something: a request even when short. */
const ASKS =
  /^(?:(?:can|could|would|will)\s+you|help\s+me|i\s+(?:want|need|would\s+like|'d\s+like)\s+you\s+to|tell\s+me|how\s+(?:do|can|should)\s+i|what\s+(?:is|are)|should\s+i)\b/i;
/** Starts like a task ("Find a birthday present …"); answers start like this too ("Plan for 20"), so only long ones count. */
const TASK =
  /^(?:write|draft|create|build|design|plan|find|research|explain|compare|summari[sz]e|organi[sz]e|figure\s+out)\b/i;
/** Answers are a few words; a message this long is something else (typical answers: 1–15 words). */
const MAX_ANSWER_WORDS = 60;

export const judgeTypedText: TypedTextJudge = (text) => {
  const t = text.trim().replace(/[\u2018\u2019]/g, "'");
  const words = t.split(/\s+/).filter(Boolean).length;
  if (SAYS_NEW.test(t)) return { route: "new_idea", reason: "it says it is something new" };
  if (words >= 4 && /\?\s*$/.test(t)) return { route: "new_idea", reason: "it asks a question of its own" };
  if (words >= 4 && ASKS.test(t)) return { route: "new_idea", reason: "it reads like a new request" };
  if (words >= 7 && TASK.test(t)) return { route: "new_idea", reason: "it reads like a new request" };
  if (words > MAX_ANSWER_WORDS) return { route: "new_idea", reason: "it is much longer than an answer" };
  return { route: "answer" };
};
