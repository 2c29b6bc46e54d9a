import { HermesError } from "../../errors.ts";
import { clarityScore } from "../../learning/clarity.ts";
import type { Slot } from "../../learning/quick-analysis.ts";
import type { ConversationContext } from "./context.ts";
import { planNext } from "./planning.ts";
import { type ConversationState, parseState, SLOT_LABELS } from "./records.ts";
import type { Assumption, CorrectionOutcome } from "./types.ts";

/**
 * What Hermes assumed from earlier conversations instead of asking, shown to the user with a
 * one-tap correction: the assumptions still in force on a thread, and "Change" — the slot is no
 * longer assumed (the refined draft does not use it), the pattern counts a correction, and the
 * slot is open to be asked.
 */

/** The assumptions in force on a thread (slots filled from a pattern, not replaced by an answer). */
export async function assumptionsOf(ctx: ConversationContext, threadId: number): Promise<Assumption[]> {
  const thread = await ctx.threads.thread(threadId);
  const state = thread ? parseState(thread.clarity_slots) : undefined;
  return state ? assumptionsIn(state) : [];
}

/** The assumptions in force in a conversation state. */
export function assumptionsIn(state: ConversationState): Assumption[] {
  const out: Assumption[] = [];
  for (const a of state.applied) {
    if (a.kind !== "pattern" || a.slot === undefined) continue;
    const s = state.slots[a.slot];
    if (s.source !== "pattern" || s.patternId !== a.id) continue;
    out.push({ slot: a.slot, label: SLOT_LABELS[a.slot], value: a.value, patternId: a.id });
  }
  return out;
}

/** The user tapped "Change" under an assumption. */
export function correctAssumption(
  ctx: ConversationContext,
  threadId: number,
  slot: Slot,
  _userId: string,
): Promise<CorrectionOutcome> {
  return ctx.locked(threadId, async () => {
    await ctx.ensureLoaded();
    const thread = await ctx.requireThread(threadId);
    const state = parseState(thread.clarity_slots);
    const s = state?.slots[slot];
    if (!state || s?.source !== "pattern" || s.patternId === undefined)
      throw new HermesError(
        "INVALID_INPUT",
        `Nothing is assumed about ${SLOT_LABELS[slot].toLowerCase()} here.`,
      );
    const now = ctx.iso();
    const pattern = await ctx.patternsRepo.byId(s.patternId);
    if (pattern) await ctx.patternLearner.correct(pattern, now, `changed by the user on thread ${threadId}`);
    // Back to what the idea's text said about the slot: the assumption no longer counts anywhere.
    state.slots = { ...state.slots, [slot]: { ...state.initial[slot] } };
    await ctx.threads.update(threadId, {
      claritySlots: JSON.stringify(state),
      finalClarity: clarityScore(state.slots),
      now,
    });
    if (state.stop)
      return {
        next: undefined,
        refinedJobId: undefined,
        questionsOver: true,
        clarity: clarityScore(state.slots),
      };
    const pending = await ctx.conversations.pending(threadId);
    if (pending)
      return {
        next: await ctx.view(pending, thread),
        refinedJobId: undefined,
        questionsOver: false,
        clarity: clarityScore(state.slots),
      };
    const planned = await planNext(ctx, thread, state, await ctx.draftOne(threadId), false, now);
    return {
      next: planned.question,
      refinedJobId: planned.refinedJobId,
      questionsOver: planned.question === undefined,
      clarity: clarityScore(state.slots),
    };
  });
}
