/**
 * A short noun phrase in the idea's own words, for the {{topic}} of question templates:
 * "Help me plan a trip to Lisbon for my family" → "this trip to Lisbon";
 * "Should I buy a new laptop or repair mine?" → "your plan to buy a new laptop".
 */
const LEAD_INS =
  /^(?:(?:hey|hi|hello|ok(?:ay)?|so|please|pls|hermes)[,!.:]?\s+)*(?:(?:can|could|would|will)\s+you\s+(?:please\s+)?|(?:i|we)\s+(?:would\s+like|'d\s+like|want|need|wish)\s+(?:you\s+)?to\s+|(?:i|we)\s+(?:want|need)\s+|help\s+me\s+(?:to\s+)?|let'?s\s+|let\s+us\s+|i'?m\s+(?:thinking\s+(?:about|of)|trying\s+to|looking\s+(?:for|into|to))\s+|should\s+(?:i|we)\s+|how\s+(?:do|can|should)\s+(?:i|we)\s+|what\s+(?:is|are)\s+|tell\s+me\s+about\s+|idea:\s*)+/i;

const TASK_VERBS =
  /^(?:write|draft|create|build|make|design|compose|generate|plan|outline|script|research|find\s+out\s+about|find\s+out|look\s+into|learn\s+about|investigate|survey|analy[sz]e|review|evaluate|assess|break\s+down|explain|critique|audit|summari[sz]e|compare|decide(?:\s+(?:on|between|whether))?|choose|pick|figure\s+out|come\s+up\s+with|put\s+together|prepare|organi[sz]e|start|set\s+up|get|find)\s+/i;

/** Words after which the phrase is cut (the rest is detail, not the topic). */
const CUT_BEFORE =
  /\s(?:for|by|with|so|because|that|which|who|before|after|within|under|using|without|but|to\s+(?:help|make|get|see)|in\s+order|if|when|while|since|until|next|this\s+(?:week|month|year)|tomorrow|today)\b/i;

const MAX_WORDS = 6;

export function extractTopic(idea: string): string {
  let text = (idea.split(/[\n.!?;:]/).find((s) => s.trim() !== "") ?? idea).trim().replace(/\s+/g, " ");
  text = text.replace(LEAD_INS, "");
  const hadVerb = TASK_VERBS.test(text);
  text = text.replace(TASK_VERBS, "");
  const cut = CUT_BEFORE.exec(` ${text}`);
  if (cut && cut.index > 1) text = ` ${text}`.slice(1, cut.index);
  // "and"/"or" end the topic only after a few words ("React and Vue" stays whole).
  const join = /\s(?:and|or)\s/i.exec(text);
  if (join && text.slice(0, join.index).split(" ").length >= 3) text = text.slice(0, join.index);
  text = text
    .replace(/[,()"'“”]+/g, " ")
    .replace(/\s+/g, " ")
    .trim();
  let words = text.split(" ").filter(Boolean);
  if (words.length > MAX_WORDS) words = words.slice(0, MAX_WORDS);
  // Do not end on a dangling little word ("a trip to").
  while (
    words.length > 1 &&
    /^(?:a|an|the|to|of|in|on|at|my|our|your|some|and|or|about|for|with|from|into)$/i.test(words.at(-1) ?? "")
  ) {
    words.pop();
  }
  if (words.length === 0) return "this idea";
  const first = words[0] ?? "";
  if (/^(?:a|an|the|some|this|that)$/i.test(first)) words[0] = "this";
  else if (/^my$/i.test(first)) words[0] = "your";
  else if (/^our$/i.test(first)) words[0] = "your";
  else if (/^(?:i|we)$/i.test(first) || (!hadVerb && looksLikeVerb(first))) {
    return `your plan to ${words.join(" ").replace(/^(?:i|we)\s+/i, "")}`.trim();
  }
  const phrase = words.join(" ");
  return phrase.length > 60 ? `${phrase.slice(0, 57).replace(/\s+\S*$/, "")}…` : phrase;
}

const COMMON_VERBS = new Set([
  "buy",
  "sell",
  "move",
  "quit",
  "switch",
  "learn",
  "go",
  "take",
  "hire",
  "rent",
  "lease",
  "invest",
  "change",
  "keep",
  "replace",
  "repair",
  "fix",
  "upgrade",
  "become",
  "apply",
  "join",
  "leave",
  "use",
  "try",
  "do",
  "run",
  "launch",
  "open",
  "close",
  "study",
  "travel",
  "visit",
  "cook",
  "train",
  "improve",
  "reduce",
  "increase",
  "grow",
  "save",
  "spend",
  "pay",
  "teach",
  "stop",
]);

function looksLikeVerb(word: string): boolean {
  return COMMON_VERBS.has(word.toLowerCase());
}
