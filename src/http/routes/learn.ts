import type { Hono } from "hono";
import { z } from "zod";
import type { FeedbackInput } from "../../engine/conversation/types.ts";
import { HermesError } from "../../errors.ts";
import type { ApiEnv } from "../envelope.ts";
import { jsonBody, validate } from "../middleware/body.ts";
import { feedbackSchema } from "../schemas.ts";
import { apiActor, type RouteContext, resolveThread } from "./context.ts";

const patternsQuery = z.strictObject({
  category: z
    .string()
    .regex(/^[a-z_]{1,40}$/, "must be a pattern category")
    .optional(),
  min_confidence: z.coerce.number().min(0).max(1).optional(),
  limit: z.coerce.number().int().min(1).max(500).optional(),
});

/** Meta-learning: /api/learn/patterns and /api/learn/feedback. */
export function registerLearnRoutes(api: Hono<ApiEnv>, rc: RouteContext): void {
  patternsRoute(api, rc);
  feedbackRoute(api, rc);
}

function patternsRoute(api: Hono<ApiEnv>, rc: RouteContext): void {
  const { deps, envelopes } = rc;
  api.get("/api/learn/patterns", async (c) => {
    const query = validate(patternsQuery, c.req.query(), "query");
    // One path, whatever is wired: the learned_patterns table, filtered as asked.
    const rows = await deps.threads.patterns({
      category: query.category,
      minConfidence: query.min_confidence,
      limit: query.limit,
    });
    const templates = await deps.threads.questionTemplates(query.limit ?? 100);
    const patterns = rows.map((p) => ({
      id: p.id,
      name: p.pattern_name,
      category: p.pattern_category,
      description: p.pattern_description,
      confidence: p.confidence_level,
      validation_count: p.validation_count,
      success_count: p.success_count,
      success_rate: p.validation_count > 0 ? p.success_count / p.validation_count : null,
      impact: p.impact_description,
      time_saved_estimate: p.time_saved_estimate,
      quality_improvement_estimate: p.quality_improvement_estimate,
      last_applied: p.last_applied,
      last_validated: p.last_validated,
    }));
    return envelopes.ok(c, {
      patterns,
      count: patterns.length,
      confidence_levels: Object.fromEntries(patterns.map((p) => [p.name, p.confidence])),
      success_rates: Object.fromEntries(patterns.map((p) => [p.name, p.success_rate])),
      question_templates: templates.map((t) => ({
        id: t.id,
        name: t.template_name,
        category: t.question_category,
        usage_count: t.usage_count,
        success_rate: t.success_rate,
        clarity_improvement_avg: t.clarity_improvement_avg,
        user_satisfaction_avg: t.user_satisfaction_avg,
        active: t.is_active === 1,
        trend: t.effectiveness_trend,
      })),
    });
  });
}

function feedbackRoute(api: Hono<ApiEnv>, rc: RouteContext): void {
  const { deps, envelopes } = rc;
  api.post("/api/learn/feedback", async (c) => {
    const { value } = await jsonBody(c, feedbackSchema(), rc.bodyLimit());
    const thread = await resolveThread(rc, c, value.thread_id);
    const job = await deps.threads.job(thread, value.job_id);
    if (!job)
      throw new HermesError("NOT_FOUND", `Thread ${thread.uuid.slice(0, 8)} has no job ${value.job_id}.`, {
        details: "job_id",
      });
    const input: FeedbackInput =
      value.rating !== undefined
        ? { rating: value.rating as 1 | 2 | 3 | 4 | 5 }
        : { adjust: value.adjust ?? "shorter" };
    const out = await deps.threads.feedback(apiActor(c), job.id, input);
    return envelopes.ok(c, {
      feedback_recorded: out.recorded,
      learning_updated: out.learned !== undefined,
      learned: out.learned ?? null,
      follow_up_job_id: out.followUpJobId ?? null,
    });
  });
}
