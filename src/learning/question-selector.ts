import type { QuestionTemplate } from "../store/learning/templates-repo.ts";
import { type ClaritySlots, openSlots } from "./clarity.ts";
import type { QuestionModel } from "./question-model.ts";
import { ANSWER_CONFIDENCE, BASE_CONFIDENCE, SLOT_WEIGHTS, SLOTS, type Slot } from "./quick-analysis.ts";
import type { Random } from "./random.ts";

/**
 * The SmartQuestionGenerator of the spec: which question to ask next, if any.
 *
 * value = estimated improvement ÷ time cost, where
 *   improvement = P(usable answer) × gain(slot) × openness(slot)
 *   time cost   = expected seconds to answer (template × idea type, scaled to the user's speed,
 *                 less when the offered answers likely hold theirs: a tap instead of typing)
 * and openness is how much of the slot is still unknown (1 for nothing known, 0 when clear).
 * Only slots that are not clear and not asked yet are candidates. The learning policy draws every
 * uncertain quantity from its posterior (Thompson sampling, seeded random), so a question that might
 * be better than believed still gets tried now and then; the draw also decides whether any question
 * is worth the user's time (value ≥ VALUE_FLOOR).
 *
 * Policies:
 * - learning: the above with learned posteriors (production when hermes.learning.enabled);
 * - fixed: intent, constraints, success, context, scope in that order, no learning (learning disabled);
 * - static: the same value formula with the priors only (seeded answer seconds, clarity weights);
 * - random: a random open slot and template, stopping after each answer with probability 1/3;
 * - none: never asks.
 */
export type QuestionPolicy = "learning" | "fixed" | "static" | "random" | "none";

/**
 * Improvement per second below which a question is not worth asking: one point of draft quality
 * (on a 0–100 scale) per second of the user's time.
 */
export const VALUE_FLOOR = 0.01;

/** Bonus on the prior of a template whose keywords appear in the idea. */
const KEYWORD_BONUS = 1.1;
const FIXED_ORDER: readonly Slot[] = SLOTS;

export interface Candidate {
  template: QuestionTemplate;
  slot: Slot;
  /** Improvement per second (NaN for policies that do not value questions). */
  value: number;
  improvement: number;
  seconds: number;
  answerRate: number;
  /** 0–1: how sure we are this question is worth asking (0.5 at the floor). */
  confidence: number;
}

export interface SelectionContext {
  slots: ClaritySlots;
  ideaType: string;
  /** The kind of idea the model learns per (quick-analysis ideaKind); default the idea type. */
  kind?: string | undefined;
  userId: string | null;
  idea: string;
  /** Questions already asked in this thread. */
  asked: number;
  templates: readonly QuestionTemplate[];
  /**
   * Chance that the answers this template's question would offer hold the user's answer (a tap
   * instead of typing); 0 when unknown.
   */
  hitChance?: ((slot: Slot, template: QuestionTemplate) => number) | undefined;
}

export interface Selection {
  best: Candidate | undefined;
  /** The floor the best value is held to; undefined when the policy does not value questions. */
  floor: number | undefined;
  /** Set when the policy itself decided to stop (random stop, "none"). */
  stop?: string | undefined;
}

export class SmartQuestionGenerator {
  private readonly model: QuestionModel;
  private readonly random: Random;

  private readonly floor: number;

  constructor(model: QuestionModel, random: Random, floor = VALUE_FLOOR) {
    this.model = model;
    this.random = random;
    this.floor = floor;
  }

  /** "fallback": the fixed order standing in for a kind's learned one (see fallback()). */
  select(ctx: SelectionContext, policy: QuestionPolicy | "fallback"): Selection {
    switch (policy) {
      case "fallback":
        return { best: this.fallback(ctx), floor: undefined };
      case "none":
        return { best: undefined, floor: undefined, stop: "nothing worth asking" };
      case "fixed":
        return { best: this.fixed(ctx), floor: undefined };
      case "random":
        return this.randomPick(ctx);
      case "static":
        return { best: this.ranked(ctx, false)[0], floor: this.floor };
      case "learning":
        return { best: this.ranked(ctx, true)[0], floor: this.floor };
    }
  }

