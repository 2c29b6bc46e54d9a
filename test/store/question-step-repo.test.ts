import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { HermesDatabase } from "../../src/store/database.ts";
import type { NewQuestion } from "../../src/store/threads/conversations-repo.ts";
import { QuestionStepRepo } from "../../src/store/threads/question-step-repo.ts";
import { memoryDb } from "../helpers/memory-db.ts";

/**
 * An asked question's writes — its row, its template's use, the thread's state — are one
 * transaction: all of them, or (when any fails, as a full disk would) none of them.
 */
let db: HermesDatabase;
let threadId: number;
let templateId: number;
beforeEach(async () => {
  db = await memoryDb();
  threadId = (
    db.sqlite
      .prepare(
        `INSERT INTO idea_threads (uuid, title, original_request, user_id, last_active)
         VALUES ('u-1', 't', 'a birthday present', 'u1', '2026-01-01T00:00:00.000Z') RETURNING id`,
      )
      .get() as { id: number }
  ).id;
  templateId = (
    db.sqlite.prepare("SELECT id FROM question_templates ORDER BY id LIMIT 1").get() as { id: number }
  ).id;
});
afterEach(async () => {
  await db.close();
});

const question = (): NewQuestion => ({
  threadId,
  jobId: null,
  phase: "initial",
  text: "Who is it for?",
  slot: "context",
  templateId,
  confidence: 0.5,
  position: 1,
  askedDate: "2026-01-01T00:00:01.000Z",
  patternMatched: null,
  plan: { suggestions: ["My sister"], policy: "learning" },
});

const state = () =>
  db.sqlite
    .prepare(
      "SELECT clarity_slots, initial_clarity_score, final_clarity_score, last_active FROM idea_threads WHERE id = ?",
    )
    .get(threadId);
const uses = () =>
  db.sqlite.prepare("SELECT usage_count, last_used FROM question_templates WHERE id = ?").get(templateId) as {
    usage_count: number;
    last_used: string | null;
  };
const questions = () => db.sqlite.prepare("SELECT * FROM conversations WHERE thread_id = ?").all(threadId);

describe("QuestionStepRepo.ask", () => {
  it("stores the question, counts its template's use and saves the thread's fields", async () => {
    const before = uses().usage_count;
    const row = await new QuestionStepRepo(db.sqlite).ask(question(), {
      claritySlots: '{"asked":1}',
      initialClarity: 0.2,
      finalClarity: 0.3,
      now: "2026-01-01T00:00:01.000Z",
    });
    expect(row).toMatchObject({
      thread_id: threadId,
      question_asked: "Who is it for?",
      question_type: "context",
      question_template_id: templateId,
      conversation_position: 1,
      responded_date: null,
      optimization_suggested: '{"suggestions":["My sister"],"policy":"learning"}',
    });
    expect(questions()).toEqual([row]);
    expect(uses()).toEqual({ usage_count: before + 1, last_used: "2026-01-01T00:00:01.000Z" });
    expect(state()).toEqual({
      clarity_slots: '{"asked":1}',
      initial_clarity_score: 0.2,
      final_clarity_score: 0.3,
      last_active: "2026-01-01T00:00:01.000Z",
    });
  });

  it("writes nothing when its last write fails: no question without the state that counts it", async () => {
    const before = { state: state(), uses: uses() };
    // The thread's update is the last statement of the transaction; make it fail as a full disk would.
    db.sqlite.exec(
      "CREATE TEMP TRIGGER fail_update BEFORE UPDATE ON idea_threads BEGIN SELECT RAISE(ABORT, 'disk full'); END",
    );
    const repo = new QuestionStepRepo(db.sqlite);
    await expect(
      repo.ask(question(), {
        claritySlots: '{"asked":1}',
        finalClarity: 0.3,
        now: "2026-01-01T00:00:01.000Z",
      }),
    ).rejects.toThrow(/disk full/);
    expect(questions()).toEqual([]);
    expect(uses()).toEqual(before.uses);
    expect(state()).toEqual(before.state);
    expect(db.sqlite.inTransaction).toBe(false);
    // Once the fault is gone, the same step goes through.
    db.sqlite.exec("DROP TRIGGER fail_update");
    await repo.ask(question(), {
      claritySlots: '{"asked":1}',
      finalClarity: 0.3,
      now: "2026-01-01T00:00:01.000Z",
    });
    expect(questions()).toHaveLength(1);
  });

  it("a question without a template counts no use", async () => {
    const before = uses();
    await new QuestionStepRepo(db.sqlite).ask(
      { ...question(), templateId: null },
      { claritySlots: "{}", now: "2026-01-01T00:00:01.000Z" },
    );
    expect(uses()).toEqual(before);
    expect(questions()).toHaveLength(1);
  });
});
