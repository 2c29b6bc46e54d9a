import type { Kysely } from "kysely";
import type { Clock } from "../clock.ts";
import { HermesError } from "../errors.ts";
import type { NewJob, QueueJob } from "../store/jobs-repo.ts";
import type { Database } from "../store/schema.ts";
import type { ThreadRecord, ThreadsRepo } from "../store/threads-repo.ts";
import { summarise } from "./engine.ts";

/**
 * The read model of a thread that transports show (the HTTP API's status and result endpoints),
 * plus the small write paths the API needs while the conversation flow (ConversationPort) and the
 * learning module are not wired: store an answer or extra information, queue a refined draft,
 * record a rating, cancel a thread's jobs, store a result sent back by an external service.
 */

/** The part of JobQueue used here (JobQueue satisfies it). */
export interface ThreadQueuePort {
  enqueue(job: NewJob): QueueJob;
  cancel(jobId: number, reason?: string): number[];
  activeForThread(threadId: number): QueueJob[];
  depth(): number;
}

export interface ThreadQueriesDeps {
  db: Kysely<Database>;
  threads: ThreadsRepo;
  queue: ThreadQueuePort;
  clock: Pick<Clock, "now">;
}

export interface JobRecord {
  id: number;
  thread_id: number;
  parent_job_id: number | null;
  job_sequence: number;
  job_type: string;
  job_subtype: string | null;
  status: string;
  backend_used: string | null;
  model_used: string | null;
  result_summary: string | null;
  full_result: string | null;
  error_message: string | null;
  retry_count: number;
  cost_cents: number;
  user_feedback: number | null;
  scheduled_date: string;
  created_date: string | null;
  started_date: string | null;
  completed_date: string | null;
  execution_time_seconds: number;
}

export interface QuestionRecord {
  id: number;
  thread_id: number;
  question_asked: string;
  question_type: string;
  conversation_position: number | null;
  asked_date: string;
  user_response: string | null;
}

export type ThreadStage =
  | "queued"
  | "drafting"
  | "waiting_for_answers"
  | "refining"
  | "retrying"
  | "done"
  | "failed"
  | "cancelled";

export interface ThreadProgress {
  stage: ThreadStage;
  percent: number;
  jobs_total: number;
  jobs_completed: number;
  jobs_active: number;
  jobs_failed: number;
  jobs_cancelled: number;
  clarity: number;
  drafts: number;
}

const ACTIVE = new Set(["pending", "queued", "running", "retrying"]);

const JOB_COLUMNS = [
  "id",
  "thread_id",
  "parent_job_id",
  "job_sequence",
  "job_type",
  "job_subtype",
  "status",
  "backend_used",
  "model_used",
  "result_summary",
  "full_result",
  "error_message",
  "retry_count",
  "cost_cents",
  "user_feedback",
  "scheduled_date",
  "created_date",
  "started_date",
  "completed_date",
  "execution_time_seconds",
] as const;

const nextSequence = (jobs: JobRecord[]) => jobs.reduce((m, j) => Math.max(m, j.job_sequence), 0) + 1;

export class ThreadQueries {
  private readonly d: ThreadQueriesDeps;

  constructor(deps: ThreadQueriesDeps) {
    this.d = deps;
  }

  private iso(): string {
    return new Date(this.d.clock.now()).toISOString();
  }

  /** Any user's thread by uuid or short prefix (the API's caller is the owner). */
  async byRef(ref: string): Promise<ThreadRecord | undefined> {
    return this.d.threads.byRef(ref);
  }

  async byId(id: number): Promise<ThreadRecord | undefined> {
    return this.d.threads.byId(id);
  }

  async jobs(threadId: number): Promise<JobRecord[]> {
    return (await this.d.db
      .selectFrom("jobs")
      .select(JOB_COLUMNS)
      .where("thread_id", "=", threadId)
      .orderBy("id")
      .execute()) as JobRecord[];
  }

