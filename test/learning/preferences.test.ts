import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  APPLY_AT,
  inferFromAnswer,
  PreferenceLearner,
  preferenceList,
  threadStyle,
} from "../../src/learning/preferences.ts";
import type { HermesDatabase } from "../../src/store/database.ts";
import { PreferencesRepo } from "../../src/store/learning/preferences-repo.ts";
import { memoryDb } from "../helpers/memory-db.ts";

let db: HermesDatabase;
let learner: PreferenceLearner;
const NOW = "2026-01-01T00:00:00.000Z";
const shorter = {
  category: "depth",
  key: "length",
  value: "concise",
  source: "explicit_user_feedback",
} as const;
const longer = { ...shorter, value: "detailed" } as const;

beforeEach(async () => {
  db = await memoryDb();
  learner = new PreferenceLearner(new PreferencesRepo(db.db));
});
afterEach(async () => {
  await db.close();
});

describe("preferences", () => {
  it("explicit feedback creates a confident preference owned by the user", async () => {
    expect(await learner.observe("u1", shorter, NOW)).toEqual({ kind: "new", confidence: 0.75 });
    const [p] = await learner.applicable("u1");
    expect(p).toMatchObject({
      userId: "u1",
      value: "concise",
      source: "explicit_user_feedback",
      stability: 0.5,
    });
    expect(await learner.applicable("u2")).toEqual([]);
    const row = db.sqlite
      .prepare("SELECT user_id, applicable_contexts FROM user_preferences")
      .get() as Record<string, string>;
    expect(row.user_id).toBe("u1");
    expect(JSON.parse(row.applicable_contexts ?? "{}")).toMatchObject({ user_id: "u1" });
  });

  it("confirmations raise confidence and stability; a correction lowers them; repeated corrections replace the value", async () => {
    await learner.observe("u1", shorter, NOW);
    const confirmed = await learner.observe("u1", shorter, NOW);
    expect(confirmed.kind).toBe("confirmed");
    expect(confirmed.confidence).toBeGreaterThan(0.75);
    const corrected = await learner.observe("u1", longer, NOW);
    expect(corrected.kind).toBe("corrected");
    expect(corrected.confidence).toBeLessThan(confirmed.confidence);
    const [p] = await learner.forUser("u1");
    expect(p).toMatchObject({ value: "concise", correctionCount: 1 });
    expect(p?.stability).toBeLessThan(0.6);
    const replaced = await learner.observe("u1", longer, NOW);
    expect(replaced.kind).toBe("replaced");
    const [q] = await learner.forUser("u1");
    expect(q).toMatchObject({ value: "detailed", correctionCount: 2 });
  });

  it("inferences start unsure (not applied) and explicit feedback outranks them", async () => {
    const [signal] = inferFromAnswer("scope", "One page");
    expect(signal).toMatchObject({ category: "depth", key: "length", value: "concise", source: "inference" });
    if (!signal) return;
    await learner.observe("u1", signal, NOW);
    const [p] = await learner.forUser("u1");
    expect(p?.confidence).toBeLessThan(APPLY_AT);
    expect(await learner.applicable("u1")).toEqual([]);
    await learner.observe("u1", shorter, NOW);
    const [q] = await learner.forUser("u1");
    expect(q?.source).toBe("explicit_user_feedback");
    expect(q?.confidence).toBeGreaterThanOrEqual(0.75);
    expect(inferFromAnswer("context", "I'm an expert")[0]?.value).toBe("technical");
    expect(inferFromAnswer("intent", "Save money")).toEqual([]);
  });

  it("ratings of drafts written with an inferred preference confirm or weaken it a little", async () => {
    await learner.observe("u1", { ...shorter, source: "observed_pattern" }, NOW);
    const [p] = await learner.forUser("u1");
    if (!p) throw new Error("no preference");
    await learner.fromRating("u1", [p.id], 5, NOW);
    const [up] = await learner.forUser("u1");
    expect(up?.confidence).toBeGreaterThan(p.confidence);
    await learner.fromRating("u1", [p.id], 1, NOW);
    await learner.fromRating("u1", [p.id], 1, NOW);
    const [down] = await learner.forUser("u1");
    expect(down?.confidence).toBeLessThan(up?.confidence ?? 1);
  });

  it("an explicit request stands through unrelated low ratings and inferences, until the person contradicts it", async () => {
    await learner.observe("u1", longer, NOW);
    const [p] = await learner.forUser("u1");
    if (!p) throw new Error("no preference");
    for (let i = 0; i < 12; i++) await learner.fromRating("u1", [p.id], 1, NOW);
    const [inferred] = inferFromAnswer("scope", "A quick overview");
    if (!inferred) throw new Error("no inference");
    expect((await learner.observe("u1", inferred, NOW)).kind).toBe("kept");
    expect(await learner.applicable("u1")).toEqual([
      expect.objectContaining({ value: "detailed", confidence: p.confidence }),
    ]);
    // Said in an answer, a request is explicit too; the person's own contrary request moves it.
    expect(inferFromAnswer("scope", "Please keep it short")[0]?.source).toBe("explicit_user_feedback");
    await learner.observe("u1", shorter, NOW);
    await learner.observe("u1", shorter, NOW);
    expect((await learner.applicable("u1"))[0]?.value).toBe("concise");
  });

  it("renders readable prompt lines and the thread's style columns", () => {
    const prefs = [
      { category: "depth", key: "length", value: "concise" },
      { category: "communication", key: "style", value: "technical" },
    ];
    expect(preferenceList(prefs)).toBe(
      "- Keep it short and to the point.\n- Technical language is fine; skip the basics.",
    );
    expect(preferenceList([])).toBe("(none known yet)");
    expect(threadStyle(prefs)).toEqual({ communicationStyle: "technical", depthPreference: "overview" });
  });
});
