/**
 * A short noun phrase in the idea's own words, for the {{topic}} of question templates:
 * "Help me plan a trip to Lisbon for my family" → "this trip to Lisbon";
 * "Should I buy a new laptop or repair mine?" → "your plan to buy a new laptop".
 */
const LEAD_INS =
  /^(?:(?:hey|hi|hello|ok(?:ay)?|so|please|pls|hermes)[,!.:]?\s+)*(?:(?:(?:a\s+)?different\s+(?:thing|idea|topic)|(?:a\s+)?new\s+(?:idea|thing|topic)|another\s+(?:thing|idea)|also|idea)\s*[:,-]\s*|(?:i|we)(?:'d|\s+would)\s+(?:really\s+)?(?:like|love)\s+(?:you\s+)?to\s+|(?:i|we)(?:'m|\s+am|'re|\s+are)\s+(?:going|planning|hoping|about)\s+to\s+|(?:can|could|would|will)\s+you\s+(?:please\s+)?|(?:i|we)\s+(?:would\s+like|'d\s+like|want|need|wish)\s+(?:you\s+)?to\s+|(?:i|we)\s+(?:want|need)\s+|help\s+me\s+(?:to\s+)?|let'?s\s+|let\s+us\s+|i'?m\s+(?:thinking\s+(?:about|of)|trying\s+to|looking\s+(?:for|into|to))\s+|should\s+(?:i|we)\s+|how\s+(?:do|can|should)\s+(?:i|we)\s+|what\s+(?:is|are)\s+|tell\s+me\s+about\s+|idea:\s*)+/i;

const TASK_VERBS =
  /^(?:write|draft|create|build|make|design|compose|generate|plan|outline|script|research|find\s+out\s+about|find\s+out|look\s+into|learn\s+about|investigate|survey|analy[sz]e|review|evaluate|assess|break\s+down|explain|critique|audit|summari[sz]e|compare|decide(?:\s+(?:on|between|whether))?|choose|pick|figure\s+out|come\s+up\s+with|put\s+together|prepare|organi[sz]e|start|set\s+up|get|find)\s+/i;

/** Words after which the phrase is cut (the rest is detail, not the topic). */
const CUT_BEFORE =
  /\s(?:for|by|with|so|because|that|which|who|before|after|within|under|using|without|but|to\s+(?:help|make|get|see)|in\s+order|if|when|while|since|until|next|this\s+(?:week|month|year)|tomorrow|today)\b/i;

/** What may stand between "decide"/"figure out" and the action: "whether to", "if I should", "how to". */
const ACTION_LEAD =
  /^(?:(?:whether|if)\s+(?:or\s+not\s+)?(?:i|we)\s+(?:should|could|can|ought\s+to)\s+|(?:whether|how|when|where)\s+to\s+|to\s+)/i;

const MAX_WORDS = 6;

export function extractTopic(idea: string): string {
  // Typographic apostrophes ("I’d") read as plain ones; a lead-in like "New idea:" is not the topic.
  const plain = idea.replace(/[\u2018\u2019]/g, "'").replace(LEAD_INS, "");
  let text = (plain.split(/[\n.!?;:]/).find((s) => s.trim() !== "") ?? plain).trim().replace(/\s+/g, " ");
  text = text.replace(LEAD_INS, "");
  const hadVerb = TASK_VERBS.test(text);
  text = text.replace(TASK_VERBS, "");
  // "decide whether to buy a bin" is the plan to buy a bin, not the phrase "to buy a bin".
  const action = ACTION_LEAD.test(text);
  text = text.replace(ACTION_LEAD, "");
  const cut = CUT_BEFORE.exec(` ${text}`);
  if (cut && cut.index > 1) text = ` ${text}`.slice(1, cut.index);
  // "and"/"or" end the topic only after a few words ("React and Vue" stays whole).
  const join = /\s(?:and|or)\s/i.exec(text);
  if (join && text.slice(0, join.index).split(" ").length >= 3) text = text.slice(0, join.index);
  text = text
    // Quotes and brackets go; an apostrophe inside a word ("dad's", "I'd") stays.
    .replace(/[,()"“”]+|(?<![a-z])'|'(?![a-z])/gi, " ")
    .replace(/\s+/g, " ")
    .trim();
  let words = text.split(" ").filter(Boolean);
  if (words.length > MAX_WORDS) {
    // Cut to the limit, and at a preposition inside it, so no half phrase is left ("about local").
    words = words.slice(0, MAX_WORDS);
    const prep = words.findLastIndex((w, i) => i >= 3 && /^(?:about|of|in|on|at|from|into|around)$/i.test(w));
    if (prep > 0) words = words.slice(0, prep);
  }
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
  else if (/^(?:i|we)$/i.test(first)) {
    // "I should move" → "your plan to move"; a pronoun before anything else is not a topic.
    const rest = words.slice(1).filter((w, i) => i > 0 || !/^(?:should|could|can|will|might)$/i.test(w));
    return rest.length > 0 && looksLikeVerb(rest[0] ?? "") ? `your plan to ${rest.join(" ")}` : "this idea";
  } else if (action || (!hadVerb && looksLikeVerb(first))) {
    return `your plan to ${words.join(" ")}`;
  } else if (/^[a-z]+'[a-z]+$/i.test(first) && /^(?:i|we|you|it|that|there)'/i.test(first)) {
    return "this idea"; // a contraction left over ("I've", "it's"): no noun phrase to quote
  } else if (/^[A-Z][a-z]+$/.test(first) && words.length > 1 && idea.trimStart().startsWith(`${first} `)) {
    // A bare noun phrase that opened the sentence ("Bake sale for the school fair"): its capital is
    // the sentence's, and a question needs a determiner ("this bake sale").
    words = ["this", first.toLowerCase(), ...words.slice(1)];
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