  async job(threadId: number, jobId: number): Promise<JobRecord | undefined> {
    return (await this.d.db
      .selectFrom("jobs")
      .select(JOB_COLUMNS)
      .where("thread_id", "=", threadId)
      .where("id", "=", jobId)
      .executeTakeFirst()) as JobRecord | undefined;
  }

  /** Asked and not yet answered (nor skipped), oldest first. */
  async pendingQuestions(threadId: number): Promise<QuestionRecord[]> {
    return (await this.d.db
      .selectFrom("conversations")
      .select([
        "id",
        "thread_id",
        "question_asked",
        "question_type",
        "conversation_position",
        "asked_date",
        "user_response",
      ])
      .where("thread_id", "=", threadId)
      .where("user_response", "is", null)
      .where("response_type", "is", null)
      .orderBy("id")
      .execute()) as QuestionRecord[];
  }

  progress(thread: ThreadRecord, jobs: JobRecord[], pendingQuestions: number): ThreadProgress {
    const completed = jobs.filter((j) => j.status === "completed").length;
    const failed = jobs.filter((j) => j.status === "failed").length;
    const cancelled = jobs.filter((j) => j.status === "cancelled").length;
    const active = jobs.filter((j) => ACTIVE.has(j.status));
    const counted = jobs.length - cancelled;
    let stage: ThreadStage;
    if (active.some((j) => j.status === "running"))
      stage = completed > 0 || active.some((j) => j.job_sequence > 1) ? "refining" : "drafting";
    else if (active.some((j) => j.status === "retrying")) stage = "retrying";
    else if (active.length > 0) stage = "queued";
    else if (pendingQuestions > 0) stage = "waiting_for_answers";
    else if (completed > 0) stage = "done";
    else if (failed > 0) stage = "failed";
    else if (cancelled > 0) stage = "cancelled";
    else stage = "queued";
    const percent =
      active.length === 0 && completed > 0
        ? 100
        : counted <= 0
          ? 0
          : Math.round((100 * (completed + failed)) / counted);
    return {
      stage,
      percent,
      jobs_total: jobs.length,
      jobs_completed: completed,
      jobs_active: active.length,
      jobs_failed: failed,
      jobs_cancelled: cancelled,
      clarity: thread.final_clarity_score,
      drafts: thread.draft_count,
    };
  }

  /** Minutes until a job queued now is likely done: recent average run time × work ahead ÷ slots. */
  async estimateMinutes(slots = 1): Promise<number> {
    const recent = await this.d.db
      .selectFrom("jobs")
      .select("execution_time_seconds")
      .where("status", "=", "completed")
      .orderBy("id", "desc")
      .limit(20)
      .execute();
    const times = recent.map((r) => r.execution_time_seconds).filter((s) => s > 0);
    const avg = times.length > 0 ? times.reduce((a, b) => a + b, 0) / times.length : 90;
    const ahead = Math.max(1, this.d.queue.depth());
    return Math.max(1, Math.ceil((ahead * avg) / Math.max(1, slots) / 60));
  }

  /** Records an answer to a question of this thread (fallback when no ConversationPort is wired). */
  async answerQuestion(threadId: number, questionId: number, answer: string): Promise<QuestionRecord> {
    const row = (await this.d.db
      .selectFrom("conversations")
      .select([
        "id",
        "thread_id",
        "question_asked",
        "question_type",
        "conversation_position",
        "asked_date",
        "user_response",
        "response_type",
      ])
      .where("id", "=", questionId)
      .where("thread_id", "=", threadId)
      .executeTakeFirst()) as (QuestionRecord & { response_type: string | null }) | undefined;
    if (!row)
      throw new HermesError("NOT_FOUND", `Question ${questionId} is not part of this thread.`, {
        details: "answers.question_id",
      });
    if (row.user_response !== null || row.response_type !== null)
      throw new HermesError("INVALID_INPUT", `Question ${questionId} was already answered.`, {
        details: "answers.question_id",
      });
    const now = this.iso();
    await this.d.db
      .updateTable("conversations")
      .set({
        user_response: answer,
        response_type: "direct_answer",
        responded_date: now,
        response_time_seconds: Math.max(0, (Date.parse(now) - Date.parse(row.asked_date)) / 1000) || 0,
      })
      .where("id", "=", questionId)
      .execute();
    return { ...row, user_response: answer };
  }

