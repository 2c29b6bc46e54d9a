import type { Kysely } from "kysely";
import { precompile } from "../precompiled.ts";
import type { Database, UserPreferencesTable } from "../schema.ts";

/**
 * user_preferences, one row per (user, category, key). The owner is the `user_id` column added by
 * migration 005 (the spec's table has none); `applicable_contexts` JSON says where it applies
 * (`{"user_id": "...", "idea_types": [...] | null}`).
 */
export type PreferenceSource = "explicit_user_feedback" | "observed_pattern" | "inference";

export interface PreferenceRecord {
  id: number;
  userId: string;
  category: string;
  key: string;
  value: string;
  confidence: number;
  stability: number;
  usageCount: number;
  validationCount: number;
  correctionCount: number;
  source: PreferenceSource;
  lastApplied: string | null;
  lastUpdated: string;
}

// Until src/store/schema.ts declares it, the column 005 adds is typed here.
type WithOwner = Omit<Database, "user_preferences"> & {
  user_preferences: UserPreferencesTable & { user_id: string | null };
};

export interface NewPreference {
  userId: string;
  category: string;
  key: string;
  value: string;
  confidence: number;
  stability: number;
  source: PreferenceSource;
  learnedFrom: number | null;
  now: string;
}

export interface PreferenceChange {
  value?: string;
  confidence?: number;
  stability?: number;
  validationCount?: number;
  correctionCount?: number;
  usageCount?: number;
  source?: PreferenceSource;
  lastApplied?: string;
  learnedFrom?: number | null;
  now: string;
}

const SOURCES: readonly string[] = ["explicit_user_feedback", "observed_pattern", "inference"];

export class PreferencesRepo {
  private readonly db: Kysely<WithOwner>;

  // Read for every draft and every new idea: compiled once (../precompiled.ts).
  private readonly forUserQuery;

  constructor(db: Kysely<Database>) {
    this.db = db as unknown as Kysely<WithOwner>;
    const owned = this.db;
    this.forUserQuery = precompile(owned, 1, (userId: string) =>
      owned.selectFrom("user_preferences").selectAll().where("user_id", "=", userId).orderBy("id"),
    );
  }

  async forUser(userId: string): Promise<PreferenceRecord[]> {
    const rows = (await this.forUserQuery(userId)).rows;
    return rows.map((r) => ({
      id: r.id,
      userId: r.user_id ?? userId,
      category: r.preference_category,
      key: r.preference_key,
      value: r.preference_value,
      confidence: r.confidence_score,
      stability: r.stability_score,
      usageCount: r.usage_count,
      validationCount: r.validation_count,
      correctionCount: r.correction_count,
      source: (SOURCES.includes(r.source ?? "") ? r.source : "inference") as PreferenceSource,
      lastApplied: r.last_applied,
      lastUpdated: r.last_updated,
    }));
  }

  async insert(p: NewPreference): Promise<number> {
    const row = await this.db
      .insertInto("user_preferences")
      .values({
        user_id: p.userId,
        preference_category: p.category,
        preference_key: p.key,
        preference_value: p.value,
        confidence_score: p.confidence,
        stability_score: p.stability,
        applicable_contexts: JSON.stringify({ user_id: p.userId, idea_types: null }),
        learned_from_interaction_id: p.learnedFrom,
        source: p.source,
        created_date: p.now,
        last_updated: p.now,
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    return row.id;
  }

  async update(id: number, c: PreferenceChange): Promise<void> {
    await this.db
      .updateTable("user_preferences")
      .set({
        last_updated: c.now,
        ...(c.value !== undefined ? { preference_value: c.value } : {}),
        ...(c.confidence !== undefined ? { confidence_score: c.confidence } : {}),
        ...(c.stability !== undefined ? { stability_score: c.stability } : {}),
        ...(c.validationCount !== undefined ? { validation_count: c.validationCount } : {}),
        ...(c.correctionCount !== undefined ? { correction_count: c.correctionCount } : {}),
        ...(c.usageCount !== undefined ? { usage_count: c.usageCount } : {}),
        ...(c.source !== undefined ? { source: c.source } : {}),
        ...(c.lastApplied !== undefined ? { last_applied: c.lastApplied } : {}),
        ...(c.learnedFrom !== undefined ? { learned_from_interaction_id: c.learnedFrom } : {}),
      })
      .where("id", "=", id)
      .execute();
  }
}
