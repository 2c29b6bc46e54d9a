import type { Kysely } from "kysely";
import { toJob } from "../jobs/rows.ts";
import type { Job } from "../jobs/types.ts";
import { precompile } from "../precompiled.ts";
import type { Database, IdeaThreadUpdate } from "../schema.ts";

/**
 * Learning's view of threads and their jobs: the conversation state (clarity slots JSON), clarity
 * scores, applied optimizations and satisfaction on idea_threads; drafts and ratings on jobs.
 * Reads jobs freely; writes only jobs.user_feedback (the queue owns every other job column).
 */
export interface LearningThread {
  id: number;
  uuid: string;
  original_request: string;
  idea_type: string | null;
  user_id: string | null;
  priority: number;
  status: string;
  clarity_slots: string | null;
  initial_clarity_score: number;
  final_clarity_score: number;
  user_satisfaction: number | null;
}

export interface RatedOutcome {
  threadId: number;
  ideaType: string | null;
  userId: string | null;
  claritySlots: string | null;
  draftRating: number;
  refinedRating: number;
}

export interface ThreadLearningUpdate {
  claritySlots?: string;
  initialClarity?: number;
  finalClarity?: number;
  communicationStyle?: string | null;
  depthPreference?: string | null;
  learnedPatterns?: string | null;
  optimizationApplied?: string | null;
  patternConfidence?: number;
  conversationEffectiveness?: number;
  conversationMinutes?: number;
  optimizationSavings?: number;
  userSatisfaction?: number;
  now: string;
}

const THREAD_COLUMNS = [
  "id",
  "uuid",
  "original_request",
  "idea_type",
  "user_id",
  "priority",
  "status",
  "clarity_slots",
  "initial_clarity_score",
  "final_clarity_score",
  "user_satisfaction",
] as const;

export class ThreadLearningRepo {
  private readonly db: Kysely<Database>;
  // Every idea reads its thread and jobs several times and updates the thread: compiled once
  // (../precompiled.ts); an update once per set of columns it writes.
  private readonly threadQuery;
  private readonly jobsQuery;
  private readonly updates = new Map<string, (...values: unknown[]) => Promise<unknown>>();

  constructor(db: Kysely<Database>) {
    this.db = db;
    this.threadQuery = precompile(db, 1, (id: number) =>
      db.selectFrom("idea_threads").select(THREAD_COLUMNS).where("id", "=", id),
    );
    this.jobsQuery = precompile(db, 1, (threadId: number) =>
      db.selectFrom("jobs").selectAll().where("thread_id", "=", threadId).orderBy("id"),
    );
  }

  async thread(id: number): Promise<LearningThread | undefined> {
    return (await this.threadQuery(id)).rows[0] as LearningThread | undefined;
  }

  async update(id: number, u: ThreadLearningUpdate): Promise<void> {
    const set = threadColumns(u);
    const columns = Object.keys(set) as (keyof IdeaThreadUpdate)[];
    const key = columns.join(",");
    let update = this.updates.get(key);
    if (!update) {
      update = precompile(this.db, columns.length + 1, (...values: unknown[]) =>
        this.db
          .updateTable("idea_threads")
          .set(Object.fromEntries(columns.map((c, i) => [c, values[i]])) as IdeaThreadUpdate)
          .where("id", "=", values[columns.length] as number),
      );
      this.updates.set(key, update);
    }
    await update(...columns.map((c) => set[c]), id);
  }

  /** Every job of a thread, oldest first. */
  async jobs(threadId: number): Promise<Job[]> {
    return (await this.jobsQuery(threadId)).rows.map(toJob);
  }

  async job(jobId: number): Promise<Job | undefined> {
    const row = await this.db.selectFrom("jobs").selectAll().where("id", "=", jobId).executeTakeFirst();
    return row === undefined ? undefined : toJob(row);
  }

  async setJobFeedback(jobId: number, rating: number): Promise<void> {
    await this.db.updateTable("jobs").set({ user_feedback: rating }).where("id", "=", jobId).execute();
  }

  /** Threads whose first draft and refined draft were both rated: the outcomes questions learn from. */
  async ratedOutcomes(): Promise<RatedOutcome[]> {
    const rows = await this.db
      .selectFrom("idea_threads as t")
      .innerJoin("jobs as d", (j) =>
        j
          .onRef("d.thread_id", "=", "t.id")
          .on("d.job_sequence", "=", 1)
          .on("d.user_feedback", "is not", null),
      )
      .innerJoin("jobs as r", (j) =>
        j
          .onRef("r.thread_id", "=", "t.id")
          .on("r.job_subtype", "=", "refine")
          .on("r.user_feedback", "is not", null),
      )
      .select([
        "t.id as threadId",
        "t.idea_type as ideaType",
        "t.user_id as userId",
        "t.clarity_slots as claritySlots",
        "d.user_feedback as draftRating",
        "r.user_feedback as refinedRating",
      ])
      .orderBy("t.id")
      .execute();
    return rows.map((r) => ({
      ...r,
      draftRating: Number(r.draftRating),
      refinedRating: Number(r.refinedRating),
    }));
  }
}

/** The idea_threads columns an update writes (last_active always), by column name. */
export function threadColumns(u: ThreadLearningUpdate): IdeaThreadUpdate {
  const set: IdeaThreadUpdate = { last_active: u.now };
  if (u.claritySlots !== undefined) set.clarity_slots = u.claritySlots;
  if (u.initialClarity !== undefined) set.initial_clarity_score = u.initialClarity;
  if (u.finalClarity !== undefined) set.final_clarity_score = u.finalClarity;
  if (u.communicationStyle !== undefined) set.communication_style = u.communicationStyle;
  if (u.depthPreference !== undefined) set.depth_preference = u.depthPreference;
  if (u.learnedPatterns !== undefined) set.learned_patterns = u.learnedPatterns;
  if (u.optimizationApplied !== undefined) set.optimization_applied = u.optimizationApplied;
  if (u.patternConfidence !== undefined) set.pattern_confidence = u.patternConfidence;
  if (u.conversationEffectiveness !== undefined) set.conversation_effectiveness = u.conversationEffectiveness;
  if (u.conversationMinutes !== undefined) set.total_conversation_time_minutes = u.conversationMinutes;
  if (u.optimizationSavings !== undefined) set.optimization_savings = u.optimizationSavings;
  if (u.userSatisfaction !== undefined) set.user_satisfaction = u.userSatisfaction;
  return set;
}