  /** Marks open questions as skipped: the given ones, or every open one of the thread ("enough"). */
  async skipQuestions(threadId: number, which: number[] | "all"): Promise<number> {
    let q = this.d.db
      .updateTable("conversations")
      .set({ response_type: "skipped", responded_date: this.iso() })
      .where("thread_id", "=", threadId)
      .where("user_response", "is", null)
      .where("response_type", "is", null);
    if (which !== "all") {
      if (which.length === 0) return 0;
      q = q.where("id", "in", which);
    }
    const res = await q.executeTakeFirst();
    return Number(res.numUpdatedRows);
  }

  /** Stores information the user volunteered as a conversation entry of the thread. */
  async addInformation(threadId: number, text: string): Promise<number> {
    const now = this.iso();
    const last = await this.d.db
      .selectFrom("conversations")
      .select((eb) => eb.fn.max("conversation_position").as("p"))
      .where("thread_id", "=", threadId)
      .executeTakeFirst();
    const row = await this.d.db
      .insertInto("conversations")
      .values({
        thread_id: threadId,
        conversation_phase: "refinement",
        question_asked: "(additional information)",
        question_type: "context",
        user_response: text,
        response_type: "clarification",
        asked_date: now,
        responded_date: now,
        conversation_position: Number(last?.p ?? 0) + 1,
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    await this.touch(threadId, now);
    return row.id;
  }

  /**
   * Queues a refined draft (prompts/refine.md) from the original idea and what was learned since
   * (answers and volunteered information), as the conversation flow does. Returns the new job.
   */
  async queueRefine(thread: ThreadRecord, additions: string[], userId?: string | null): Promise<QueueJob> {
    const jobs = await this.jobs(thread.id);
    const latest = [...jobs].reverse().find((j) => j.status === "completed");
    const ideaType = thread.idea_type ?? "mixed";
    return this.d.queue.enqueue({
      threadId: thread.id,
      parentJobId: latest?.id ?? jobs.at(-1)?.id ?? null,
      jobSequence: nextSequence(jobs),
      jobType: ideaType,
      jobSubtype: "refine",
      priority: thread.priority,
      promptTemplate: "refine",
      promptVariables: {
        idea: thread.original_request,
        idea_type: ideaType,
        answers: additions.length > 0 ? additions.map((a) => `- ${a}`).join("\n") : "(nothing new)",
        preferences: "",
      },
      userId: userId ?? thread.user_id,
      achievedClarity: thread.final_clarity_score,
    });
  }

  /** Queues a rewrite of a finished draft (prompts/rewrite.md): shorter, more detail. */
  async queueRewrite(
    thread: ThreadRecord,
    job: JobRecord,
    instruction: string,
    userId?: string | null,
  ): Promise<QueueJob> {
    const jobs = await this.jobs(thread.id);
    return this.d.queue.enqueue({
      threadId: thread.id,
      parentJobId: job.id,
      jobSequence: nextSequence(jobs),
      jobType: job.job_type,
      jobSubtype: "rewrite",
      priority: thread.priority,
      promptTemplate: "rewrite",
      promptVariables: { draft: job.full_result ?? "", instruction, draft_job_id: job.id },
      userId: userId ?? thread.user_id,
    });
  }

  /** A 1–5 rating of a job: kept on the job and as the thread's satisfaction. */
  async recordRating(threadId: number, jobId: number, rating: number): Promise<void> {
    const now = this.iso();
    await this.d.db
      .updateTable("jobs")
      .set({ user_feedback: rating })
      .where("id", "=", jobId)
      .where("thread_id", "=", threadId)
      .execute();
    await this.d.db
      .updateTable("idea_threads")
      .set({ user_satisfaction: rating, last_active: now })
      .where("id", "=", threadId)
      .execute();
  }

  /** Cancels every unfinished job of the thread (and their dependents). Returns the ids cancelled. */
  cancelThread(threadId: number, reason: string): number[] {
    const ids: number[] = [];
    for (const job of this.d.queue.activeForThread(threadId)) {
      if (ids.includes(job.id)) continue;
      ids.push(...this.d.queue.cancel(job.id, reason));
    }
    return [...new Set(ids)];
  }

  /** Learned patterns, most confident first. */
  async patterns(filter: { category?: string; minConfidence?: number; limit?: number } = {}) {
    let q = this.d.db
      .selectFrom("learned_patterns")
      .select([
        "id",
        "pattern_name",
        "pattern_category",
        "pattern_description",
        "trigger_conditions",
        "confidence_level",
        "validation_count",
        "success_count",
        "impact_description",
        "time_saved_estimate",
        "quality_improvement_estimate",
        "recommended_actions",
        "last_applied",
        "last_validated",
      ]);
    if (filter.category) q = q.where("pattern_category", "=", filter.category);
    if (filter.minConfidence !== undefined) q = q.where("confidence_level", ">=", filter.minConfidence);
    return q
      .orderBy("confidence_level", "desc")
      .orderBy("id")
      .limit(filter.limit ?? 100)
      .execute();
  }

  /** Question templates with their measured effectiveness. */
  async questionTemplates(limit = 100) {
    return this.d.db
      .selectFrom("question_templates")
      .select([
        "id",
        "template_name",
        "question_category",
        "usage_count",
        "success_rate",
        "clarity_improvement_avg",
        "user_satisfaction_avg",
        "is_active",
        "effectiveness_trend",
      ])
      .orderBy("success_rate", "desc")
      .orderBy("id")
      .limit(limit)
      .execute();
  }

  /** Patterns whose trigger conditions mention the thread's idea type, at or above a confidence. */
  async applicablePatterns(thread: ThreadRecord, minConfidence: number) {
    const all = await this.patterns({ minConfidence, limit: 500 });
    const type = thread.idea_type ?? "mixed";
    return all.filter((p) => {
      try {
        const cond = JSON.parse(p.trigger_conditions) as unknown;
        return JSON.stringify(cond).includes(`"${type}"`);
      } catch {
        return false;
      }
    });
  }

  /** Stores a result delivered by an external service as a completed job of the thread. */
  async storeExternalResult(
    thread: ThreadRecord,
    input: { text: string; status: "completed" | "failed"; source: string; metadata?: unknown },
  ): Promise<number> {
    const now = this.iso();
    const sequence = nextSequence(await this.jobs(thread.id));
    const failed = input.status === "failed";
    const row = await this.d.db
      .insertInto("jobs")
      .values({
        thread_id: thread.id,
        job_sequence: sequence,
        job_type: thread.idea_type ?? "mixed",
        job_subtype: "external_result",
        status: failed ? "failed" : "completed",
        priority: thread.priority,
        prompt_variables: input.metadata === undefined ? null : JSON.stringify({ metadata: input.metadata }),
        backend_used: input.source,
        model_used: null,
        full_result: failed ? null : input.text,
        result_summary: failed ? null : summarise(input.text),
        error_message: failed ? input.text.slice(0, 2000) : null,
        max_retries: 0,
        scheduled_date: now,
        created_date: now,
        started_date: now,
        completed_date: now,
        user_id: thread.user_id,
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    if (!failed) await this.d.threads.recordDraft(thread.id, summarise(input.text), now);
    else await this.touch(thread.id, now);
    return row.id;
  }

  private async touch(threadId: number, now: string): Promise<void> {
    await this.d.db
      .updateTable("idea_threads")
      .set({ last_active: now })
      .where("id", "=", threadId)
      .execute();
  }
}
