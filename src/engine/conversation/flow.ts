import type { Slot } from "../../learning/quick-analysis.ts";
import type { Job } from "../../store/jobs/types.ts";
import { answerQuestion } from "./answer.ts";
import { noteDraftAssumptions } from "./assumptions.ts";
import { ConversationContext, type ConversationFlowDeps } from "./context.ts";
import { feedback } from "./feedback.ts";
import {
  explain,
  listPatterns,
  type ModelExplanation,
  type OptimizeReport,
  type OptimizeResult,
  optimizeReport,
  optimizeThread,
  type PatternListing,
  patternsSummary,
  preferencesFor,
} from "./insights.ts";
import { assumptionsOf, correctAssumption } from "./learned-assumptions.ts";
import {
  closeConversation,
  openConversation,
  pendingQuestion,
  startConversation,
  whyNoQuestion,
} from "./start.ts";
import type {
  AnswerInput,
  AnswerOutcome,
  Assumption,
  ConversationPort,
  CorrectionOutcome,
  FeedbackInput,
  FeedbackOutcome,
  Opening,
  QuestionView,
  WithdrawOutcome,
} from "./types.ts";
import { withdrawAnswer } from "./withdraw.ts";

export type { ConversationFlowDeps } from "./context.ts";
export { resolvePromptVariables } from "./drafts.ts";
export type {
  ModelExplanation,
  OptimizeReport,
  OptimizeResult,
  PatternListing,
} from "./insights.ts";
export type { AppliedOptimization } from "./records.ts";

/**
 * The conversation around a draft: front-loaded questions while draft 1 runs, then draft 2.
 *
 * State lives in the database, so a restart between two questions continues where it was:
 * idea_threads.clarity_slots holds the conversation state (slots, topic, what was applied, why it
 * stopped), conversations holds every question asked and pre-filled, jobs holds the drafts.
 * The learned question model is rebuilt from those rows on first use and then kept current.
 * Nothing here waits on a model run: draft 2 is queued without a dependency on draft 1.
 *
 * This class is the one object the transports and the engine hold; the work is done beside it:
 * start.ts, answer.ts, feedback.ts (the ConversationPort), prefill.ts (patterns
 * and preferences applied), -planning.ts (the next question), -drafts.ts (draft 2, rewrites),
 * -insights.ts (meta-learning read-outs), -context.ts (shared state), -records.ts (stored JSON).
 */
export class ConversationFlow implements ConversationPort {
  private readonly ctx: ConversationContext;

  constructor(deps: ConversationFlowDeps) {
    this.ctx = new ConversationContext(deps);
  }

  // ConversationPort -----------------------------------------------------------------------------

  start(threadId: number, userId: string): Promise<QuestionView | undefined> {
    return startConversation(this.ctx, threadId, userId);
  }

  open(threadId: number, userId: string, draft1: Job): Promise<Opening> {
    return openConversation(this.ctx, threadId, userId, draft1);
  }

  whyNoQuestion(threadId: number): Promise<string | undefined> {
    return whyNoQuestion(this.ctx, threadId);
  }

  pending(threadId: number): Promise<QuestionView | undefined> {
    return pendingQuestion(this.ctx, threadId);
  }

  answer(threadId: number, questionId: number, input: AnswerInput, userId: string): Promise<AnswerOutcome> {
    return answerQuestion(this.ctx, threadId, questionId, input, userId);
  }

  feedback(threadId: number, jobId: number, input: FeedbackInput, userId: string): Promise<FeedbackOutcome> {
    return feedback(this.ctx, threadId, jobId, input, userId);
  }

  withdraw(threadId: number, questionId: number): Promise<WithdrawOutcome> {
    return withdrawAnswer(this.ctx, threadId, questionId);
  }

  close(threadId: number, reason: string): Promise<boolean> {
    return closeConversation(this.ctx, threadId, reason);
  }

  /** Draft 1 is ready: its risky assumptions become one-tap confirmations; how many were kept. */
  noteDraftAssumptions(
    threadId: number,
    draftText: string,
    draft1?: Pick<Job, "requested_backend">,
  ): Promise<number> {
    return noteDraftAssumptions(this.ctx, threadId, draftText, draft1);
  }

  assumptions(threadId: number): Promise<Assumption[]> {
    return assumptionsOf(this.ctx, threadId);
  }

  correctAssumption(threadId: number, slot: Slot, userId: string): Promise<CorrectionOutcome> {
    return correctAssumption(this.ctx, threadId, slot, userId);
  }

  /** After /forget deleted a user's rows: nothing learned from them stays in memory. */
  forgetInMemory(): void {
    this.ctx.forgetInMemory();
  }

  // Meta-learning API ----------------------------------------------------------------------------

  /** Applies what is known about the user (patterns, preferences) to a thread; says what it applied. */
  optimizeThread(threadId: number): Promise<OptimizeResult> {
    return optimizeThread(this.ctx, threadId);
  }

  /** Learned patterns with their confidence and success rate (GET /api/learn/patterns, /patterns). */
  listPatterns(): Promise<PatternListing[]> {
    return listPatterns(this.ctx);
  }

  /**
   * optimizeThread in the shape of the HTTP API's LearningPort (src/http/deps.ts):
   * what was applied, and the expected improvements as sentences.
   */
  optimize(threadId: number, _userId: string): Promise<OptimizeReport> {
    return optimizeReport(this.ctx, threadId);
  }

  /** A few readable lines about the strongest patterns (the engine's InsightsPort, for /patterns). */
  patternsSummary(userId?: string): Promise<string | undefined> {
    return patternsSummary(this.ctx, userId);
  }

  /**
   * What the question model believes for an idea type (and user): per slot the mean gain and its
   * uncertainty, per template the answer rate and seconds. For the API, /patterns and benchmarks.
   */
  explain(ideaType: string, userId: string | null = null): Promise<ModelExplanation> {
    return explain(this.ctx, ideaType, userId);
  }

  /** The `preferences` text for a user's prompts (e.g. for draft 1), "(none known yet)" when none. */
  preferencesFor(userId: string): Promise<string> {
    return preferencesFor(this.ctx, userId);
  }
}
