import type { Kysely } from "kysely";
import type { Clock } from "../../clock.ts";
import type { SystemConfig } from "../../config/system-config.ts";
import { HermesError } from "../../errors.ts";
import { AnswerPredictor, questionKind } from "../../learning/answer-predictor.ts";
import { sameAnswer } from "../../learning/effectiveness.ts";
import { OrderArms } from "../../learning/order-arms.ts";
import { PatternLearner } from "../../learning/patterns.ts";
import { PreferenceLearner } from "../../learning/preferences.ts";
import { type AnswerMode, QuestionModel } from "../../learning/question-model.ts";
import { type QuestionPolicy, SmartQuestionGenerator } from "../../learning/question-selector.ts";
import { ideaKind } from "../../learning/quick-analysis.ts";
import type { JobQueue } from "../../queue/job-queue.ts";
import type { SqliteHandle } from "../../store/database.ts";
import type { Job } from "../../store/jobs/types.ts";
import { PatternsRepo } from "../../store/learning/patterns-repo.ts";
import { PreferencesRepo } from "../../store/learning/preferences-repo.ts";
import { LearningSnapshotRepo } from "../../store/learning/snapshot-repo.ts";
import { type QuestionTemplate, TemplatesRepo } from "../../store/learning/templates-repo.ts";
import type { ConversationRow, Database } from "../../store/schema.ts";
import { ConversationsRepo } from "../../store/threads/conversations-repo.ts";
import { type LearningThread, ThreadLearningRepo } from "../../store/threads/learning-repo.ts";
import { QuestionStepRepo } from "../../store/threads/question-step-repo.ts";
import type { PromptLibrary } from "../prompts.ts";
import type { Assumption } from "../understanding/assumptions.ts";
import type { Understanding } from "../understanding/schema.ts";
import type { UnderstandRequest } from "../understanding/understand.ts";
import {
  type ConversationState,
  isSlot,
  kindOf,
  parsePlan,
  parseState,
  type QuestionPlan,
  toView,
} from "./records.ts";
import type { QuestionView } from "./types.ts";

export interface ConversationFlowDeps {
  db: Kysely<Database>;
  /** The same database's raw handle: the synchronous transaction of an asked question (QuestionStepRepo). */
  sqlite: SqliteHandle;
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
  /**
   * The model-assisted analysis of a new idea (src/engine/understanding/), bounded by its own
   * deadline; undefined when it did not answer usefully in time. Without it: heuristics only.
   */
  understand?: ((req: UnderstandRequest) => Promise<Understanding | undefined>) | undefined;
  /** Reads draft 1's assumptions (src/engine/understanding/assumptions.ts); without it none are confirmed. */
  readAssumptions?: ReadAssumptions | undefined;
}

type ReadAssumptions = (req: {
  idea: string;
  draft: string;
  threadId: number;
  localOnly?: boolean;
}) => Promise<Assumption[] | undefined>;

/**
 * What the parts of the conversation flow share: the deps, the repositories and learners over the
 * database, the in-memory question model (rebuilt from the database on first use), the per-thread
 * lock, and a few small look-ups. One per ConversationFlow.
 */
export class ConversationContext {
  // The deps the parts use, each a readonly field (no shared mutable bag of deps).
  readonly db: Kysely<Database>;
  readonly queue: JobQueue;
  readonly config: SystemConfig;
  readonly clock: Clock;
  readonly random: () => number;
  readonly prompts: PromptLibrary;
  /** Per-user learning on (ConversationFlowDeps.perUser, default true). */
  readonly perUser: boolean;
  readonly understand: ConversationFlowDeps["understand"];
  readonly readAssumptions: ConversationFlowDeps["readAssumptions"];
  private readonly forcedPolicy: QuestionPolicy | undefined;
  private readonly minUserObservations: number;
  private readonly valueFloor: number | undefined;
  readonly conversations: ConversationsRepo;
  /** An asked question's writes, in one transaction. */
  readonly questionSteps: QuestionStepRepo;
  readonly templatesRepo: TemplatesRepo;
  readonly threads: ThreadLearningRepo;
  readonly patternLearner: PatternLearner;
  readonly patternsRepo: PatternsRepo;
  readonly preferences: PreferenceLearner;
  /** What an answer may change, kept with a typed answer so "It's a new idea" can undo it. */
  readonly snapshots: LearningSnapshotRepo;
  model: QuestionModel;
  generator: SmartQuestionGenerator;
  /** Active question templates, loaded by ensureLoaded. */
  templates: QuestionTemplate[] = [];
  /** Threads whose rated outcome the model has already learned from. */
  observedOutcomes = new Set<number>();
  answerPredictor = new AnswerPredictor();
  /** Per kind of idea: the learned order against the fixed one, on rated outcomes. */
  orderArms = new OrderArms();
  private readonly locks = new Map<number, Promise<unknown>>();
  private loaded: Promise<void> | undefined;

  constructor(deps: ConversationFlowDeps) {
    this.db = deps.db;
    this.queue = deps.queue;
    this.config = deps.config;
    this.clock = deps.clock;
    this.random = deps.random;
    this.prompts = deps.prompts;
    this.perUser = deps.perUser ?? true;
    this.understand = deps.understand;
    this.readAssumptions = deps.readAssumptions;
    this.forcedPolicy = deps.policy;
    this.minUserObservations = deps.minUserObservations ?? 3;
    this.valueFloor = deps.valueFloor;
    this.conversations = new ConversationsRepo(deps.db);
    this.questionSteps = new QuestionStepRepo(deps.sqlite);
    this.templatesRepo = new TemplatesRepo(deps.db);
    this.threads = new ThreadLearningRepo(deps.db);
    this.patternsRepo = new PatternsRepo(deps.db);
    this.patternLearner = new PatternLearner(this.patternsRepo, this.conversations);
    this.preferences = new PreferenceLearner(new PreferencesRepo(deps.db));
    this.snapshots = new LearningSnapshotRepo(deps.db);
    this.model = this.newModel();
    this.generator = new SmartQuestionGenerator(this.model, deps.random, deps.valueFloor);
  }

