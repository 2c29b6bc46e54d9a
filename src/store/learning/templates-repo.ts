import { type Kysely, sql } from "kysely";
import { z } from "zod";
import { parseOptionalJsonColumn } from "../json-column.ts";
import type { Database, QuestionTemplateRow } from "../schema.ts";

/**
 * question_templates: the questions Hermes can ask, and their running statistics. Suggested
 * answers live in `style_variations` JSON (`{suggestions, expected_seconds}`), keywords in
 * `trigger_patterns` (`{keywords}`), idea types in `applicable_input_types` (see migration 005).
 *
 * Statistics are recomputed from the conversations rows of the template (idempotent, never drift):
 * - usage_count: times asked;
 * - success_rate: share of answers that raised clarity and did not precede a worse refined draft;
 * - clarity_improvement_avg: mean clarity gained per answer;
 * - user_satisfaction_avg: mean rating (1–5) of the refined drafts it contributed to;
 * - time_saved_avg: mean seconds an answer took less than the mean answer of its category
 *   (positive: people answer this one faster than its alternatives);
 * - effectiveness_trend: success of the last 10 answers against the 20 before (improving, stable, declining);
 * - last_used.
 * usage_count and last_used move at every use (QuestionStepRepo.ask, with the question asked); the averages cover the latest
 * STATS_WINDOW answers (refreshStats, after each answer and each rated outcome).
 */
export interface QuestionTemplate {
  id: number;
  name: string;
  category: string;
  text: string;
  suggestions: string[];
  expectedSeconds: number;
  types: string[];
  keywords: string[];
  timing: string | null;
  active: boolean;
  stats: TemplateStats;
}

export interface TemplateStats {
  usageCount: number;
  successRate: number;
  clarityImprovementAvg: number;
  userSatisfactionAvg: number;
  timeSavedAvg: number;
  trend: string | null;
  lastUsed: string | null;
}

// Missing keys (and NULL columns) take defaults; JSON that is not of these shapes is an error.
const StyleVariations = z.object({
  suggestions: z.array(z.string()).default([]),
  expected_seconds: z.number().positive().default(8),
});
const Triggers = z.object({ keywords: z.array(z.string()).default([]) });
const Types = z.array(z.string());

export function toTemplate(row: QuestionTemplateRow): QuestionTemplate {
  const at = (column: string) => ({ table: "question_templates", column, rowId: row.id });
  const style = parseOptionalJsonColumn(StyleVariations, row.style_variations, at("style_variations")) ?? {
    suggestions: [],
    expected_seconds: 8,
  };
  return {
    id: row.id,
    name: row.template_name,
    category: row.question_category,
    text: row.question_template,
    suggestions: style.suggestions.slice(0, 4),
    expectedSeconds: style.expected_seconds,
    types: parseOptionalJsonColumn(Types, row.applicable_input_types, at("applicable_input_types")) ?? [],
    keywords: parseOptionalJsonColumn(Triggers, row.trigger_patterns, at("trigger_patterns"))?.keywords ?? [],
    timing: row.optimal_timing,
    active: row.is_active === 1,
    stats: {
      usageCount: row.usage_count,
      successRate: row.success_rate,
      clarityImprovementAvg: row.clarity_improvement_avg,
      userSatisfactionAvg: row.user_satisfaction_avg,
      timeSavedAvg: row.time_saved_avg,
      trend: row.effectiveness_trend,
      lastUsed: row.last_used,
    },
  };
}

/** Averages cover a template's latest answers (and its category's, for time saved). */
export const STATS_WINDOW = 100;

const SUCCESS = sql<number>`CASE WHEN c.clarity_improvement > 0
  AND coalesce(json_extract(c.optimization_suggested, '$.quality_improvement'), 0) >= 0 THEN 1.0 ELSE 0.0 END`;

