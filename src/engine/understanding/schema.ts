import { z } from "zod";
import type { ResponseFormat } from "../../backends/backend.ts";
import { SLOTS, type Slot } from "../../learning/quick-analysis.ts";

/**
 * What the model is asked to tell about an idea, in one structured-output call: the analysis
 * (kind, complexity, title, topic), and per understanding slot what the idea already says, what is
 * missing, and the question Hermes would ask about that slot for *this* idea with 2–4 answers a
 * person would likely give. The learner still decides which slot is worth asking; the model only
 * makes the question fit.
 *
 * Lengths are checked with refinements, not JSON-schema keywords: strict OpenAI-compatible servers
 * refuse schemas with keywords they do not support (minLength/maxLength), and a refinement is
 * left out of the generated schema while still being enforced when the answer is parsed.
 */
const text = (max: number) => z.string().refine((s) => s.trim().length <= max, `at most ${max} characters`);
const filled = (max: number) => text(max).refine((s) => s.trim() !== "", "must not be empty");

const SlotReadingSchema = z.object({
  /** What the idea already says about this slot; "" when nothing. */
  says: text(300),
  /** What is still missing about this slot; "" when nothing is. */
  missing: text(300),
  /** The question to ask about this slot, written for this idea. */
  question: filled(200),
  /** 2–4 short answers a person would likely give for this idea. */
  answers: z.array(filled(60)).min(2).max(4),
});
export type SlotReading = z.infer<typeof SlotReadingSchema>;

const slotShape = Object.fromEntries(SLOTS.map((s) => [s, SlotReadingSchema])) as Record<
  Slot,
  typeof SlotReadingSchema
>;

export const UnderstandingSchema = z.object({
  idea_type: z.enum(["research", "creation", "analysis", "decision", "mixed"]),
  complexity: z.number().int().min(1).max(10),
  title: filled(80),
  topic: filled(80),
  slots: z.object(slotShape),
});
export type Understanding = z.infer<typeof UnderstandingSchema>;

/**
 * A zod schema as the JSON schema sent with a call (zod's own conversion; `$schema` dropped, some
 * servers choke on it). Converted once: the conversion cost as much CPU as the rest of the
 * analysis call's own work, on every idea. The result is frozen, since every call shares it.
 */
export function jsonSchemaOf(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _drop, ...json } = z.toJSONSchema(schema) as Record<string, unknown>;
  return deepFreeze(json);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

const UNDERSTANDING_FORMAT: ResponseFormat = Object.freeze({
  name: "idea_understanding",
  schema: jsonSchemaOf(UnderstandingSchema),
});

/** The response format of the analysis call. */
export function understandingFormat(): ResponseFormat {
  return UNDERSTANDING_FORMAT;
}

/** The model's answer, checked: the parsed understanding, or undefined when it is not valid JSON of this shape. */
export function parseUnderstanding(raw: string): Understanding | undefined {
  const body = raw
    .trim()
    .replace(/^```(?:json)?\s*/i, "")
    .replace(/\s*```$/, "");
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return undefined;
  }
  const parsed = UnderstandingSchema.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}

/** The instructions of the analysis call. */
export const UNDERSTANDING_PROMPT = `You help Hermes understand a person's vague idea before it drafts anything.
Answer with JSON only, matching the given schema:
- idea_type: research, creation, analysis, decision or mixed;
- complexity: 1 (trivial) to 10 (a large project);
- title: a short title for the idea (at most 8 words);
- topic: the idea's subject as a short noun phrase that fits in a question ("this birthday present for my sister");
- slots: for each of intent (the goal behind it), constraints (budget, time, limits), success (what a good result looks like), context (who it is for, the situation) and scope (how big, what is in and out):
  - says: what the idea already says about it ("" if nothing),
  - missing: what is still unknown about it ("" if nothing),
  - question: one short, friendly question about what is missing, written for this very idea,
  - answers: 2 to 4 short answers (at most 6 words each) this person would likely give for this idea.
Never invent facts about the person; ask instead.`;
