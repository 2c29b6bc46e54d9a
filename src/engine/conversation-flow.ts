import type { Kysely } from "kysely";
import type { Clock } from "../clock.ts";
import type { SystemConfig } from "../config/system-config.ts";
import { HermesError } from "../errors.ts";
import { rateBackendOutcome } from "../learning/backend-scores.ts";
import {
  applyAnswer,
  applyPattern,
  type ClaritySlots,
  clarityScore,
  initialSlots,
  isDontKnow,
  type SlotAnswer,
  slotProgress,
} from "../learning/clarity.ts";
import { decideNext, STOP_REASONS } from "../learning/conversation-state.ts";
import {
  type AnswerKind,
  analyzeEffectiveness,
  creditOutcome,
  predictionAccuracy,
  sameAnswer,
} from "../learning/effectiveness.ts";
import { PatternLearner } from "../learning/patterns.ts";
import { inferFromAnswer, PreferenceLearner, preferenceList, threadStyle } from "../learning/preferences.ts";
import { QuestionModel } from "../learning/question-model.ts";
import { type QuestionPolicy, SmartQuestionGenerator, templatesFor } from "../learning/question-selector.ts";
import { quickAnalyze, SLOTS, type Slot } from "../learning/quick-analysis.ts";
import { SuggestionLearner } from "../learning/suggestions.ts";
import { extractTopic } from "../learning/topic.ts";
import type { JobQueue } from "../queue/job-queue.ts";
import { ConversationsRepo, ENOUGH, type ResponseType, SKIPPED } from "../store/conversations-repo.ts";
import type { QueueJob } from "../store/jobs-repo.ts";
import { PatternsRepo } from "../store/patterns-repo.ts";
import { PreferencesRepo } from "../store/preferences-repo.ts";
import type { ConversationRow, Database } from "../store/schema.ts";
import { type QuestionTemplate, TemplatesRepo } from "../store/templates-repo.ts";
import { type DraftJob, type LearningThread, ThreadLearningRepo } from "../store/thread-learning-repo.ts";
import type {
  AnswerInput,
  AnswerOutcome,
  ConversationPort,
  FeedbackInput,
  FeedbackOutcome,
  QuestionView,
} from "./conversation-types.ts";
import type { PromptLibrary } from "./prompts.ts";

/**
 * The conversation around a draft: front-loaded questions while draft 1 runs, then draft 2.
 *
 * State lives in the database, so a restart between two questions continues where it was:
 * idea_threads.clarity_slots holds the conversation state (slots, topic, what was applied, why it
 * stopped), conversations holds every question asked and pre-filled, jobs holds the drafts.
 * The learned question model is rebuilt from those rows on first use and then kept current.
 * Nothing here waits on a model run: draft 2 is queued without a dependency on draft 1.
 */
export interface ConversationFlowDeps {
  db: Kysely<Database>;
  queue: JobQueue;
  config: SystemConfig;
  clock: Clock;
  random: () => number;
  prompts: PromptLibrary;
  /**
   * Forces a question policy (benchmarks, experiments). Production leaves it unset: "learning",
   * or "fixed" when hermes.learning.enabled is false.
   */
  policy?: QuestionPolicy;
  /**
   * Per-user learning: the user's own answer rate, speed and gain once they have enough
   * observations, and their patterns (pre-filled slots). Default true; false = population only.
   */
  perUser?: boolean;
  /** Observations a user needs before their own estimates are used. Default 3. */
  minUserObservations?: number;
  /** Improvement per second below which no question is asked (default VALUE_FLOOR). */
  valueFloor?: number;
  /** Called after a rating changed backend scores (e.g. BackendScoresCache.refresh). */
  onBackendScores?: () => void | Promise<void>;
}

export interface AppliedOptimization {
  kind: "pattern" | "preference";
  id: number;
  name: string;
  slot?: Slot | undefined;
  value: string;
  confidence: number;
  at: string;
  /** Patterns: the seconds of the user's time the skipped question would have taken. */
  secondsSaved?: number | undefined;
}

export interface OptimizeResult {
  applied: AppliedOptimization[];
  expected_improvements: {
    clarity_before: number;
    clarity_after: number;
    questions_skipped: number;
    seconds_saved: number;
    preferences_applied: number;
  };
}

export interface PatternListing {
  id: number;
  name: string;
  description: string | null;
  category: string;
  trigger: { user_id: string; idea_type: string | null; slot: string };
  value: string;
  confidence: number;
  success_rate: number;
  validations: number;
  successes: number;
  applied: number;
  corrections: number;
  time_saved_seconds: number;
  active: boolean;
  last_applied: string | null;
}

/** Everything the flow keeps about one thread's conversation (idea_threads.clarity_slots JSON). */
interface ConversationState {
  v: 1;
  topic: string;
  ideaType: string;
  userId: string | null;
  policy: QuestionPolicy;
  initial: ClaritySlots;
  slots: ClaritySlots;
  asked: number;
  seconds: number;
  /** Slots whose pattern is being validated by asking (pattern id). */
  validating: Partial<Record<Slot, number>>;
  applied: AppliedOptimization[];
  stop?: { reason: string; at: string; refinedJobId: number | null; progress: Record<Slot, number> };
  outcomeObserved?: boolean;
}

/** The plan stored with each question (conversations.optimization_suggested). */
interface QuestionPlan {
  suggestions: string[];
  /** The suggestions began with the user's likely answer (assumed or habitual). */
  assisted?: boolean;
  predicted_improvement?: number;
  predicted_seconds?: number;
  value?: number;
  policy?: string;
  quality_improvement?: number;
  satisfaction_improvement?: number;
}