  /** Every candidate with its value, best first (learning: one posterior draw; static: priors). */
  ranked(ctx: SelectionContext, learned: boolean): Candidate[] {
    const open = openSlots(ctx.slots);
    if (open.length === 0) return [];
    const kind = ctx.kind ?? ctx.ideaType;
    const gains = learned
      ? this.model.gains(kind, ctx.userId, this.random)
      : ({ ...SLOT_WEIGHTS } as Record<Slot, number>);
    const meanGains = learned ? this.model.gains(kind, ctx.userId) : gains;
    const out: Candidate[] = [];
    for (const slot of open) {
      const openness = opennessOf(ctx.slots, slot);
      for (const template of templatesFor(ctx.templates, slot, ctx.ideaType)) {
        const bonus = matchesKeywords(template, ctx.idea) ? KEYWORD_BONUS : 1;
        let answerRate = 0.8;
        let seconds = template.expectedSeconds;
        let meanImprovement = answerRate * SLOT_WEIGHTS[slot] * openness;
        if (learned) {
          const beta = this.model.answerBeta(template.id, slot, kind, ctx.userId);
          answerRate = this.model.sampleAnswerRate(this.random, beta);
          seconds = this.model.seconds(
            template.id,
            slot,
            kind,
            ctx.userId,
            template.expectedSeconds,
            ctx.hitChance?.(slot, template) ?? 0,
          );
          meanImprovement = (beta[0] / (beta[0] + beta[1])) * Math.max(0, meanGains[slot]) * openness;
        }
        const improvement = answerRate * Math.max(0, gains[slot]) * openness * bonus;
        const value = improvement / Math.max(1, seconds);
        const floorCost = this.floor * Math.max(1, seconds);
        out.push({
          template,
          slot,
          value,
          improvement,
          seconds,
          answerRate,
          confidence: round3(meanImprovement / (meanImprovement + floorCost || 1)),
        });
      }
    }
    return out.sort((a, b) => b.value - a.value || a.template.id - b.template.id);
  }

  /**
   * The fixed order standing in for a kind's learned one (order-arms.ts): the slot the fixed order
   * asks next, in the wording most often answered for this kind (a posterior draw of each wording's
   * answer rate): the order is what lost, and a better answered question finds more of what the
   * fixed order asks for.
   */
  fallback(ctx: SelectionContext): Candidate | undefined {
    const open = openSlots(ctx.slots);
    const ranked = this.ranked(ctx, true);
    // As fixed() does: a slot without a wording is passed over for the next one in the order.
    for (const slot of FIXED_ORDER) {
      if (!open.includes(slot)) continue;
      const mine = ranked.filter((c) => c.slot === slot);
      const best = mine.sort((a, b) => b.answerRate - a.answerRate || a.template.id - b.template.id)[0];
      if (best) return best;
    }
    return undefined;
  }

  private fixed(ctx: SelectionContext): Candidate | undefined {
    const open = openSlots(ctx.slots);
    for (const slot of FIXED_ORDER) {
      if (!open.includes(slot)) continue;
      const template = templatesFor(ctx.templates, slot, ctx.ideaType)[0];
      if (template) return plain(template, slot);
    }
    return undefined;
  }

  private randomPick(ctx: SelectionContext): Selection {
    if (ctx.asked > 0 && this.random() < 1 / 3)
      return { best: undefined, floor: undefined, stop: "random stop" };
    const open = openSlots(ctx.slots);
    const options = open.flatMap((slot) =>
      templatesFor(ctx.templates, slot, ctx.ideaType).map((template) => ({ slot, template })),
    );
    if (options.length === 0) return { best: undefined, floor: undefined };
    const slot = open[Math.floor(this.random() * open.length)] as Slot;
    const forSlot = options.filter((o) => o.slot === slot);
    const pick = forSlot[Math.floor(this.random() * forSlot.length)] ?? options[0];
    return { best: pick ? plain(pick.template, pick.slot) : undefined, floor: undefined };
  }
}

/** Active templates of a slot that apply to the idea type (any of the slot when none does), by id. */
export function templatesFor(
  templates: readonly QuestionTemplate[],
  slot: Slot,
  ideaType: string,
): QuestionTemplate[] {
  const ofSlot = templates.filter((t) => t.active && t.category === slot);
  const applicable = ofSlot.filter((t) => t.types.length === 0 || t.types.includes(ideaType));
  return (applicable.length > 0 ? applicable : ofSlot).sort((a, b) => a.id - b.id);
}

/**
 * How much a question about the slot can still add, 0–1: the unknown share of the slot; for a slot
 * assumed from a pattern, the chance the assumption is wrong (asking then replaces it).
 */
export function opennessOf(slots: ClaritySlots, slot: Slot): number {
  const state = slots[slot];
  const open =
    state.source === "pattern"
      ? 1 - state.confidence
      : (ANSWER_CONFIDENCE - state.confidence) / (ANSWER_CONFIDENCE - BASE_CONFIDENCE);
  return Math.max(0, Math.min(1, open));
}

function matchesKeywords(template: QuestionTemplate, idea: string): boolean {
  if (template.keywords.length === 0) return false;
  const words = new Set(idea.toLowerCase().match(/[a-z']+/g) ?? []);
  return template.keywords.some((k) => words.has(k.toLowerCase()));
}

function plain(template: QuestionTemplate, slot: Slot): Candidate {
  return {
    template,
    slot,
    value: Number.NaN,
    improvement: Number.NaN,
    seconds: template.expectedSeconds,
    answerRate: Number.NaN,
    confidence: 0.5,
  };
}

const round3 = (n: number) => Math.round(n * 1000) / 1000;
