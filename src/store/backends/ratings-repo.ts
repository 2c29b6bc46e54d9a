import type { Kysely } from "kysely";
import type { Database } from "../schema.ts";

/**
 * A user's rating of a job on that job's backend_performance row: quality_score and
 * user_satisfaction, the numbers the learned backend scores (BackendsRepo.scores) average.
 */
export class BackendRatingsRepo {
  private readonly db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.db = db;
  }

  /**
   * Sets quality and satisfaction on the job's call row (its successful one first), adding the row
   * when the call was never recorded. False when the job or its backend is unknown.
   */
  async rateJob(jobId: number, rating: number, quality: number, nowIso: string): Promise<boolean> {
    const job = await this.db
      .selectFrom("jobs")
      .select([
        "id",
        "backend_used",
        "job_type",
        "model_used",
        "execution_time_seconds",
        "cost_cents",
        "status",
      ])
      .where("id", "=", jobId)
      .executeTakeFirst();
    if (!job?.backend_used) return false;
    const backend = await this.db
      .selectFrom("backends")
      .select("id")
      .where("name", "=", job.backend_used)
      .executeTakeFirst();
    if (!backend) return false;
    const row = await this.db
      .selectFrom("backend_performance")
      .select("id")
      .where("job_id", "=", job.id)
      .where("backend_id", "=", backend.id)
      .orderBy("success", "desc")
      .orderBy("id", "desc")
      .executeTakeFirst();
    if (row) {
      await this.db
        .updateTable("backend_performance")
        .set({ quality_score: quality, user_satisfaction: rating })
        .where("id", "=", row.id)
        .execute();
      return true;
    }
    await this.db
      .insertInto("backend_performance")
      .values({
        backend_id: backend.id,
        job_id: job.id,
        response_time_ms: job.execution_time_seconds * 1000,
        quality_score: quality,
        cost_cents: job.cost_cents,
        job_type: job.job_type,
        model_used: job.model_used,
        success: job.status === "completed" ? 1 : 0,
        user_satisfaction: rating,
        executed_date: nowIso,
      })
      .execute();
    return true;
  }
}
