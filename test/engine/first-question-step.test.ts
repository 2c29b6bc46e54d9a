import { afterEach, describe, expect, it } from "vitest";
import { NO_QUESTIONS_PREPARED } from "../../src/engine/conversation/start.ts";
import type { Actor } from "../../src/engine/threads/service.ts";
import { testHermes } from "../helpers/test-hermes.ts";
import { flowHarness } from "../learning/flow-harness.ts";

/**
 * The first question's step is one write: the conversation state, the question and its template's
 * use are saved together (QuestionStepRepo.ask) or not at all. A failure (or a crash) in it leaves
 * the idea as submitted — draft 1 queued, no state, no question — which the flow recovers from:
 * submit says the questions could not be prepared, and opening the conversation again asks.
 */

const IDEA = "Write a newsletter for the neighbourhood";
const OWNER: Actor = { userId: "u1", role: "owner" };
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

/** The step's writes fail at its last statement (the thread's state), as a full disk would. */
const FAIL_STEP =
  "CREATE TEMP TRIGGER fail_step BEFORE UPDATE OF clarity_slots ON idea_threads BEGIN SELECT RAISE(ABORT, 'disk full'); END";
/** ... or in the middle (its template's use, after the question's row). */
const FAIL_MIDWAY =
  "CREATE TEMP TRIGGER fail_step BEFORE UPDATE ON question_templates BEGIN SELECT RAISE(ABORT, 'disk full'); END";

describe("the first question's step", () => {
  it("fails whole, leaves the idea as submitted, and a later start asks the question", async () => {
    const h = await flowHarness({ seed: 3 });
    closers.push(() => h.close());
    const { threadId, draft1 } = await h.submit(IDEA);
    const count = (sql: string) => (h.sqlite.prepare(sql).get(threadId) as { n: number }).n;
    const uses = () =>
      (h.sqlite.prepare("SELECT sum(usage_count) AS n FROM question_templates").get() as { n: number }).n;
    const usesBefore = uses();
    h.sqlite.exec(FAIL_MIDWAY);
    await expect(h.flow.start(threadId, "u1")).rejects.toThrow(/disk full/);
    expect(count("SELECT count(*) AS n FROM conversations WHERE thread_id = ?")).toBe(0);
    expect(count("SELECT count(*) AS n FROM idea_threads WHERE id = ? AND clarity_slots IS NULL")).toBe(1);
    expect(uses()).toBe(usesBefore);
    expect(h.job(draft1.id).status).toBe("queued");
    expect(await h.flow.whyNoQuestion(threadId)).toBe(NO_QUESTIONS_PREPARED);
    expect(await h.flow.pending(threadId)).toBeUndefined();

    h.sqlite.exec("DROP TRIGGER fail_step");
    const q = await h.flow.start(threadId, "u1");
    expect(q?.position).toBe(1);
    expect(count("SELECT count(*) AS n FROM conversations WHERE thread_id = ?")).toBe(1);
    expect(uses()).toBe(usesBefore + 1);
    const state = JSON.parse(
      String(
        (
          h.sqlite.prepare("SELECT clarity_slots FROM idea_threads WHERE id = ?").get(threadId) as {
            clarity_slots: string;
          }
        ).clarity_slots,
      ),
    );
    expect(state.asked).toBe(1);
    expect(await h.flow.pending(threadId)).toEqual(q);
    expect(await h.flow.whyNoQuestion(threadId)).toBeUndefined();
  });

  it("failing under submit: the idea stands with draft 1 queued, and the submit says why there is no question", async () => {
    const b = await testHermes({
      config: { "hermes.learning.random_seed": "1", "hermes.classification.enable_llm": "false" },
      // Drafts stay queued (the scheduler is not started); this is what would answer them.
      dispatch: async () => ({
        text: "a draft",
        summary: "a draft",
        backend: "ollama",
        model: "llama3.1:8b",
        costCents: 0,
        executionMs: 1,
      }),
    });
    closers.push(() => b.hermes.stop());
    b.hermes.database.sqlite.exec(FAIL_STEP);
    const r = await b.hermes.threadService.submit(OWNER, { chatId: "c1", text: IDEA, source: "telegram" });
    expect(r.question).toBeUndefined();
    expect(r.noQuestion).toBe(NO_QUESTIONS_PREPARED);
    expect(r.assumptions).toEqual([]);
    expect(r.job.thread_id).toBe(r.thread.id);
    expect(b.hermes.queue.get(r.job.id)?.status).toBe("queued");
    b.hermes.database.sqlite.exec("DROP TRIGGER fail_step");
    // The next idea is asked as usual: nothing was left half-written.
    const next = await b.hermes.threadService.submit(OWNER, {
      chatId: "c1",
      text: `${IDEA} 2`,
      source: "telegram",
    });
    expect(next.question?.position).toBe(1);
    expect(next.noQuestion).toBeUndefined();
  });

  it("submit shows the assumptions in force with the first question, as the thread's state holds them", async () => {
    const b = await testHermes({
      config: { "hermes.learning.random_seed": "1", "hermes.classification.enable_llm": "false" },
      dispatch: async () => ({
        text: "a draft",
        summary: "a draft",
        backend: "ollama",
        model: "llama3.1:8b",
        costCents: 0,
        executionMs: 1,
      }),
    });
    closers.push(() => b.hermes.stop());
    const service = b.hermes.threadService;
    // Five poems whose context is answered the same way: a pattern the sixth one assumes.
    for (let i = 0; i < 5; i++) {
      const r = await service.submit(OWNER, {
        chatId: "c1",
        text: `Write a poem number ${i}`,
        source: "telegram",
      });
      for (let q = r.question; q; ) {
        const input =
          q.slot === "context"
            ? { kind: "text" as const, text: "for my book club" }
            : { kind: "skip" as const };
        q = (await service.answer(OWNER, r.thread.id, q.id, input)).next;
      }
    }
    const r = await service.submit(OWNER, {
      chatId: "c1",
      text: "Write a poem about the sea",
      source: "telegram",
    });
    expect(r.question).toBeDefined();
    expect(r.assumptions?.map((a) => [a.slot, a.value])).toEqual([["context", "for my book club"]]);
    expect(r.assumptions).toEqual(await b.hermes.flow.assumptions(r.thread.id));
  });
});
