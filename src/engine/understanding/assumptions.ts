import { z } from "zod";
import type { ResponseFormat } from "../../backends/backend.ts";
import { SLOTS, type Slot } from "../../learning/quick-analysis.ts";
import { jsonSchemaOf } from "./schema.ts";
import { structuredCall, type UnderstandDeps } from "./understand.ts";

/**
 * Draft 1 states its assumptions (prompts/draft.md asks it to). One cheap structured call reads
 * them back, each tied to an understanding slot with how risky it is (likely wrong, and how much
 * the draft would change); the riskiest one on the slot the learner picks next is asked as a
 * one-tap confirmation: "I assumed a budget under €50 — right?" [Yes] [No]. A Yes fills the slot
 * with the assumption; a No leaves it open (the slot can be asked about again), and the refined
 * draft's prompt carries the rejection. Late, failed or malformed: no confirmations, nothing waits.
 */
const AssumptionSchema = z.object({
  slot: z.enum(SLOTS),
  /** The assumption as a short phrase that completes "I assumed …" ("a budget under €50"). */
  assumption: z.string().refine((s) => s.trim() !== "" && s.trim().length <= 100, "1–100 characters"),
  /** 0–1: how likely it is wrong times how much a wrong one would change the draft. */
  risk: z.number().min(0).max(1),
});
const AssumptionsSchema = z.object({ assumptions: z.array(AssumptionSchema).max(5) });

export interface Assumption {
  slot: Slot;
  text: string;
  risk: number;
  /** Asked as a confirmation already (each is asked at most once). */
  asked?: boolean;
}

const PROMPT = `Below are a person's idea and the first draft written for it. The draft made assumptions
about what the person wants (often stated at its top). List up to 5 of them as JSON:
{"assumptions": [{"slot": "intent" | "constraints" | "success" | "context" | "scope",
"assumption": "<a short phrase completing 'I assumed …', e.g. 'a budget under €50'>",
"risk": <0 to 1: how likely it is wrong times how much the draft would change>}]}.
Only assumptions the draft really made; none if it made none.`;

export async function readAssumptions(
  d: UnderstandDeps,
  req: { idea: string; draft: string; threadId: number; localOnly?: boolean },
): Promise<Assumption[] | undefined> {
  const parsed = await structuredCall(d, {
    jobType: "assumptions",
    threadId: req.threadId,
    localOnly: req.localOnly,
    maxTokens: 400,
    messages: [
      { role: "system", content: PROMPT },
      // The start of the draft is where it states them; the cap keeps the call cheap.
      { role: "user", content: `Idea:\n${req.idea}\n\nDraft:\n${req.draft.slice(0, 4000)}` },
    ],
    format: ASSUMPTIONS_FORMAT,
    parse: (raw) => {
      try {
        const r = AssumptionsSchema.safeParse(JSON.parse(raw));
        return r.success ? r.data : undefined;
      } catch {
        return undefined;
      }
    },
  });
  if (!parsed) return undefined;
  return parsed.assumptions
    .map((a) => ({ slot: a.slot, text: a.assumption.trim().replace(/[.!]+$/, ""), risk: a.risk }))
    .sort((a, b) => b.risk - a.risk);
}

/** The confirmation question for an assumption. */
export const confirmationText = (a: Assumption): string => `I assumed ${a.text} — right?`;
export const CONFIRM_YES = "Yes";
export const CONFIRM_NO = "No";

/** Converted once (see jsonSchemaOf), shared by every call. */
const ASSUMPTIONS_FORMAT: ResponseFormat = Object.freeze({
  name: "draft_assumptions",
  schema: jsonSchemaOf(AssumptionsSchema),
});