export class TemplatesRepo {
  private readonly db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.db = db;
  }

  async active(): Promise<QuestionTemplate[]> {
    const rows = await this.db
      .selectFrom("question_templates")
      .selectAll()
      .where("is_active", "=", 1)
      .orderBy("id")
      .execute();
    return rows.map(toTemplate);
  }

  async byId(id: number): Promise<QuestionTemplate | undefined> {
    const row = await this.db
      .selectFrom("question_templates")
      .selectAll()
      .where("id", "=", id)
      .executeTakeFirst();
    return row ? toTemplate(row) : undefined;
  }

  /** A question taken back before it was answered (its answer's undo removed it): one use fewer. */
  async unrecordUse(templateId: number): Promise<void> {
    await this.db
      .updateTable("question_templates")
      .set((eb) => ({ usage_count: eb("usage_count", "-", 1) }))
      .where("id", "=", templateId)
      .where("usage_count", ">", 0)
      .execute();
  }

  /**
   * Recomputes a template's averages from its latest STATS_WINDOW answers (current, and bounded
   * work per update).
   */
  async refreshStats(
    templateId: number,
    nowIso: string,
    category?: string,
  ): Promise<TemplateStats | undefined> {
    const slot =
      category ??
      (
        await this.db
          .selectFrom("question_templates")
          .select(["question_category"])
          .where("id", "=", templateId)
          .executeTakeFirst()
      )?.question_category;
    if (slot === undefined) return undefined;
    const usage = await this.db
      .selectFrom("question_templates")
      .select("usage_count")
      .where("id", "=", templateId)
      .executeTakeFirstOrThrow();
    const rows = await this.recentAnswers(templateId);
    const peerSeconds = await this.peerAverageSeconds(slot);
    const rated = rows.filter((r) => r.satisfaction !== null).map((r) => Number(r.satisfaction));
    const stats: TemplateStats = {
      usageCount: usage.usage_count,
      successRate: round(mean(rows.map((r) => Number(r.success)))),
      clarityImprovementAvg: round(mean(rows.map((r) => r.clarity))),
      userSatisfactionAvg: round(mean(rated)),
      timeSavedAvg: rows.length === 0 ? 0 : round((peerSeconds ?? 0) - mean(rows.map((r) => r.seconds))),
      trend: trendOf(rows.slice(0, 30).map((r) => Number(r.success))),
      lastUsed: rows[0]?.asked ?? null,
    };
    await this.db
      .updateTable("question_templates")
      .set({
        success_rate: stats.successRate,
        clarity_improvement_avg: stats.clarityImprovementAvg,
        user_satisfaction_avg: stats.userSatisfactionAvg,
        time_saved_avg: stats.timeSavedAvg,
        effectiveness_trend: stats.trend,
        last_updated: nowIso,
      })
      .where("id", "=", templateId)
      .execute();
    return stats;
  }

  /** The template's latest STATS_WINDOW real answers, newest first. */
  private async recentAnswers(templateId: number) {
    const recent = await sql<{
      success: number;
      clarity: number;
      satisfaction: number | null;
      seconds: number;
      asked: string;
    }>`SELECT ${SUCCESS} AS success, c.clarity_improvement AS clarity, c.user_satisfaction AS satisfaction,
        c.response_time_seconds AS seconds, c.asked_date AS asked
      FROM conversations c
      WHERE c.question_template_id = +${templateId} AND c.conversation_position IS NOT NULL
        AND c.responded_date IS NOT NULL AND c.user_response != '(enough)'
      ORDER BY c.id DESC LIMIT ${sql.lit(STATS_WINDOW)}`.execute(this.db);
    return recent.rows;
  }

  /** Average answer time of the latest STATS_WINDOW answers to any question of the slot. */
  private async peerAverageSeconds(slot: string): Promise<number | null | undefined> {
    const peers = await sql<{ seconds: number | null }>`SELECT avg(seconds) AS seconds FROM (
        SELECT c.response_time_seconds AS seconds FROM conversations c
        WHERE c.question_type = +${slot} AND c.conversation_position IS NOT NULL
          AND c.responded_date IS NOT NULL AND c.user_response != '(enough)'
        ORDER BY c.id DESC LIMIT ${sql.lit(STATS_WINDOW)})`.execute(this.db);
    return peers.rows[0]?.seconds;
  }
}

/** Newest first: the last 10 against the (up to) 20 before them. */
export function trendOf(successesNewestFirst: number[]): string {
  if (successesNewestFirst.length < 15) return "stable";
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  const delta = mean(successesNewestFirst.slice(0, 10)) - mean(successesNewestFirst.slice(10));
  return delta > 0.1 ? "improving" : delta < -0.1 ? "declining" : "stable";
}

const round = (n: number) => Math.round(n * 1000) / 1000;
const mean = (xs: number[]) => (xs.length === 0 ? 0 : xs.reduce((a, x) => a + x, 0) / xs.length);
