import type { ThreadRecord } from "../../store/threads/repo.ts";
import type { ThreadQueriesDeps } from "./records.ts";

/** What the learning tables hold, for the HTTP API: learned patterns and question templates. */

/** Learned patterns, most confident first. */
export async function learnedPatterns(
  d: ThreadQueriesDeps,
  filter: { category?: string; minConfidence?: number; limit?: number } = {},
) {
  let q = d.db
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
export async function questionTemplates(d: ThreadQueriesDeps, limit = 100) {
  return d.db
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
export async function applicablePatterns(d: ThreadQueriesDeps, thread: ThreadRecord, minConfidence: number) {
  const all = await learnedPatterns(d, { minConfidence, limit: 500 });
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
