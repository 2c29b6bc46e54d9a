import { type Kysely, type SelectQueryBuilder, sql } from "kysely";
import { precompile } from "../precompiled.ts";
import type { Database } from "../schema.ts";
import type { Job } from "./types.ts";

/**
 * A thread's jobs as the transports show them (status, results, progress), and the one job not run
 * by the queue: a result an external service sends back. The queue (repo.ts) owns every other write.
 */
/** The job columns the thread views show: a view of the one Job type, not a second one. */
export type JobRecord = Pick<Job, (typeof JOB_COLUMNS)[number]>;

/** A finished job stored as it arrived (no queue run): see ThreadJobsRepo.insertFinished. */
export interface FinishedJob {
  threadId: number;
  sequence: number;
  jobType: string;
  subtype: string;
  status: "completed" | "failed";
  priority: number;
  promptVariables: string | null;
  backendUsed: string;
  fullResult: string | null;
  resultSummary: string | null;
  errorMessage: string | null;
  userId: string | null;
  now: string;
}

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

type ActiveArm = SelectQueryBuilder<Database, "jobs", { thread_id: number; status: string }>;

export class ThreadJobsRepo {
  private readonly db: Kysely<Database>;
  // Every submit's time estimate reads it: compiled once per limit (../precompiled.ts; the limit is
  // written into the text, see ../stable-plans.ts).
  private readonly recentRunSecondsQueries = new Map<
    number,
    () => Promise<{ rows: { execution_time_seconds: number }[] }>
  >();

  constructor(db: Kysely<Database>) {
    this.db = db;
  }

  /** The thread's jobs, oldest first. */
  async ofThread(threadId: number): Promise<JobRecord[]> {
    return (await this.db
      .selectFrom("jobs")
      .select(JOB_COLUMNS)
      .where("thread_id", "=", threadId)
      .orderBy("id")
      .execute()) as JobRecord[];
  }

  /** One job, only if it belongs to the thread. */
  async inThread(threadId: number, jobId: number): Promise<JobRecord | undefined> {
    return (await this.db
      .selectFrom("jobs")
      .select(JOB_COLUMNS)
      .where("thread_id", "=", threadId)
      .where("id", "=", jobId)
      .executeTakeFirst()) as JobRecord | undefined;
  }

  /**
   * A user's unfinished jobs (of their own threads) by status: a guest's view of the queue. The
   * unfinished jobs are read from the partial indexes of their states (migration 022), whatever
   * the history; the cross join keeps SQLite from starting at the user's threads instead.
   */
  async activeCountsOfUser(userId: string): Promise<Record<string, number>> {
    const unfinished = (where: (q: ActiveArm) => ActiveArm) =>
      where(this.db.selectFrom("jobs").select(["thread_id", "status"]));
    const rows = await this.db
      .selectFrom(
        unfinished((q) => q.where("status", "in", [sql.lit("queued"), sql.lit("retrying")]))
          .unionAll(unfinished((q) => q.where("status", "=", sql.lit("running"))))
          .unionAll(unfinished((q) => q.where("status", "=", sql.lit("pending"))))
          .as("active"),
      )
      .crossJoin("idea_threads as t")
      .whereRef("t.id", "=", "active.thread_id")
      .where("t.user_id", "=", userId)
      .select(["active.status", (eb) => eb.fn.countAll<number>().as("n")])
      .groupBy("active.status")
      .execute();
    const out: Record<string, number> = {};
    for (const r of rows) out[r.status] = Number(r.n);
    return out;
  }

  /** Run times (seconds, > 0) of the latest completed jobs, newest first: for time estimates. */
  async recentRunSeconds(limit: number): Promise<number[]> {
    const n = Math.max(0, Math.trunc(limit));
    let query = this.recentRunSecondsQueries.get(n);
    if (!query) {
      query = precompile(this.db, 0, () =>
        this.db
          .selectFrom("jobs")
          .select("execution_time_seconds")
          .where("status", "=", sql.lit("completed"))
          // Latest by completion: the order of idx_jobs_completed (ties: the later job first).
          .orderBy("completed_date", "desc")
          .orderBy("id", "desc")
          .limit(n),
      );
      this.recentRunSecondsQueries.set(n, query);
    }
    const { rows } = await query();
    return rows.map((r) => r.execution_time_seconds).filter((s) => s > 0);
  }

  /** Stores a job that finished elsewhere (an external service's result). Returns its id. */
  async insertFinished(j: FinishedJob): Promise<number> {
    const row = await this.db
      .insertInto("jobs")
      .values({
        thread_id: j.threadId,
        job_sequence: j.sequence,
        job_type: j.jobType,
        job_subtype: j.subtype,
        status: j.status,
        priority: j.priority,
        prompt_variables: j.promptVariables,
        backend_used: j.backendUsed,
        model_used: null,
        full_result: j.fullResult,
        result_summary: j.resultSummary,
        error_message: j.errorMessage,
        max_retries: 0,
        scheduled_date: j.now,
        created_date: j.now,
        started_date: j.now,
        completed_date: j.now,
        user_id: j.userId,
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    return row.id;
  }
}
