import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { rateBackendOutcome } from "../../src/learning/backend-scores.ts";
import {
  analyzeEffectiveness,
  creditOutcome,
  normaliseAnswer,
  predictionAccuracy,
} from "../../src/learning/effectiveness.ts";
import { SLOTS } from "../../src/learning/quick-analysis.ts";
import { betaSample, mulberry32, normal, seedOf } from "../../src/learning/random.ts";
import { BackendsRepo } from "../../src/store/backends/repo.ts";
import type { HermesDatabase } from "../../src/store/database.ts";
import { TemplatesRepo, trendOf } from "../../src/store/learning/templates-repo.ts";
import { memoryDb } from "../helpers/memory-db.ts";

let db: HermesDatabase;
beforeEach(async () => {
  db = await memoryDb();
});
afterEach(async () => {
  await db.close();
});

describe("seeded question templates (migration 005)", () => {
  it("has at least 3 templates per category, each with 2–4 suggestions, idea types and a {{topic}}", async () => {
    const templates = await new TemplatesRepo(db.db).active();
    for (const slot of SLOTS) {
      const mine = templates.filter((t) => t.category === slot);
      expect(mine.length, slot).toBeGreaterThanOrEqual(3);
      expect(mine.filter((t) => t.types.length === 5).length, slot).toBeGreaterThanOrEqual(2);
    }
    for (const t of templates) {
      expect(t.suggestions.length, t.name).toBeGreaterThanOrEqual(2);
      expect(t.suggestions.length, t.name).toBeLessThanOrEqual(4);
      expect(t.text, t.name).toContain("{{topic}}");
      expect(t.types.length, t.name).toBeGreaterThan(0);
      expect(t.expectedSeconds, t.name).toBeGreaterThan(0);
      expect(t.stats.usageCount).toBe(0);
    }
  });

  it("keeps template statistics current from its conversations rows", async () => {
    const repo = new TemplatesRepo(db.db);
    const [t] = await repo.active();
    if (!t) throw new Error("no templates");
    db.sqlite
      .prepare("INSERT INTO idea_threads (uuid, title, original_request) VALUES ('a', 't', 'i')")
      .run();
    const insert = db.sqlite.prepare(
      `INSERT INTO conversations (thread_id, question_asked, question_type, question_template_id, conversation_position,
        user_response, response_type, clarity_improvement, response_time_seconds, user_satisfaction, asked_date, responded_date,
        optimization_suggested) VALUES (1, 'q', ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    insert.run(
      t.category,
      t.id,
      "yes",
      "direct_answer",
      0.2,
      4,
      5,
      "2026-01-01T00:00:01Z",
      "x",
      '{"quality_improvement":0.3}',
    );
    insert.run(t.category, t.id, "(skipped)", "clarification", 0, 2, null, "2026-01-01T00:00:02Z", "x", "{}");
    insert.run(
      t.category,
      t.id,
      "no",
      "direct_answer",
      0.1,
      6,
      2,
      "2026-01-01T00:00:03Z",
      "x",
      '{"quality_improvement":-0.2}',
    );
    // One use, as QuestionStepRepo.ask counts it with the question (test/store/question-step-repo.test.ts).
    db.sqlite
      .prepare("UPDATE question_templates SET usage_count = usage_count + 1, last_used = ? WHERE id = ?")
      .run("2026-01-01T00:00:03Z", t.id);
    const stats = await repo.refreshStats(t.id, "2026-01-02T00:00:00Z");
    expect(stats).toMatchObject({
      usageCount: 1,
      successRate: 0.333,
      clarityImprovementAvg: 0.1,
      userSatisfactionAvg: 3.5,
      timeSavedAvg: 0,
      trend: "stable",
    });
    const row = db.sqlite.prepare("SELECT * FROM question_templates WHERE id = ?").get(t.id) as Record<
      string,
      unknown
    >;
    expect(row).toMatchObject({
      success_rate: 0.333,
      user_satisfaction_avg: 3.5,
      last_used: "2026-01-01T00:00:03Z",
    });
    expect(trendOf([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0])).toBe("improving");
    expect(trendOf([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1])).toBe("declining");
  });
});

describe("effectiveness", () => {
  it("computes clarity, quality and satisfaction improvement and efficiency per minute", () => {
    const e = analyzeEffectiveness(
      { clarity: 0.2, quality: 0.25, satisfaction: 2 },
      { clarity: 0.5, quality: 0.75, satisfaction: 4 },
      30,
    );
    expect(e).toEqual({
      clarity_improvement: 0.3,
      quality_improvement: 0.5,
      satisfaction_improvement: 0.5,
      total_improvement: 1.3,
      efficiency_score: 2.6,
    });
    expect(analyzeEffectiveness({ clarity: 0.2 }, { clarity: 0.2 }, 0).efficiency_score).toBe(0);
  });

  it("prediction accuracy: 1 for a tapped suggestion, word overlap for free text, 0 for don't know", () => {
    expect(predictionAccuracy("suggestion", "Save time", ["Save time"])).toBe(1);
    expect(predictionAccuracy("text", "save a lot of time", ["Save time", "Save money"])).toBeCloseTo(
      0.667,
      3,
    );
    expect(predictionAccuracy("unknown", "", ["x"])).toBe(0);
    expect(predictionAccuracy("text", "My Team!", [], "my team")).toBe(1);
    expect(predictionAccuracy("text", "the board", [], "my team")).toBe(0);
    expect(normaliseAnswer("  My  Team! ")).toBe("my team");
  });

  it("credits an outcome to the questions by their expected contribution", () => {
    const gains = { intent: 0.3, constraints: 0.2, success: 0.2, context: 0.15, scope: 0 };
    const credit = creditOutcome(
      [
        { id: 1, slot: "intent", progress: 1 },
        { id: 2, slot: "context", progress: 1 },
        { id: 3, slot: "scope", progress: 1 },
      ],
      gains,
      0.45,
    );
    expect(credit.get(1)).toBeCloseTo(0.3 * (0.45 / 0.45), 3);
    expect(credit.get(2)).toBeCloseTo(0.15, 3);
    expect(credit.get(3)).toBe(0);
  });
});

describe("backend scores", () => {
  it("a rating becomes the quality of the job's backend for its job type", async () => {
    db.sqlite
      .prepare(
        "INSERT INTO backends (name, backend_type, config) VALUES ('ollama', 'local', '{}'), ('openrouter', 'remote_api', '{}')",
      )
      .run();
    db.sqlite
      .prepare("INSERT INTO idea_threads (uuid, title, original_request) VALUES ('a', 't', 'i')")
      .run();
    const job = (backend: string, type: string) =>
      Number(
        db.sqlite
          .prepare(
            "INSERT INTO jobs (thread_id, job_type, status, backend_used, execution_time_seconds) VALUES (1, ?, 'completed', ?, 2) RETURNING id",
          )
          .pluck()
          .get(type, backend),
      );
    const j1 = job("ollama", "creation");
    db.sqlite
      .prepare(
        "INSERT INTO backend_performance (backend_id, job_id, response_time_ms, job_type, success) VALUES (1, ?, 10000, 'creation', 1)",
      )
      .run(j1);
    const scores = () => new BackendsRepo(db.sqlite).scores();
    expect(await rateBackendOutcome(db.db, { jobId: j1, rating: 5, nowIso: "2026-01-01T00:00:00Z" })).toBe(
      true,
    );
    // The manager's learned scores (BackendsRepo.scores, its ScoresPort) see the rating.
    expect(scores().get("ollama|creation")).toMatchObject({
      quality: 1,
      reliability: 1,
      samples: 1,
      qualitySamples: 1,
    });
    // A job whose call was never recorded gets a row.
    const j2 = job("openrouter", "research");
    expect(await rateBackendOutcome(db.db, { jobId: j2, rating: 2, nowIso: "2026-01-01T00:00:00Z" })).toBe(
      true,
    );
    expect(scores().get("openrouter|research")?.quality).toBe(0.25);
    const perf = db.sqlite
      .prepare("SELECT user_satisfaction, quality_score FROM backend_performance WHERE job_id = ?")
      .get(j2);
    expect(perf).toEqual({ user_satisfaction: 2, quality_score: 0.25 });
    expect([...scores().keys()].sort()).toEqual([
      "ollama|*",
      "ollama|creation",
      "openrouter|*",
      "openrouter|research",
    ]);
    expect(await rateBackendOutcome(db.db, { jobId: j1, rating: 7, nowIso: "x" })).toBe(false);
  });
});

describe("seeded random", () => {
  it("is reproducible and roughly right", () => {
    const a = mulberry32(seedOf("x"));
    const b = mulberry32(seedOf("x"));
    expect(Array.from({ length: 5 }, a)).toEqual(Array.from({ length: 5 }, b));
    const r = mulberry32(1);
    const xs = Array.from({ length: 4000 }, () => normal(r));
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(Math.abs(mean)).toBeLessThan(0.06);
    const bs = Array.from({ length: 4000 }, () => betaSample(r, 8, 2));
    expect(bs.reduce((s, x) => s + x, 0) / bs.length).toBeCloseTo(0.8, 1);
  });
});

describe("migration 005", () => {
  it("adds user_preferences.user_id and rolls back cleanly", async () => {
    const cols = () =>
      (db.sqlite.prepare("PRAGMA table_info(user_preferences)").all() as { name: string }[]).map(
        (c) => c.name,
      );
    expect(cols()).toContain("user_id");
    const { Migrator } = await import("kysely/migration");
    const { migrations } = await import("../../migrations/index.ts");
    const { staticMigrationProvider } = await import("../../src/store/migrator.ts");
    const migrator = new Migrator({ db: db.db, provider: staticMigrationProvider(migrations) });
    const down = await migrator.migrateTo("004_queue_indexes");
    expect(down.error).toBeUndefined();
    expect(cols()).not.toContain("user_id");
    expect(db.sqlite.prepare("SELECT count(*) AS n FROM question_templates").get()).toEqual({ n: 0 });
  });
});
