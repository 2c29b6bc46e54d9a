import type { SlotAnswer } from "../../learning/clarity.ts";
import type { Job } from "../../store/jobs/types.ts";
import { type Assumption, CONFIRM_NO, CONFIRM_YES, confirmationText } from "../understanding/assumptions.ts";
import type { ConversationContext } from "./context.ts";
import { type ConversationState, parseState, type QuestionPlan } from "./records.ts";

/**
 * Draft 1's assumptions as one-tap confirmations (src/engine/understanding/assumptions.ts reads
 * them): kept in the conversation state when draft 1 arrives, asked when the learner next picks
 * their slot, and read back when the user taps Yes or No.
 */

/** Only assumptions at least this risky are worth a tap to confirm. */
const MIN_RISK = 0.25;

/**
 * Draft 1 is ready: reads its assumptions (model call outside the thread's lock) and keeps the
 * risky ones. `draft1`: the finished job, when the caller has it (else read from the thread's jobs).
 */
export async function noteDraftAssumptions(
  ctx: ConversationContext,
  threadId: number,
  draftText: string,
  draft1?: Pick<Job, "requested_backend">,
): Promise<number> {
  if (!ctx.readAssumptions) return 0;
  let thread = await ctx.threads.thread(threadId);
  // Draft 1 can finish while its first question is still being planned (start.ts holds the
  // thread's lock while the analysis runs, up to its deadline): then the state is not saved yet.
  // Wait for that planning to end rather than lose the assumptions.
  if (thread && !parseState(thread.clarity_slots))
    thread = await ctx.locked(threadId, () => ctx.threads.thread(threadId));
  const before = thread ? parseState(thread.clarity_slots) : undefined;
  if (!thread || !before || before.stop) return 0;
  const draft = draft1 ?? (await ctx.draftOne(threadId));
  const found = await ctx.readAssumptions({
    idea: thread.original_request,
    draft: draftText,
    threadId,
    localOnly: draft?.requested_backend === "@local", // a guest's idea stays on local backends
  });
  if (!found?.length) return 0;
  return ctx.locked(threadId, async () => {
    const fresh = await ctx.threads.thread(threadId);
    const state = fresh ? parseState(fresh.clarity_slots) : undefined;
    if (!state || state.stop) return 0;
    const kept = found.filter((a) => a.risk >= MIN_RISK && state.slots[a.slot].source !== "answer");
    state.assumptions = kept;
    await ctx.threads.update(threadId, { claritySlots: JSON.stringify(state), now: ctx.iso() });
    return kept.length;
  });
}

/** The confirmation to ask for the learner's chosen slot, marked asked; none when there is none left. */
export function takeConfirmation(state: ConversationState, slot: Assumption["slot"]) {
  const a = state.assumptions?.find((x) => x.slot === slot && !x.asked);
  if (!a) return undefined;
  a.asked = true;
  return { text: confirmationText(a), suggestions: [CONFIRM_YES, CONFIRM_NO], assumption: a.text };
}

/**
 * A tap on a confirmation: Yes is the assumption itself as the answer (what the slot now holds and
 * what is learned); No leaves the slot open, recorded as "No" beside the question for the refined draft.
 */
export function confirmationAnswer(
  plan: QuestionPlan,
  tapped: string,
): { answer: SlotAnswer; text: string; kind: "suggestion" | "unknown" } | undefined {
  if (plan.assumption === undefined) return undefined;
  if (tapped === CONFIRM_YES)
    return {
      answer: { kind: "suggestion", text: plan.assumption },
      text: plan.assumption,
      kind: "suggestion",
    };
  if (tapped === CONFIRM_NO) return { answer: { kind: "unknown" }, text: CONFIRM_NO, kind: "unknown" };
  return undefined;
}