const ADJUST_INSTRUCTIONS = {
  shorter:
    "Make it noticeably shorter — about half the length: keep the essentials and the next steps, cut the rest.",
  more_detail:
    "Add more detail: expand the important points with specifics, examples and concrete next steps, keeping the structure.",
} as const;

const SLOT_LABELS: Record<Slot, string> = {
  intent: "Goal",
  constraints: "Constraints",
  success: "Success looks like",
  context: "Context",
  scope: "Scope",
};

const PREFERENCE_TEXT =
  /\b(i prefer|i'd rather|i would rather|rather than|please keep|keep it|shorter|longer|more detail|less detail)\b/i;

export class ConversationFlow implements ConversationPort {
  private readonly d: ConversationFlowDeps;
  private readonly conversations: ConversationsRepo;
  private readonly templatesRepo: TemplatesRepo;
  private readonly threads: ThreadLearningRepo;
  private readonly patternLearner: PatternLearner;
  private readonly patternsRepo: PatternsRepo;
  private readonly preferences: PreferenceLearner;
  private readonly model: QuestionModel;
  private readonly generator: SmartQuestionGenerator;
  private readonly locks = new Map<number, Promise<unknown>>();
  private loaded: Promise<void> | undefined;
  private templates: QuestionTemplate[] = [];
  private readonly observedOutcomes = new Set<number>();
  private readonly suggestionLearner = new SuggestionLearner();

  constructor(deps: ConversationFlowDeps) {
    this.d = deps;
    this.conversations = new ConversationsRepo(deps.db);
    this.templatesRepo = new TemplatesRepo(deps.db);
    this.threads = new ThreadLearningRepo(deps.db);
    this.patternsRepo = new PatternsRepo(deps.db);
    this.patternLearner = new PatternLearner(this.patternsRepo, this.conversations);
    this.preferences = new PreferenceLearner(new PreferencesRepo(deps.db));
    this.model = new QuestionModel({
      perUser: deps.perUser ?? true,
      minUserObservations: deps.minUserObservations ?? 3,
    });
    this.generator = new SmartQuestionGenerator(this.model, deps.random, deps.valueFloor);
  }

  // ConversationPort -----------------------------------------------------------------------------

  start(threadId: number, userId: string): Promise<QuestionView | undefined> {
    return this.locked(threadId, async () => {
      await this.ensureLoaded();
      const thread = await this.requireThread(threadId);
      const existing = parseState(thread.clarity_slots);
      if (existing) {
        const waiting = await this.conversations.pending(threadId);
        if (waiting || existing.stop) return this.view(waiting, thread);
        // Stopped between saving the state and asking (a crash, a full queue): plan again.
        return (await this.planNext(thread, existing, await this.draftOne(threadId), false, this.iso()))
          .question;
      }
      const now = this.iso();
      const policy = this.policy();
      const idea = thread.original_request;
      const ideaType = thread.idea_type ?? quickAnalyze(idea).ideaType;
      const owner = thread.user_id ?? userId;
      const slots = initialSlots(idea);
      const state: ConversationState = {
        v: 1,
        topic: extractTopic(idea),
        ideaType,
        userId: owner,
        policy,
        initial: slots,
        slots,
        asked: 0,
        seconds: 0,
        validating: {},
        applied: [],
      };
      const draft1 = await this.draftOne(threadId);
      if (policy === "learning") await this.applyLearning(thread, state, draft1, now);
      await this.threads.update(threadId, {
        claritySlots: JSON.stringify(state),
        initialClarity: clarityScore(state.initial),
        finalClarity: clarityScore(state.slots),
        now,
      });
      const next = await this.planNext(thread, state, draft1, false, now);
      return next.question;
    });
  }

  async pending(threadId: number): Promise<QuestionView | undefined> {
    const thread = await this.threads.thread(threadId);
    if (!thread) return undefined;
    const state = parseState(thread.clarity_slots);
    if (!state || state.stop) return undefined;
    return this.view(await this.conversations.pending(threadId), thread);
  }

  answer(threadId: number, questionId: number, input: AnswerInput, userId: string): Promise<AnswerOutcome> {
    return this.locked(threadId, async () => {
      await this.ensureLoaded();
      const thread = await this.requireThread(threadId);
      const state = parseState(thread.clarity_slots);
      if (!state)
        throw new HermesError("INVALID_INPUT", "No question is waiting for this idea.", {
          userAction: "Send the idea again to start over.",
        });
      if (state.stop) {
        return {
          clarity: clarityScore(state.slots),
          next: undefined,
          refinedJobId: undefined,
          stopReason: STOP_REASONS.alreadyStopped,
        };
      }
      const row = await this.conversations.byId(questionId);
      if (!row || row.thread_id !== threadId || row.conversation_position === null)
        throw new HermesError("NOT_FOUND", "That question is not part of this idea.");
      if (row.responded_date !== null) {
        // Answered already (a double tap): nothing to record; show what is waiting now.
        return {
          clarity: clarityScore(state.slots),
          next: await this.view(await this.conversations.pending(threadId), thread),
          refinedJobId: undefined,
          stopReason: undefined,
        };
      }
      const now = this.iso();
      const plan = parsePlan(row.optimization_suggested);
      const slot = asSlot(row.question_type);
      const seconds = Math.max(0, (this.d.clock.now() - Date.parse(row.asked_date)) / 1000);
      const draft1 = await this.draftOne(threadId);
      state.seconds += seconds;

      if (input.kind === "enough") {
        await this.conversations.respond(row.id, {
          response: ENOUGH,
          responseType: "preference",
          respondedDate: now,
          seconds,
          clarityImprovement: 0,
          efficiency: 0,
          predictionAccuracy: 0,
        });
        const next = await this.planNext(thread, state, draft1, true, now);
        return {
          clarity: clarityScore(state.slots),
          next: undefined,
          refinedJobId: next.refinedJobId,
          stopReason: next.stopReason,
        };
      }

      const { answer, text, kind } = this.readAnswer(input, plan);
      const before = clarityScore(state.slots);
      const effect = applyAnswer(state.slots, slot, answer);
      state.slots = effect.slots;
      const after = clarityScore(state.slots);
      const owner = state.userId ?? userId;
      const learning = state.policy === "learning";

      // Patterns: every substantive answer validates (or corrects) what we would have assumed.
      let responseType: ResponseType =
        kind === "unknown"
          ? "clarification"
          : kind === "text" && PREFERENCE_TEXT.test(text)
            ? "preference"
            : "direct_answer";
      let patternValue: string | null = null;
      if (learning && kind !== "unknown" && (this.d.perUser ?? true)) {
        const check = await this.patternLearner.observeAnswer(
          owner,
          state.ideaType,
          slot,
          text,
          this.d.config.number("hermes.learning.confidence_threshold"),
          now,
        );
        const asked = row.pattern_matched === null ? undefined : Number.parseInt(row.pattern_matched, 10);
        if (check.pattern && (check.correction || asked === check.pattern.id)) {
          patternValue = check.pattern.value;
          if (!sameAnswer(text, check.pattern.value)) responseType = "correction";
        }
      }
      const eff = analyzeEffectiveness({ clarity: before }, { clarity: after }, seconds);
      const recorded = await this.conversations.respond(row.id, {
        response: kind === "unknown" && text === "" ? SKIPPED : text,
        responseType,
        respondedDate: now,
        seconds,
        clarityImprovement: eff.clarity_improvement,
        efficiency: eff.efficiency_score,
        predictionAccuracy: predictionAccuracy(kind, text, plan.suggestions, patternValue),
      });
      if (!recorded) {
        return {
          clarity: before,
          next: await this.view(await this.conversations.pending(threadId), thread),
          refinedJobId: undefined,
          stopReason: undefined,
        };
      }
      const template =
        row.question_template_id === null ? undefined : this.templateById(row.question_template_id);
      this.model.observeQuestion({
        templateId: row.question_template_id,
        slot,
        ideaType: state.ideaType,
        userId: owner,
        answered: kind !== "unknown",
        seconds,
        expectedSeconds: template?.expectedSeconds ?? 8,
        assisted: plan.assisted === true,
      });
      if (row.question_template_id !== null)
        await this.templatesRepo.refreshStats(row.question_template_id, now, row.question_type);
      if (kind !== "unknown") this.suggestionLearner.observe(state.ideaType, slot, text, owner);
      if (learning && kind !== "unknown") {
        for (const signal of inferFromAnswer(slot, text))
          await this.preferences.observe(owner, { ...signal, learnedFrom: row.id }, now);
      }
      // The answer is in: keep the state with it even if planning the next step fails.
      await this.threads.update(threadId, { claritySlots: JSON.stringify(state), finalClarity: after, now });
      const next = await this.planNext(thread, state, draft1, false, now);
      return {
        clarity: after,
        next: next.question,
        refinedJobId: next.refinedJobId,
        stopReason: next.stopReason,
      };
    });
  }

  feedback(threadId: number, jobId: number, input: FeedbackInput, userId: string): Promise<FeedbackOutcome> {
    return this.locked(threadId, async () => {
      await this.ensureLoaded();
      const thread = await this.requireThread(threadId);
      const job = await this.threads.job(jobId);
      if (!job || job.thread_id !== threadId)
        throw new HermesError("NOT_FOUND", "That draft is not part of this idea.");
      const state = parseState(thread.clarity_slots);
      const owner = thread.user_id ?? userId;
      const learning = (state?.policy ?? this.policy()) === "learning";
      const now = this.iso();

      if ("rating" in input) {
        const rating = input.rating;
        if (!Number.isInteger(rating) || rating < 1 || rating > 5)
          throw new HermesError("INVALID_INPUT", "A rating is a whole number from 1 to 5.");
        await this.threads.setJobFeedback(jobId, rating);
        // The thread's satisfaction is the rating of its latest rated draft.
        const latest = (await this.threads.jobs(threadId))
          .filter((j) => j.user_feedback !== null)
          .sort((x, y) => y.job_sequence - x.job_sequence || y.id - x.id)[0];
        await this.threads.update(threadId, { userSatisfaction: latest?.user_feedback ?? rating, now });
        if (job.job_sequence >= 2) await this.conversations.setThreadSatisfaction(threadId, rating);
        if (job.backend_used) {
          await rateBackendOutcome(this.d.db, { jobId, rating, nowIso: now });
          await this.d.onBackendScores?.();
        }
        if (learning && job.job_subtype !== "draft") {
          const applied = (state?.applied ?? []).filter((a) => a.kind === "preference").map((a) => a.id);
          await this.preferences.fromRating(owner, applied, rating, now);
        }
        const gain = state ? await this.learnOutcome(thread, state, now) : undefined;
        let learned = "Thanks — noted.";
        if (gain !== undefined) {
          learned =
            gain > 0
              ? "Noted: your answers made the refined draft better — I'll keep asking questions like these."
              : gain < 0
                ? "Noted: the questions did not help this time — I'll ask fewer like them."
                : "Noted: the refined draft was no better than the first — I'll weigh those questions less.";
        }
        return { recorded: true, followUpJobId: undefined, learned };
      }

      const adjust = input.adjust;
      if (adjust !== "shorter" && adjust !== "more_detail")
        throw new HermesError("INVALID_INPUT", "Feedback is a rating from 1 to 5, or shorter / more detail.");
      if (learning) {
        await this.preferences.observe(
          owner,
          {
            category: "depth",
            key: "length",
            value: adjust === "shorter" ? "concise" : "detailed",
            source: "explicit_user_feedback",
            learnedFrom: null,
          },
          now,
        );
      }
      const learned = adjust === "shorter" ? "I'll keep answers shorter." : "I'll go into more detail.";
      if (job.status === "failed" || job.status === "cancelled") {
        return {
          recorded: true,
          followUpJobId: undefined,
          learned: `${learned} (That draft did not finish, so there is nothing to rewrite.)`,
        };
      }
      this.d.prompts.template("rewrite");
      const finished = job.status === "completed" && job.full_result !== null;
      const sequences = (await this.threads.jobs(threadId)).map((j) => j.job_sequence);
      const rewrite = this.d.queue.enqueue({
        threadId,
        parentJobId: job.id,
        jobSequence: Math.max(0, ...sequences) + 1,
        jobType: job.job_type,
        jobSubtype: "rewrite",
        priority: thread.priority,
        promptTemplate: "rewrite",
        // An unfinished draft is rewritten when it finishes (resolvePromptVariables fills `draft`).
        promptVariables: {
          draft: finished ? (job.full_result ?? "") : "",
          instruction: ADJUST_INSTRUCTIONS[adjust],
          draft_job_id: job.id,
        },
        dependencies: finished ? [] : [job.id],
        userId: owner,
      });
      return { recorded: true, followUpJobId: rewrite.id, learned };
    });
  }

  // Meta-learning API ----------------------------------------------------------------------------

  /** Applies what is known about the user (patterns, preferences) to a thread; says what it applied. */
  optimizeThread(threadId: number): Promise<OptimizeResult> {
    return this.locked(threadId, async () => {
      await this.ensureLoaded();
      const thread = await this.requireThread(threadId);
      const now = this.iso();
      let state = parseState(thread.clarity_slots);
      if (!state) {
        const slots = initialSlots(thread.original_request);
        state = {
          v: 1,
          topic: extractTopic(thread.original_request),
          ideaType: thread.idea_type ?? quickAnalyze(thread.original_request).ideaType,
          userId: thread.user_id,
          policy: this.policy(),
          initial: slots,
          slots,
          asked: 0,
          seconds: 0,
          validating: {},
          applied: [],
        };
      }
      const before = clarityScore(state.slots);
      if (!state.stop && state.policy === "learning")
        await this.applyLearning(thread, state, await this.draftOne(threadId), now, false);
      await this.threads.update(threadId, {
        claritySlots: JSON.stringify(state),
        finalClarity: clarityScore(state.slots),
        now,
      });
      const patternsApplied = state.applied.filter((a) => a.kind === "pattern");
      const secondsSaved = patternsApplied.reduce((s, a) => s + (a.secondsSaved ?? 0), 0);
      return {
        applied: state.applied,
        expected_improvements: {
          clarity_before: clarityScore(state.initial),
          clarity_after: Math.max(before, clarityScore(state.slots)),
          questions_skipped: patternsApplied.length,
          seconds_saved: Math.round(secondsSaved * 10) / 10,
          preferences_applied: state.applied.filter((a) => a.kind === "preference").length,
        },
      };
    });
  }

  /** Learned patterns with their confidence and success rate (GET /api/learn/patterns, /patterns). */
  async listPatterns(): Promise<PatternListing[]> {
    const threshold = this.d.config.number("hermes.learning.confidence_threshold");
    return (await this.patternsRepo.all()).map((p) => ({
      id: p.id,
      name: p.name,
      description: p.description,
      category: p.category,
      trigger: { user_id: p.userId, idea_type: p.ideaType, slot: p.slot },
      value: p.value,
      confidence: p.confidence,
      success_rate:
        p.validationCount === 0 ? 0 : Math.round((p.successCount / p.validationCount) * 1000) / 1000,
      validations: p.validationCount,
      successes: p.successCount,
      applied: p.evolution.applied,
      corrections: p.evolution.corrections,
      time_saved_seconds: p.timeSavedEstimate,
      active: p.confidence >= threshold,
      last_applied: p.lastApplied,
    }));
  }

  /**
   * optimizeThread in the shape of the HTTP API's LearningPort (src/http/deps.ts):
   * what was applied, and the expected improvements as sentences.
   */
  async optimize(
    threadId: number,
    _userId: string,
  ): Promise<{
    applied: { id: number; name: string; description: string }[];
    expectedImprovements: string[];
    message: string;
  }> {
    const r = await this.optimizeThread(threadId);
    const e = r.expected_improvements;
    const improvements = [
      `clarity ${e.clarity_before.toFixed(2)} → ${e.clarity_after.toFixed(2)}`,
      ...(e.questions_skipped > 0
        ? [`${e.questions_skipped} question(s) skipped, about ${e.seconds_saved} s of your time saved`]
        : []),
      ...(e.preferences_applied > 0
        ? [`${e.preferences_applied} preference(s) applied to the refined draft`]
        : []),
    ];
    return {
      applied: r.applied.map((a) => ({
        id: a.id,
        name: a.name,
        description:
          a.kind === "pattern"
            ? `assumed ${a.slot ?? "slot"}: "${a.value}" (confidence ${a.confidence.toFixed(2)})`
            : `preference ${a.name} = ${a.value} (confidence ${a.confidence.toFixed(2)})`,
      })),
      expectedImprovements: improvements,
      message:
        r.applied.length === 0 ? "Nothing learned applies to this idea yet." : `Applied ${r.applied.length}.`,
    };
  }

  /** listPatterns for the HTTP API's LearningPort. */
  patterns(): Promise<PatternListing[]> {
    return this.listPatterns();
  }

  /** A few readable lines about the strongest patterns (the engine's InsightsPort, for /patterns). */
  async patternsSummary(): Promise<string | undefined> {
    const all = (await this.listPatterns()).filter((p) => p.active);
    if (all.length === 0) return undefined;
    const lines = all
      .slice(0, 10)
      .map(
        (p) =>
          `• ${p.trigger.slot} for ${p.trigger.idea_type ?? "any"} ideas → “${p.value}” ` +
          `(confidence ${p.confidence.toFixed(2)}, right ${p.successes}/${p.validations}, applied ${p.applied}×)`,
      );
    return [`${all.length} learned pattern(s) in use:`, ...lines].join("\n");
  }

  /**
   * What the question model believes for an idea type (and user): per slot the mean gain and its
   * uncertainty, per template the answer rate and seconds. For the API, /patterns and benchmarks.
   */
  async explain(
    ideaType: string,
    userId: string | null = null,
  ): Promise<{
    gains: Record<Slot, { mean: number; sd: number }>;
    templates: { id: number; name: string; slot: string; answerRate: number; seconds: number }[];
    observed: { questions: number; outcomes: number };
  }> {
    await this.ensureLoaded();
    const mean = this.model.gains(ideaType, userId);
    const sd = this.model.gainSd(ideaType);
    const gains = {} as Record<Slot, { mean: number; sd: number }>;
    for (const s of SLOTS) gains[s] = { mean: round3(mean[s]), sd: round3(sd[s]) };
    return {
      gains,
      templates: this.templates.map((t) => {
        const slot = asSlot(t.category);
        const [a, b] = this.model.answerBeta(t.id, slot, ideaType, userId);
        return {
          id: t.id,
          name: t.name,
          slot: t.category,
          answerRate: round3(a / (a + b)),
          seconds: round3(this.model.seconds(t.id, slot, ideaType, userId, t.expectedSeconds)),
        };
      }),
      observed: this.model.size,
    };
  }

  /** The `preferences` text for a user's prompts (e.g. for draft 1), "(none known yet)" when none. */
  async preferencesFor(userId: string): Promise<string> {
    if (this.policy() !== "learning") return preferenceList([]);
    return preferenceList(await this.preferences.applicable(userId));
  }

  // Internals ------------------------------------------------------------------------------------

  private policy(): QuestionPolicy {
    return this.d.policy ?? (this.d.config.bool("hermes.learning.enabled") ? "learning" : "fixed");
  }

  private iso(): string {
    return new Date(this.d.clock.now()).toISOString();
  }

  private async requireThread(threadId: number): Promise<LearningThread> {
    const thread = await this.threads.thread(threadId);
    if (!thread) throw new HermesError("NOT_FOUND", `There is no idea ${threadId}.`);
    return thread;
  }

  private async draftOne(threadId: number): Promise<DraftJob | undefined> {
    const jobs = await this.threads.jobs(threadId);
    return jobs.find((j) => j.job_sequence === 1) ?? jobs[0];
  }

  private templateById(id: number): QuestionTemplate | undefined {
    return this.templates.find((t) => t.id === id);
  }

  /** Serialises the work on one thread (two taps at once must not ask two questions). */
  private async locked<T>(threadId: number, work: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(threadId) ?? Promise.resolve();
    const run = previous.then(work, work);
    const tail = run.catch(() => {});
    this.locks.set(threadId, tail);
    try {
      return await run;
    } finally {
      if (this.locks.get(threadId) === tail) this.locks.delete(threadId);
    }
  }

  /** Loads templates and rebuilds the question model from the database, once. */
  private ensureLoaded(): Promise<void> {
    this.loaded ??= (async () => {
      this.templates = await this.templatesRepo.active();
      for (const o of await this.conversations.observations()) {
        if (!isSlot(o.question_type)) continue;
        const template =
          o.question_template_id === null ? undefined : this.templateById(o.question_template_id);
        this.model.observeQuestion({
          templateId: o.question_template_id,
          slot: o.question_type,
          ideaType: o.idea_type ?? "mixed",
          userId: o.user_id,
          answered: o.response_type !== "clarification",
          seconds: o.response_time_seconds,
          expectedSeconds: template?.expectedSeconds ?? 8,
          assisted: parsePlan(o.optimization_suggested).assisted === true,
        });
        if (o.response_type !== "clarification" && o.user_response !== null)
          this.suggestionLearner.observe(o.idea_type ?? "mixed", o.question_type, o.user_response, o.user_id);
      }
      for (const r of await this.threads.ratedOutcomes()) {
        const state = parseState(r.claritySlots);
        if (!state?.stop || this.observedOutcomes.has(r.threadId)) continue;
        this.observedOutcomes.add(r.threadId);
        this.model.observeOutcome({
          ideaType: state.ideaType,
          userId: state.userId,
          progress: state.stop.progress,
          gain: (r.refinedRating - r.draftRating) / 4,
        });
      }
    })().catch((error) => {
      this.loaded = undefined;
      throw error;
    });
    return this.loaded;
  }

  /** Pre-fills slots from patterns and attaches preferences (learning policy only). */
  private async applyLearning(
    thread: LearningThread,
    state: ConversationState,
    draft1: DraftJob | undefined,
    now: string,
    allowValidation = true,
  ): Promise<void> {
    const owner = state.userId;
    if (owner === null) return;
    const perUser = this.d.perUser ?? true;
    const prefs = await this.preferences.applicable(owner);
    const known = new Set(state.applied.map((a) => `${a.kind}:${a.id}`));
    const fresh = prefs.filter((p) => !known.has(`preference:${p.id}`));
    for (const p of fresh) {
      state.applied.push({
        kind: "preference",
        id: p.id,
        name: `${p.category}.${p.key}`,
        value: p.value,
        confidence: p.confidence,
        at: now,
      });
    }
    if (fresh.length > 0) await this.preferences.markApplied(fresh, now);
    const style = threadStyle(prefs);
    await this.threads.update(thread.id, {
      communicationStyle: style.communicationStyle,
      depthPreference: style.depthPreference,
      now,
    });

    const threshold = this.d.config.number("hermes.learning.confidence_threshold");
    const applicable = perUser
      ? await this.patternLearner.applicable(
          owner,
          state.ideaType,
          threshold,
          this.d.config.number("hermes.learning.pattern_validation_threshold"),
        )
      : new Map<Slot, never>();
    for (const [slot, p] of applicable) {
      const s = state.slots[slot];
      if (s.source === "answer" || s.source === "pattern" || s.asked > 0) continue;
      // Now and then ask anyway, to validate the pattern (less often as it grows surer).
      if (allowValidation && this.d.random() < (1 - p.confidence) / 2) {
        state.validating[slot] = p.id;
        continue;
      }
      state.slots = applyPattern(state.slots, slot, p.value, p.confidence, p.id);
      state.applied.push({
        kind: "pattern",
        id: p.id,
        name: p.name,
        slot,
        value: p.value,
        confidence: p.confidence,
        at: now,
        secondsSaved: p.timeSavedEstimate,
      });
      await this.conversations.insertPrefill({
        threadId: thread.id,
        jobId: draft1?.id ?? null,
        phase: "initial",
        text: `(assumed from earlier conversations) ${SLOT_LABELS[slot]}`,
        slot,
        templateId: null,
        confidence: p.confidence,
        position: null,
        askedDate: now,
        patternMatched: `${p.id}:${p.name}`,
        plan: { suggestions: [], policy: "pattern" },
        value: p.value,
      });
      await this.patternLearner.markApplied(p, thread.id, now);
    }
    const patternsApplied = state.applied.filter((a) => a.kind === "pattern");
    await this.threads.update(thread.id, {
      learnedPatterns: JSON.stringify(
        patternsApplied.map((a) => ({ id: a.id, slot: a.slot, value: a.value })),
      ),
      optimizationApplied: JSON.stringify(state.applied),
      patternConfidence:
        patternsApplied.length === 0
          ? 0
          : Math.round(
              (patternsApplied.reduce((s, a) => s + a.confidence, 0) / patternsApplied.length) * 1000,
            ) / 1000,
      now,
    });
  }

  /** Asks the next question, or stops and queues the refined draft. Saves the state either way. */
  private async planNext(
    thread: LearningThread,
    state: ConversationState,
    draft1: DraftJob | undefined,
    userSaidEnough: boolean,
    now: string,
  ): Promise<{ question?: QuestionView; refinedJobId?: number; stopReason?: string }> {
    const clarity = clarityScore(state.slots);
    // What the user is likely to answer, per slot: an assumption from a pattern, or their own
    // frequent answers. Offered first as suggestions (one tap instead of typing it again).
    const personal =
      !userSaidEnough && state.policy === "learning" && (this.d.perUser ?? true) && state.userId !== null
        ? await this.patternLearner.habitualAnswers(state.userId, state.ideaType)
        : new Map<Slot, string[]>();
    const likely = new Map<Slot, string[]>();
    for (const slot of SLOTS) {
      const s = state.slots[slot];
      const assumed = s.source === "pattern" && s.value !== null ? [s.value] : [];
      const values = dedupe([...assumed, ...(personal.get(slot) ?? [])]);
      if (values.length > 0) likely.set(slot, values);
    }
    const selection = userSaidEnough
      ? { best: undefined, floor: undefined, stop: undefined }
      : this.generator.select(
          {
            slots: state.slots,
            ideaType: state.ideaType,
            userId: state.userId,
            idea: thread.original_request,
            asked: state.asked,
            templates: this.templates,
            assisted: new Set(likely.keys()),
          },
          state.policy,
        );
    const decision = decideNext({
      clarity,
      asked: state.asked,
      maxQuestions: this.d.config.number("hermes.learning.max_questions_per_conversation"),
      userSaidEnough,
      bestValue: selection.best?.value,
      floor: selection.floor,
      policyStop: selection.stop,
    });
    const best = selection.best;
    if (decision.ask && best) {
      state.asked += 1;
      const patternId = state.validating[best.slot] ?? state.slots[best.slot].patternId;
      const pattern = patternId === undefined ? undefined : await this.patternsRepo.byId(patternId);
      const offered = dedupe([...(pattern ? [pattern.value] : []), ...(likely.get(best.slot) ?? [])]);
      const popular =
        state.policy === "learning" ? this.suggestionLearner.popular(state.ideaType, best.slot) : [];
      const suggestions = dedupe([...offered, ...popular, ...best.template.suggestions]).slice(0, 4);
      const plan: QuestionPlan = {
        suggestions,
        policy: state.policy,
        ...(offered.length > 0 ? { assisted: true } : {}),
        ...(Number.isFinite(best.value)
          ? {
              predicted_improvement: round3(best.improvement),
              predicted_seconds: round3(best.seconds),
              value: Math.round(best.value * 1e5) / 1e5,
            }
          : {}),
      };
      const row = await this.conversations.insert({
        threadId: thread.id,
        jobId: draft1?.id ?? null,
        phase: state.asked === 1 ? "initial" : "clarification",
        text: best.template.text.replaceAll("{{topic}}", state.topic),
        slot: best.slot,
        templateId: best.template.id,
        confidence: best.confidence,
        position: state.asked,
        askedDate: now,
        patternMatched: pattern ? `${pattern.id}:${pattern.name}` : null,
        plan,
      });
      await this.templatesRepo.recordUse(best.template.id, now);
      await this.threads.update(thread.id, {
        claritySlots: JSON.stringify(state),
        finalClarity: clarity,
        now,
      });
      return { question: toView(row, suggestions, thread.id) };
    }
    return this.stop(thread, state, draft1, decision.reason, userSaidEnough, now);
  }

  private async stop(
    thread: LearningThread,
    state: ConversationState,
    draft1: DraftJob | undefined,
    reason: string,
    userSaidEnough: boolean,
    now: string,
  ): Promise<{ refinedJobId?: number; stopReason: string }> {
    const progress = slotProgress(state.initial, state.slots);
    const learnedSomething = SLOTS.some((s) => progress[s] > 0);
    let refinedJobId: number | undefined;
    if (learnedSomething || userSaidEnough) {
      this.d.prompts.template("refine"); // fail here, not in the queue, if the prompt file is missing
      const prefs = state.applied.filter((a) => a.kind === "preference");
      const job = this.d.queue.enqueue({
        threadId: thread.id,
        parentJobId: draft1?.id ?? null,
        jobSequence: 2,
        jobType: draft1?.job_type ?? state.ideaType,
        jobSubtype: "refine",
        priority: thread.priority,
        promptTemplate: "refine",
        promptVariables: {
          idea: thread.original_request,
          answers: await this.answerList(thread.id, state),
          preferences: preferenceList(prefs.map((p) => splitPreference(p))),
          idea_type: state.ideaType,
        },
        userId: state.userId,
        achievedClarity: clarityScore(state.slots),
      });
      refinedJobId = job.id;
    }
    state.stop = { reason, at: now, refinedJobId: refinedJobId ?? null, progress };
    const saved = state.applied.reduce((s, a) => s + (a.secondsSaved ?? 0), 0);
    await this.threads.update(thread.id, {
      claritySlots: JSON.stringify(state),
      finalClarity: clarityScore(state.slots),
      conversationMinutes: round3(state.seconds / 60),
      optimizationSavings: round3(saved / 60),
      conversationEffectiveness: analyzeEffectiveness(
        { clarity: clarityScore(state.initial) },
        { clarity: clarityScore(state.slots) },
        state.seconds,
      ).efficiency_score,
      now,
    });
    if (state.policy === "learning" && state.userId !== null && (this.d.perUser ?? true)) {
      const answered = SLOTS.filter((s) => state.slots[s].source === "answer");
      await this.patternLearner.discover(
        state.userId,
        state.ideaType,
        answered,
        {
          confidenceThreshold: this.d.config.number("hermes.learning.confidence_threshold"),
          validationThreshold: this.d.config.number("hermes.learning.pattern_validation_threshold"),
        },
        (slot) => templatesFor(this.templates, slot, state.ideaType).map((t) => t.id),
        now,
      );
    }
    return { ...(refinedJobId !== undefined ? { refinedJobId } : {}), stopReason: reason };
  }

  /** Once both drafts are rated: the outcome teaches the question model and is credited to the questions. */
  private async learnOutcome(
    thread: LearningThread,
    state: ConversationState,
    now: string,
  ): Promise<number | undefined> {
    if (!state.stop || state.stop.refinedJobId === null) return undefined;
    const jobs = await this.threads.jobs(thread.id);
    const draft = jobs.find((j) => j.job_sequence === 1);
    const refined = jobs.find((j) => j.id === state.stop?.refinedJobId);
    if (draft?.user_feedback == null || refined?.user_feedback == null) return undefined;
    const gain = (refined.user_feedback - draft.user_feedback) / 4;
    if (this.observedOutcomes.has(thread.id)) return gain;
    this.observedOutcomes.add(thread.id);
    this.model.observeOutcome({
      ideaType: state.ideaType,
      userId: state.userId,
      progress: state.stop.progress,
      gain,
    });
    const rows = (await this.conversations.forThread(thread.id)).filter(
      (r) => r.conversation_position !== null && r.responded_date !== null && r.user_response !== ENOUGH,
    );
    const gains = this.model.gains(state.ideaType, state.userId);
    const credit = creditOutcome(
      rows
        .filter((r) => isSlot(r.question_type))
        .map((r) => ({
          id: r.id,
          slot: r.question_type as Slot,
          progress: r.clarity_improvement > 0 ? (state.stop?.progress[r.question_type as Slot] ?? 0) : 0,
        })),
      gains,
      gain,
    );
    const templateIds = new Set<number>();
    for (const r of rows) {
      const q = credit.get(r.id) ?? 0;
      const plan = {
        ...parsePlan(r.optimization_suggested),
        quality_improvement: q,
        satisfaction_improvement: q,
      };
      await this.conversations.setPlan(r.id, plan);
      if (r.question_template_id !== null) templateIds.add(r.question_template_id);
    }
    for (const id of templateIds)
      await this.templatesRepo.refreshStats(id, now, this.templateById(id)?.category);
    await this.threads.update(thread.id, {
      conversationEffectiveness: analyzeEffectiveness(
        { clarity: clarityScore(state.initial), quality: (draft.user_feedback - 1) / 4 },
        { clarity: clarityScore(state.slots), quality: (refined.user_feedback - 1) / 4 },
        state.seconds,
      ).efficiency_score,
      now,
    });
    return gain;
  }

  private readAnswer(
    input: Exclude<AnswerInput, { kind: "enough" }>,
    plan: QuestionPlan,
  ): { answer: SlotAnswer; text: string; kind: AnswerKind } {
    if (input.kind === "suggestion") {
      const text = plan.suggestions[input.index];
      if (text === undefined || !Number.isInteger(input.index))
        throw new HermesError("INVALID_INPUT", "That answer is not one of the choices.");
      return { answer: { kind: "suggestion", text }, text, kind: "suggestion" };
    }
    if (input.kind === "text") {
      const text = input.text.trim().slice(0, 1000);
      if (isDontKnow(text)) return { answer: { kind: "unknown" }, text, kind: "unknown" };
      return { answer: { kind: "text", text }, text, kind: "text" };
    }
    return { answer: { kind: "unknown" }, text: "", kind: "unknown" };
  }

  /** The `answers` prompt variable: one readable line per thing the user told us (or we assumed). */
  private async answerList(threadId: number, state: ConversationState): Promise<string> {
    const rows = await this.conversations.forThread(threadId);
    const lines: string[] = [];
    for (const r of rows) {
      if (r.responded_date === null || r.user_response === null) continue;
      if (r.user_response === ENOUGH || r.user_response === SKIPPED || r.response_type === "clarification")
        continue;
      const slot = isSlot(r.question_type) ? r.question_type : undefined;
      const label = slot ? SLOT_LABELS[slot] : r.question_type;
      if (r.conversation_position === null) {
        // A pre-fill still in force (not replaced by a real answer since).
        if (slot && state.slots[slot].source !== "pattern") continue;
        lines.push(`- ${label} (assumed from earlier conversations): ${r.user_response}`);
      } else {
        lines.push(`- ${label} — "${r.question_asked}" → ${r.user_response}`);
      }
    }
    return lines.length === 0 ? "(no answers — they asked to go ahead)" : lines.join("\n");
  }

  private async view(
    row: ConversationRow | undefined,
    thread: LearningThread,
  ): Promise<QuestionView | undefined> {
    if (!row) return undefined;
    return toView(row, parsePlan(row.optimization_suggested).suggestions, thread.id);
  }
}

/**
 * For the engine's dispatcher: a rewrite queued before its draft finished carries `draft_job_id`
 * and an empty `draft`; fill it from the finished draft when the rewrite runs.
 */
export function resolvePromptVariables(
  job: Pick<QueueJob, "prompt_template_used">,
  vars: Record<string, string>,
  getJob: (id: number) => Pick<QueueJob, "full_result"> | undefined,
): Record<string, string> {
  if (job.prompt_template_used !== "rewrite" || (vars.draft ?? "") !== "") return vars;
  const id = Number(vars.draft_job_id);
  if (!Number.isInteger(id)) return vars;
  return { ...vars, draft: getJob(id)?.full_result ?? "" };
}

function toView(row: ConversationRow, suggestions: string[], threadId: number): QuestionView {
  return {
    id: row.id,
    threadId,
    position: row.conversation_position ?? 0,
    slot: asSlot(row.question_type),
    text: row.question_asked,
    suggestions,
    templateId: row.question_template_id,
  };
}

function parseState(raw: string | null): ConversationState | undefined {
  if (!raw) return undefined;
  try {
    const s = JSON.parse(raw) as Partial<ConversationState>;
    if (s.v !== 1 || !s.slots || !s.initial) return undefined;
    return s as ConversationState;
  } catch {
    return undefined;
  }
}

function parsePlan(raw: string | null): QuestionPlan {
  if (!raw) return { suggestions: [] };
  try {
    const p = JSON.parse(raw) as Partial<QuestionPlan>;
    return {
      ...p,
      suggestions: Array.isArray(p.suggestions) ? p.suggestions.filter((s) => typeof s === "string") : [],
    };
  } catch {
    return { suggestions: [] };
  }
}

function splitPreference(a: AppliedOptimization): { category: string; key: string; value: string } {
  const [category = a.name, key = ""] = a.name.split(".");
  return { category, key, value: a.value };
}

function isSlot(s: string): s is Slot {
  return (SLOTS as readonly string[]).includes(s);
}

function asSlot(s: string): Slot {
  return isSlot(s) ? s : s === "constraint" ? "constraints" : "intent";
}

function dedupe(xs: string[]): string[] {
  const seen = new Set<string>();
  return xs.filter((x) => {
    const k = x.trim().toLowerCase();
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

const round3 = (n: number) => Math.round(n * 1000) / 1000;
