import { type Kysely, sql } from "kysely";
import { z } from "zod";
import { parseOptionalJsonColumn } from "../json-column.ts";
import { precompile } from "../precompiled.ts";
import type { Database, LearnedPatternRow, LearnedPatternUpdate } from "../schema.ts";

/**
 * learned_patterns. Hermes' patterns so far are "user_behavior" prefills: for one user (and one
 * idea type, or any), the same answer to a slot again and again. JSON columns:
 * - trigger_conditions: `{"user_id", "idea_type" (null = any type), "slot"}`;
 * - recommended_actions: `{"action": "prefill_slot", "slot", "value"}`;
 * - optimization_strategies: `{"skip_question": slot}`;
 * - question_template_ids: the templates of that slot;
 * - pattern_evolution: `{"applied": n, "corrections": n, "history": [{at, event, detail}]}` (last 20).
 */
export interface PatternRecord {
  id: number;
  name: string;
  category: string;
  description: string | null;
  userId: string;
  ideaType: string | null;
  slot: string;
  value: string;
  confidence: number;
  validationCount: number;
  successCount: number;
  timeSavedEstimate: number;
  qualityImprovementEstimate: number;
  lastApplied: string | null;
  lastValidated: string | null;
  evolution: PatternEvolution;
}

export interface PatternEvolution {
  applied: number;
  corrections: number;
  history: { at: string; event: string; detail?: string | undefined }[];
}

const Trigger = z.object({
  user_id: z.string(),
  idea_type: z.string().nullable().default(null),
  slot: z.string(),
});
const Action = z.object({ value: z.string() });
const Evolution = z.object({
  applied: z.number().default(0),
  corrections: z.number().default(0),
  history: z
    .array(z.object({ at: z.string(), event: z.string(), detail: z.string().optional() }))
    .default([]),
});

/**
 * A row whose JSON is not JSON (or not of its shape) is an error; a row whose trigger is valid JSON
 * of another kind is not one of these prefill patterns and is left out.
 */
export function toPattern(row: LearnedPatternRow): PatternRecord | undefined {
  const at = (column: string) => ({ table: "learned_patterns", column, rowId: row.id });
  const trigger = Trigger.safeParse(
    parseOptionalJsonColumn(z.unknown(), row.trigger_conditions, at("trigger_conditions")),
  );
  if (!trigger.success) return undefined;
  return {
    id: row.id,
    name: row.pattern_name,
    category: row.pattern_category,
    description: row.pattern_description,
    userId: trigger.data.user_id,
    ideaType: trigger.data.idea_type,
    slot: trigger.data.slot,
    value: parseOptionalJsonColumn(Action, row.recommended_actions, at("recommended_actions"))?.value ?? "",
    confidence: row.confidence_level,
    validationCount: row.validation_count,
    successCount: row.success_count,
    timeSavedEstimate: row.time_saved_estimate,
    qualityImprovementEstimate: row.quality_improvement_estimate,
    lastApplied: row.last_applied,
    lastValidated: row.last_validated,
    evolution: parseOptionalJsonColumn(Evolution, row.pattern_evolution, at("pattern_evolution")) ?? {
      applied: 0,
      corrections: 0,
      history: [],
    },
  };
}

export interface NewPattern {
  name: string;
  description: string;
  impact: string;
  userId: string;
  ideaType: string | null;
  slot: string;
  value: string;
  confidence: number;
  validationCount: number;
  successCount: number;
  timeSavedEstimate: number;
  templateIds: number[];
  now: string;
}

export interface PatternChange {
  value?: string;
  description?: string;
  confidence?: number;
  validationCount?: number;
  successCount?: number;
  timeSavedEstimate?: number;
  qualityImprovementEstimate?: number;
  lastApplied?: string;
  lastValidated?: string;
  evolution?: PatternEvolution;
}