  private newModel(): QuestionModel {
    return new QuestionModel({
      perUser: this.perUser,
      minUserObservations: this.minUserObservations,
    });
  }

  /**
   * Drops everything learned in memory (question model, remembered answers, observed outcomes) so
   * it is rebuilt from the database on next use: after /forget deleted a user's rows, nothing of
   * theirs (e.g. their typed answers offered as suggestions) may survive in memory.
   */
  forgetInMemory(): void {
    this.model = this.newModel();
    this.generator = new SmartQuestionGenerator(this.model, this.random, this.valueFloor);
    this.answerPredictor = new AnswerPredictor();
    this.orderArms = new OrderArms();
    this.observedOutcomes = new Set<number>();
    this.loaded = undefined;
  }

  /** A rated refined draft of a learning session: the quality of the order it followed, for its kind. */
  observeOrder(state: ConversationState, refinedRating: number): void {
    if (state.policy !== "learning") return;
    this.orderArms.observe(kindOf(state), state.order ?? "learned", (refinedRating - 1) / 4);
  }

  policy(): QuestionPolicy {
    return this.forcedPolicy ?? (this.config.bool("hermes.learning.enabled") ? "learning" : "fixed");
  }

  iso(): string {
    return new Date(this.clock.now()).toISOString();
  }

  async requireThread(threadId: number): Promise<LearningThread> {
    const thread = await this.threads.thread(threadId);
    if (!thread) throw new HermesError("NOT_FOUND", `There is no idea ${threadId}.`);
    return thread;
  }

  async draftOne(threadId: number): Promise<Job | undefined> {
    const jobs = await this.threads.jobs(threadId);
    return jobs.find((j) => j.job_sequence === 1) ?? jobs[0];
  }

  templateById(id: number): QuestionTemplate | undefined {
    return this.templates.find((t) => t.id === id);
  }

  async view(row: ConversationRow | undefined, thread: LearningThread): Promise<QuestionView | undefined> {
    if (!row) return undefined;
    return toView(row, parsePlan(row.optimization_suggested).suggestions, thread);
  }

  /** Serialises the work on one thread (two taps at once must not ask two questions). */
  async locked<T>(threadId: number, work: () => Promise<T>): Promise<T> {
    return (await this.lockedAlone(threadId, work)).value;
  }

  /**
   * locked, also saying whether the thread's lock was left uncontended: `alone` is false when other
   * work on the thread queued for the lock while `work` held it (it runs next, and may change what
   * `work` wrote).
   */
  async lockedAlone<T>(threadId: number, work: () => Promise<T>): Promise<{ value: T; alone: boolean }> {
    const previous = this.locks.get(threadId) ?? Promise.resolve();
    const run = previous.then(work, work);
    const tail = run.catch(() => {});
    this.locks.set(threadId, tail);
    try {
      const value = await run;
      return { value, alone: this.locks.get(threadId) === tail };
    } finally {
      if (this.locks.get(threadId) === tail) this.locks.delete(threadId);
    }
  }

  /** Loads templates and rebuilds the question model from the database, once. */
  ensureLoaded(): Promise<void> {
    this.loaded ??= (async () => {
      this.templates = await this.templatesRepo.active();
      for (const o of await this.conversations.observations()) {
        if (!isSlot(o.question_type)) continue;
        const kind = ideaKind(o.original_request, o.idea_type ?? "mixed");
        const template =
          o.question_template_id === null ? undefined : this.templateById(o.question_template_id);
        this.model.observeQuestion({
          templateId: o.question_template_id,
          slot: o.question_type,
          ideaType: kind,
          userId: o.user_id,
          mode: answerMode(o.response_type, o.user_response, parsePlan(o.optimization_suggested)),
          seconds: o.response_time_seconds,
          expectedSeconds: template?.expectedSeconds ?? 8,
        });
        if (o.response_type !== "clarification" && o.user_response !== null)
          this.answerPredictor.observe(
            kind,
            questionKind(o.question_type, o.question_template_id),
            o.user_response,
            o.user_id,
            template?.suggestions ?? [],
          );
      }
      for (const r of await this.threads.ratedOutcomes()) {
        const state = parseState(r.claritySlots);
        if (!state?.stop || this.observedOutcomes.has(r.threadId)) continue;
        this.observedOutcomes.add(r.threadId);
        this.observeOrder(state, r.refinedRating);
        this.model.observeOutcome({
          ideaType: kindOf(state),
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
}

/**
 * How a stored answer was given, as recorded with it; rows from before that was recorded count an
 * answer equal to an offered one as a tap.
 */
function answerMode(responseType: string | null, response: string | null, plan: QuestionPlan): AnswerMode {
  if (plan.answered_by === "tap" || plan.answered_by === "type" || plan.answered_by === "unknown")
    return plan.answered_by;
  if (responseType === "clarification" || response === null) return "unknown";
  return plan.suggestions.some((s) => sameAnswer(s, response)) ? "tap" : "type";
}
