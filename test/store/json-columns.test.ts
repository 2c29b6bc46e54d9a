import { afterEach, describe, expect, it } from "vitest";
import { parsePlan, parseState } from "../../src/engine/conversation/records.ts";
import { BackendsRepo } from "../../src/store/backends/repo.ts";
import type { HermesDatabase } from "../../src/store/database.ts";
import { UnreadableRowError } from "../../src/store/json-column.ts";
import { PatternsRepo } from "../../src/store/learning/patterns-repo.ts";
import { TemplatesRepo } from "../../src/store/learning/templates-repo.ts";
import { KvRepo } from "../../src/store/system/kv-repo.ts";
import { memoryDb } from "../helpers/memory-db.ts";

/** Every JSON column outside the jobs table: what Hermes wrote reads back; anything else is an error. */

let db: HermesDatabase | undefined;
afterEach(async () => {
  await db?.close();
  db = undefined;
});

async function open(): Promise<HermesDatabase> {
  db = await memoryDb();
  return db;
}

const NOW = "2026-01-01T00:00:00.000Z";

describe("question templates", () => {
  it("a malformed style_variations is an error naming the row", async () => {
    const d = await open();
    const repo = new TemplatesRepo(d.db);
    const [first] = await repo.active();
    if (!first) throw new Error("no seeded template");
    expect(first.suggestions.length).toBeGreaterThan(0);
    d.sqlite.prepare("UPDATE question_templates SET style_variations = '{oops' WHERE id = ?").run(first.id);
    await expect(repo.byId(first.id)).rejects.toMatchObject({
      name: "UnreadableRowError",
      table: "question_templates",
      column: "style_variations",
      rowId: first.id,
    });
  });

  it("suggestions of the wrong type are an error, not an empty list", async () => {
    const d = await open();
    const repo = new TemplatesRepo(d.db);
    const [first] = await repo.active();
    d.sqlite
      .prepare(`UPDATE question_templates SET style_variations = '{"suggestions": "a, b"}' WHERE id = ?`)
      .run(first?.id);
    await expect(repo.byId(first?.id ?? 0)).rejects.toBeInstanceOf(UnreadableRowError);
  });
});

describe("learned patterns", () => {
  const pattern = {
    name: "p",
    description: "d",
    impact: "low",
    userId: "u1",
    ideaType: null,
    slot: "context",
    value: "garden",
    confidence: 0.8,
    validationCount: 3,
    successCount: 3,
    timeSavedEstimate: 5,
    templateIds: [],
    now: NOW,
  };

  it("a malformed pattern_evolution is an error; a trigger of another kind is left out", async () => {
    const d = await open();
    const repo = new PatternsRepo(d.db);
    const saved = await repo.insert(pattern);
    expect((await repo.all()).map((p) => p.value)).toEqual(["garden"]);
    d.sqlite.prepare(`UPDATE learned_patterns SET trigger_conditions = '{"other": 1}'`).run();
    expect(await repo.all()).toEqual([]);
    d.sqlite
      .prepare(`UPDATE learned_patterns SET trigger_conditions = '{"user_id":"u1","slot":"context"}'`)
      .run();
    d.sqlite.prepare("UPDATE learned_patterns SET pattern_evolution = 'not json'").run();
    await expect(repo.all()).rejects.toMatchObject({ column: "pattern_evolution", rowId: saved.id });
  });
});

describe("kv store", () => {
  it("reads back what it wrote; a malformed value is an error, not a missing key", async () => {
    const d = await open();
    const kv = new KvRepo<{ step: number }>(d.sqlite);
    kv.write("k", { step: 2 });
    expect(kv.read("k")).toEqual({ step: 2 });
    expect(kv.read("absent")).toBeUndefined();
    d.sqlite.prepare("UPDATE kv_store SET value = '{step' WHERE key = 'k'").run();
    expect(() => kv.read("k")).toThrow(UnreadableRowError);
  });
});

describe("backend rows", () => {
  const definition = {
    name: "local",
    type: "ollama",
    enabled: true,
    primary: true,
    free: true,
    preferredFor: ["creation"],
    fallbacks: [],
    origin: "config" as const,
    model: "llama3",
  };

  it("a malformed config is an error; a comma-separated list is still read", async () => {
    const d = await open();
    const repo = new BackendsRepo(d.sqlite);
    repo.saveDefinition(definition, NOW);
    expect(repo.rows()[0]).toMatchObject({
      name: "local",
      config: { model: "llama3" },
      preferredFor: ["creation"],
    });
    d.sqlite.prepare("UPDATE backends SET preferred_for_job_types = 'creation, analysis'").run();
    expect(repo.rows()[0]?.preferredFor).toEqual(["creation", "analysis"]);
    d.sqlite.prepare("UPDATE backends SET config = '{\"model\": '").run();
    expect(() => repo.rows()).toThrow(UnreadableRowError);
  });
});

describe("conversation state and question plans", () => {
  it("a malformed state is an error; no state, or an older version, starts afresh", () => {
    expect(parseState(null)).toBeUndefined();
    expect(parseState('{"v": 0}')).toBeUndefined();
    expect(() => parseState("{v:1")).toThrow(UnreadableRowError);
    expect(() => parseState("[1]")).toThrow(UnreadableRowError);
  });

  it("a malformed plan is an error, not a plan without suggestions", () => {
    expect(parsePlan(null)).toEqual({ suggestions: [] });
    expect(parsePlan('{"suggestions": ["a", 2], "value": 1}')).toEqual({ suggestions: ["a"], value: 1 });
    expect(() => parsePlan("{")).toThrow(UnreadableRowError);
  });
});