export class PatternsRepo {
  private readonly db: Kysely<Database>;
  // Every new idea reads its user's patterns: compiled once (../precompiled.ts; the json_extract
  // made it the costliest query to build).
  private readonly forUserQuery;

  constructor(db: Kysely<Database>) {
    this.db = db;
    this.forUserQuery = precompile(db, 1, (userId: string) =>
      db
        .selectFrom("learned_patterns")
        .selectAll()
        .where(sql<string>`json_extract(trigger_conditions, '$.user_id')`, "=", userId)
        .orderBy("id"),
    );
  }

  async all(): Promise<PatternRecord[]> {
    const rows = await this.db
      .selectFrom("learned_patterns")
      .selectAll()
      .orderBy("confidence_level", "desc")
      .orderBy("id")
      .execute();
    return rows.map(toPattern).filter((p): p is PatternRecord => p !== undefined);
  }

  async forUser(userId: string): Promise<PatternRecord[]> {
    const { rows } = await this.forUserQuery(userId);
    return rows.map(toPattern).filter((p): p is PatternRecord => p !== undefined);
  }

  async byName(name: string): Promise<PatternRecord | undefined> {
    const row = await this.db
      .selectFrom("learned_patterns")
      .selectAll()
      .where("pattern_name", "=", name)
      .executeTakeFirst();
    return row ? toPattern(row) : undefined;
  }

  async byId(id: number): Promise<PatternRecord | undefined> {
    const row = await this.db
      .selectFrom("learned_patterns")
      .selectAll()
      .where("id", "=", id)
      .executeTakeFirst();
    return row ? toPattern(row) : undefined;
  }

  async insert(p: NewPattern): Promise<PatternRecord> {
    const row = await this.db
      .insertInto("learned_patterns")
      .values({
        pattern_name: p.name,
        pattern_category: "user_behavior",
        pattern_description: p.description,
        trigger_conditions: JSON.stringify({ user_id: p.userId, idea_type: p.ideaType, slot: p.slot }),
        confidence_level: p.confidence,
        validation_count: p.validationCount,
        success_count: p.successCount,
        impact_description: p.impact,
        time_saved_estimate: p.timeSavedEstimate,
        recommended_actions: JSON.stringify({ action: "prefill_slot", slot: p.slot, value: p.value }),
        question_template_ids: JSON.stringify(p.templateIds),
        optimization_strategies: JSON.stringify({ skip_question: p.slot }),
        created_date: p.now,
        last_validated: p.now,
        pattern_evolution: JSON.stringify({
          applied: 0,
          corrections: 0,
          history: [{ at: p.now, event: "discovered", detail: p.value }],
        }),
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    const out = toPattern(row);
    if (!out) throw new Error("pattern row did not parse back");
    return out;
  }

  async update(id: number, slot: string, c: PatternChange): Promise<void> {
    const set: LearnedPatternUpdate = {};
    if (c.value !== undefined)
      set.recommended_actions = JSON.stringify({ action: "prefill_slot", slot, value: c.value });
    if (c.description !== undefined) set.pattern_description = c.description;
    if (c.confidence !== undefined) set.confidence_level = c.confidence;
    if (c.validationCount !== undefined) set.validation_count = c.validationCount;
    if (c.successCount !== undefined) set.success_count = c.successCount;
    if (c.timeSavedEstimate !== undefined) set.time_saved_estimate = c.timeSavedEstimate;
    if (c.qualityImprovementEstimate !== undefined)
      set.quality_improvement_estimate = c.qualityImprovementEstimate;
    if (c.lastApplied !== undefined) set.last_applied = c.lastApplied;
    if (c.lastValidated !== undefined) set.last_validated = c.lastValidated;
    if (c.evolution !== undefined)
      set.pattern_evolution = JSON.stringify({ ...c.evolution, history: c.evolution.history.slice(-20) });
    if (Object.keys(set).length === 0) return;
    await this.db.updateTable("learned_patterns").set(set).where("id", "=", id).execute();
  }
}
