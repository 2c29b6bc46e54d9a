import type { Kysely } from "kysely";
import { BackendRatingsRepo } from "../store/backends/ratings-repo.ts";
import type { Database } from "../store/schema.ts";

/**
 * Backend learning from ratings: a rating (1–5) of a job becomes that job's quality score,
 * (rating − 1) / 4, and user_satisfaction on its backend_performance row (added when the call was
 * never recorded). The backend manager reads the resulting per-(backend, job type) scores through
 * its ScoresPort, which BackendsRepo.scores() implements (src/store/backends/repo.ts).
 */
export interface RatedJob {
  jobId: number;
  rating: number;
  nowIso: string;
}

/** A rating's share of quality, 0 (rated 1) to 1 (rated 5). */
const qualityOfRating = (rating: number): number => (rating - 1) / 4;

/** Records the rating on the job's backend call; false for a rating out of range or an unknown job. */
export async function rateBackendOutcome(db: Kysely<Database>, r: RatedJob): Promise<boolean> {
  if (!Number.isInteger(r.rating) || r.rating < 1 || r.rating > 5) return false;
  return new BackendRatingsRepo(db).rateJob(r.jobId, r.rating, qualityOfRating(r.rating), r.nowIso);
}
