import type { Kysely } from "kysely";
import type { Database } from "../schema.ts";

/** What the learning tables hold, as the HTTP API lists it: learned patterns and question templates. */
export interface PatternFilter {
  category?: string | undefined;
  minConfidence?: number | undefined;
  limit?: number | undefined;
}

export interface PatternRow {
  id: number;
  pattern_name: string;
  pattern_category: string;
  pattern_description: string | null;
  trigger_conditions: string;
  confidence_level: number;
  validation_count: number;
  success_count: number;
  impact_description: string | null;
  time_saved_estimate: number;
  quality_improvement_estimate: number;
  recommended_actions: string | null;
  last_applied: string | null;
  last_validated: string | null;
}

export interface TemplateRow {
  id: number;
  template_name: string;
  question_category: string;
  usage_count: number;
  success_rate: number;
  clarity_improvement_avg: number;
  user_satisfaction_avg: number;
  is_active: number;
  effectiveness_trend: string | null;
}

export class LearningListingRepo {
  private readonly db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.db = db;
  }

  /** Learned patterns, most confident first, filtered in SQL (default limit 100). */
  async patterns(filter: PatternFilter = {}): Promise<PatternRow[]> {
    let q = this.db
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
    return (await q
      .orderBy("confidence_level", "desc")
      .orderBy("id")
      .limit(filter.limit ?? 100)
      .execute()) as PatternRow[];
  }

  /** Question templates with their measured effectiveness, most successful first. */
  async templates(limit = 100): Promise<TemplateRow[]> {
    return (await this.db
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
      .execute()) as TemplateRow[];
  }
}
