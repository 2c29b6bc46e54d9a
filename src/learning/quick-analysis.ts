/**
 * The quick, heuristic first look at an idea (well under a millisecond): what kind of idea it is,
 * how complex, and which of the five understanding slots the text already answers. It never calls
 * a model, so the first draft never waits for it.
 */
export type IdeaType = "research" | "creation" | "analysis" | "decision" | "mixed";
export const SLOTS = ["intent", "constraints", "success", "context", "scope"] as const;
export type Slot = (typeof SLOTS)[number];

export interface QuickAnalysis {
  ideaType: IdeaType;
  complexity: number;
  clearSlots: Slot[];
  clarity: number;
  title: string;
}

const TYPE_CUES: Record<Exclude<IdeaType, "mixed">, RegExp> = {
  research:
    /\b(research|find out|look into|learn about|what is|what are|how does|sources?|compare .* options|survey|investigate)\b/i,
  creation:
    /\b(write|draft|create|build|make|design|compose|generate|plan|outline|script|app|website|story|post|email|letter)\b/i,
  analysis:
    /\b(analy[sz]e|review|evaluate|assess|break down|why (is|did|does)|explain|critique|audit|data)\b/i,
  decision:
    /\b(should i|decide|choose|choice|pick|which (one|is better)|vs\.?|versus|pros and cons|worth it)\b/i,
};

/** Words that suggest the text already says something about a slot (a cue can mislead, so it is not certainty). */
export const SLOT_CUES: Record<Slot, RegExp> = {
  intent: /\b(i want|i need|goal|so that|in order to|aim|purpose|help me)\b/i,
  constraints:
    /\b(budget|deadline|by (monday|tuesday|wednesday|thursday|friday|saturday|sunday|tomorrow|next)|within|under \$?\d|max(imum)?|at most|no more than|must|can't|cannot|without)\b/i,
  success: /\b(success|done when|measure|metric|kpi|so that|result should|outcome|good enough)\b/i,
  context:
    /\b(i am|i'm|we are|we're|my (team|company|job|boss|class)|background|currently|for my|audience)\b/i,
  scope:
    /\b(only|just|focus on|limited to|including|excluding|pages?|words?|steps?|\d+\s*(minutes?|hours?|days?|weeks?))\b/i,
};

/**
 * Confidence (0–1) that Hermes understands a slot: nothing said yet, the text has a cue for it,
 * a clear answer to a question about it. Clarity is the weighted sum of these (see clarity.ts).
 */
export const BASE_CONFIDENCE = 0.1;
export const TEXT_CUE_CONFIDENCE = 0.75;
export const ANSWER_CONFIDENCE = 0.95;

/** Weights of the slots in the clarity score (intent matters most). */
export const SLOT_WEIGHTS: Record<Slot, number> = {
  intent: 0.3,
  constraints: 0.2,
  success: 0.2,
  context: 0.15,
  scope: 0.15,
};

export function quickAnalyze(text: string): QuickAnalysis {
  const trimmed = text.trim();
  const matched = (Object.keys(TYPE_CUES) as Exclude<IdeaType, "mixed">[]).filter((t) =>
    TYPE_CUES[t].test(trimmed),
  );
  const ideaType: IdeaType =
    matched.length === 1 ? (matched[0] as IdeaType) : matched.length === 0 ? "creation" : "mixed";
  const clearSlots = SLOTS.filter((s) => SLOT_CUES[s].test(trimmed));
  const words = trimmed.split(/\s+/).filter(Boolean).length;
  const clauses = (trimmed.match(/\b(and|then|also|plus|but)\b|[,;]/gi) ?? []).length;
  const complexity = Math.max(
    1,
    Math.min(10, Math.round(1 + words / 25 + clauses / 2 + (matched.length > 1 ? 1 : 0))),
  );
  // A short vague idea starts low; a slot with a cue counts, but less than an answer (cues can mislead).
  const clarity = SLOTS.reduce(
    (sum, s) => sum + SLOT_WEIGHTS[s] * (clearSlots.includes(s) ? TEXT_CUE_CONFIDENCE : BASE_CONFIDENCE),
    0,
  );
  return {
    ideaType,
    complexity,
    clearSlots,
    clarity: Math.round(Math.min(1, clarity) * 100) / 100,
    title: makeTitle(trimmed),
  };
}

/**
 * Finer kinds of idea whose needs differ although the type cues file them together (a trip, a talk,
 * a small business and a new skill are all "creation"): what the learners learn per kind. Checked
 * in this order; the first that matches wins.
 */
const KIND_CUES: readonly [string, RegExp][] = [
  [
    "skill",
    /\b(learn(ing)? (to|how to|spanish|french|german|italian|japanese|chinese|a language|the)|learn \w+ before|get better at|pick up|practi[cs]e|improve my|master(ing)?|lessons?|skills?|touch typing)\b/i,
  ],
  [
    "trip",
    /\b(trip|travel(ling)?|holiday|vacation|journey|weekend away|itinerary|road trip|flights?|hotels?|sightseeing)\b/i,
  ],
  ["talk", /\b(talk|presentation|speech|keynote|lecture|slides|webinar|toast|sermon)\b/i],
  ["gift", /\b(gifts?|present for|presents|birthday present|something for my)\b/i],
  [
    "device",
    /\b(laptop|phone|smartphone|computer|tablet|camera|headphones|tv|television|device|machine|e-reader|printer|monitor|console|gadget|router)\b/i,
  ],
  [
    "business",
    /\b(business|shop|store|startup|start-up|side hustle|customers|sell(ing)?|company|freelanc\w*|clients)\b/i,
  ],
];

/** The kind of idea the learners learn per: a finer kind when its cues match, else the idea type. */
export function ideaKind(text: string, ideaType: string): string {
  for (const [kind, cue] of KIND_CUES) if (cue.test(text)) return kind;
  return ideaType;
}

function makeTitle(text: string): string {
  const firstLine =
    text
      .split(/\r?\n/)
      .find((l) => l.trim() !== "")
      ?.trim() ?? "Untitled idea";
  const clean = firstLine.replace(/\s+/g, " ");
  return clean.length <= 60 ? clean : `${clean.slice(0, 57).replace(/\s+\S*$/, "")}…`;
}
