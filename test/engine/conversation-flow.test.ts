import { afterEach, describe, expect, it } from "vitest";
import { resolvePromptVariables } from "../../src/engine/conversation/flow.ts";
import { flowHarness } from "../learning/flow-harness.ts";

type Harness = Awaited<ReturnType<typeof flowHarness>>;
let h: Harness | undefined;

afterEach(async () => {
  await h?.close();
  h = undefined;
});

const IDEA = "Write a newsletter for the neighbourhood";

function row(db: Harness, sql: string, ...args: unknown[]) {
  return db.sqlite.prepare(sql).get(...args) as Record<string, unknown>;
}

/** Taps the first suggestion, then "enough" if a question follows: a draft 2 with one answer. */
async function answerOnceThenEnough(h: Harness, threadId: number, questionId: number) {
  const a = await h.flow.answer(threadId, questionId, { kind: "suggestion", index: 0 }, "u1");
  return a.next ? h.flow.answer(threadId, a.next.id, { kind: "enough" }, "u1") : a;
}

describe("ConversationFlow", () => {
  it("start records the first question with its position, type, template and asked date", async () => {
    h = await flowHarness({ seed: 3 });
    const { threadId } = await h.submit(IDEA);
    const q = await h.flow.start(threadId, "u1");
    expect(q).toBeDefined();
    if (!q) return;
    expect(q.position).toBe(1);
    expect(q.suggestions.length).toBeGreaterThanOrEqual(2);
    expect(q.suggestions.length).toBeLessThanOrEqual(4);
    expect(q.text).toContain("this newsletter");
    expect(q.text).not.toContain("{{");
    const r = row(h, "SELECT * FROM conversations WHERE id = ?", q.id);
    expect(r).toMatchObject({
      thread_id: threadId,
      conversation_position: 1,
      question_type: q.slot,
      question_template_id: q.templateId,
      asked_date: new Date(h.clock.now()).toISOString(),
      responded_date: null,
    });
    const t = row(h, "SELECT initial_clarity_score, clarity_slots FROM idea_threads WHERE id = ?", threadId);
    expect(t.initial_clarity_score).toBeGreaterThan(0);
    expect(JSON.parse(String(t.clarity_slots)).slots.intent).toBeDefined();
    // start is idempotent: the same pending question again.
    expect((await h.flow.start(threadId, "u1"))?.id).toBe(q.id);
  });

  it("answer records the response, its timing and type, raises clarity and asks the next question", async () => {
    h = await flowHarness({ seed: 3 });
    const { threadId } = await h.submit(IDEA);
    const q = await h.flow.start(threadId, "u1");
    if (!q) throw new Error("no question");
    h.clock.advance(6_500);
    const out = await h.flow.answer(threadId, q.id, { kind: "suggestion", index: 0 }, "u1");
    const r = row(h, "SELECT * FROM conversations WHERE id = ?", q.id);
    expect(r).toMatchObject({
      user_response: q.suggestions[0],
      response_type: "direct_answer",
      response_time_seconds: 6.5,
      prediction_accuracy: 1,
    });
    expect(Number(r.clarity_improvement)).toBeGreaterThan(0);
    expect(Number(r.conversation_efficiency)).toBeGreaterThan(0);
    expect(out.clarity).toBeGreaterThan(
      Number(row(h, "SELECT initial_clarity_score AS c FROM idea_threads").c),
    );
    expect(out.next?.position).toBe(2);
    expect(out.next?.slot).not.toBe(q.slot);
    const t = row(
      h,
      "SELECT usage_count, last_used, clarity_improvement_avg FROM question_templates WHERE id = ?",
      q.templateId,
    );
    expect(t.usage_count).toBe(1);
    expect(Number(t.clarity_improvement_avg)).toBeGreaterThan(0);
  });

  it("a new ConversationFlow over the same database continues with the pending question (restart)", async () => {
    h = await flowHarness({ seed: 5 });
    const { threadId } = await h.submit(IDEA);
    const q1 = await h.flow.start(threadId, "u1");
    if (!q1) throw new Error("no question");
    const a1 = await h.flow.answer(
      threadId,
      q1.id,
      { kind: "text", text: "for my book club, about 300 readers" },
      "u1",
    );
    const q2 = a1.next;
    if (!q2) throw new Error("no second question");

    const restarted = h.makeFlow(99);
    const pending = await restarted.pending(threadId);
    expect(pending).toEqual(q2);
    expect(await restarted.start(threadId, "u1")).toEqual(q2);
    const a2 = await restarted.answer(threadId, q2.id, { kind: "suggestion", index: 0 }, "u1");
    expect(a2.clarity).toBeGreaterThan(a1.clarity);
    const answered = h.sqlite
      .prepare("SELECT count(*) AS n FROM conversations WHERE thread_id = ? AND responded_date IS NOT NULL")
      .get(threadId) as { n: number };
    expect(answered.n).toBe(2);
  });

  it("recovers a conversation whose first question was never recorded (crash between two writes)", async () => {
    h = await flowHarness({ seed: 5 });
    const { threadId } = await h.submit(IDEA);
    const q = await h.flow.start(threadId, "u1");
    if (!q) throw new Error("no question");
    h.sqlite.prepare("DELETE FROM conversations WHERE id = ?").run(q.id);
    const again = await h.makeFlow(5).start(threadId, "u1");
    expect(again?.position).toBeGreaterThanOrEqual(1);
    expect(again?.id).not.toBe(q.id);
  });

  it('"enough" after one question queues draft 2 at once: parent draft 1, sequence 2, no dependency', async () => {
    h = await flowHarness({ seed: 7 });
    const { threadId, draft1 } = await h.submit(IDEA);
    const q1 = await h.flow.start(threadId, "u1");
    if (!q1) throw new Error("no question");
    const a1 = await h.flow.answer(threadId, q1.id, { kind: "suggestion", index: 1 }, "u1");
    if (!a1.next) throw new Error("expected a second question");
    const out = await h.flow.answer(threadId, a1.next.id, { kind: "enough" }, "u1");
    expect(out.stopReason).toBe("you said enough");
    expect(out.next).toBeUndefined();
    expect(out.refinedJobId).toBeDefined();
    const draft2 = h.job(out.refinedJobId ?? -1);
    expect(draft2).toMatchObject({
      parent_job_id: draft1.id,
      job_sequence: 2,
      job_subtype: "refine",
      prompt_template_used: "refine",
      dependencies: [],
      status: "queued",
    });
    // Draft 1 has not run at all (the scheduler is not started): draft 2 does not wait for it.
    expect(h.job(draft1.id).status).toBe("queued");
    const vars = (draft2.prompt_variables ?? {}) as Record<string, string>;
    expect(Object.keys(vars).sort()).toEqual([
      "answers",
      "draft",
      "draft_job_id",
      "idea",
      "idea_type",
      "preferences",
    ]);
    // Draft 2 is built on draft 1: its text is filled in when draft 2 runs.
    expect(vars.draft_job_id).toBe(draft1.id);
    expect(vars.idea).toBe(IDEA);
    expect(vars.answers).toContain(q1.suggestions[1]);
    expect(await h.flow.pending(threadId)).toBeUndefined();
  });

  it("draft 2 is queued while draft 1 is still running", async () => {
    h = await flowHarness({ seed: 7 });
    let release: () => void = () => {};
    h.setDispatch(
      (ctx) =>
        new Promise((resolve) => {
          if (ctx.job.job_sequence === 1)
            release = () =>
              resolve({
                text: "draft one",
                summary: "d1",
                backend: "fake",
                model: "m",
                costCents: 0,
                executionMs: 1,
              });
          else
            resolve({
              text: "draft two",
              summary: "d2",
              backend: "fake",
              model: "m",
              costCents: 0,
              executionMs: 1,
            });
        }),
    );
    h.scheduler.start();
    const { threadId, draft1 } = await h.submit(IDEA);
    await h.settle();
    expect(h.job(draft1.id).status).toBe("running");
    const q = await h.flow.start(threadId, "u1");
    if (!q) throw new Error("no question");
    const out = await answerOnceThenEnough(h, threadId, q.id);
    const draft2 = h.job(out.refinedJobId ?? -1);
    expect(draft2.parent_job_id).toBe(draft1.id);
    expect(["queued", "running", "completed"]).toContain(draft2.status);
    expect(h.job(draft1.id).status).toBe("running");
    await h.settle();
    expect(h.job(draft2.id).status).toBe("completed");
    expect(h.job(draft1.id).status).toBe("running");
    release();
    await h.settle();
    expect(h.job(draft1.id).status).toBe("completed");
  });

  it("an answer after the questions stopped is ignored politely", async () => {
    h = await flowHarness({ seed: 7 });
    const { threadId } = await h.submit(IDEA);
    const q = await h.flow.start(threadId, "u1");
    if (!q) throw new Error("no question");
    const stopped = await h.flow.answer(threadId, q.id, { kind: "enough" }, "u1");
    const jobsBefore = h.sqlite.prepare("SELECT count(*) AS n FROM jobs").get() as { n: number };
    const late = await h.flow.answer(threadId, q.id, { kind: "suggestion", index: 0 }, "u1");
    expect(late).toEqual({
      clarity: stopped.clarity,
      next: undefined,
      refinedJobId: undefined,
      stopReason: "already finished",
      stale: "closed",
    });
    expect(h.sqlite.prepare("SELECT count(*) AS n FROM jobs").get()).toEqual(jobsBefore);
  });

  it("a double tap on the same question records one answer", async () => {
    h = await flowHarness({ seed: 3 });
    const { threadId } = await h.submit(IDEA);
    const q = await h.flow.start(threadId, "u1");
    if (!q) throw new Error("no question");
    const [a, b] = await Promise.all([
      h.flow.answer(threadId, q.id, { kind: "suggestion", index: 0 }, "u1"),
      h.flow.answer(threadId, q.id, { kind: "suggestion", index: 1 }, "u1"),
    ]);
    expect(a.next?.id).toBeDefined();
    expect(b.next?.id).toBe(a.next?.id);
    const asked = h.sqlite
      .prepare("SELECT count(*) AS n FROM conversations WHERE thread_id = ?")
      .get(threadId) as {
      n: number;
    };
    expect(asked.n).toBe(2);
  });

  it("stops at max questions (hermes.learning.max_questions_per_conversation)", async () => {
    h = await flowHarness({ seed: 11, config: { "hermes.learning.max_questions_per_conversation": "2" } });
    const { threadId } = await h.submit(IDEA);
    let q = await h.flow.start(threadId, "u1");
    let out: Awaited<ReturnType<typeof h.flow.answer>> | undefined;
    let asked = 0;
    while (q) {
      asked++;
      out = await h.flow.answer(
        threadId,
        q.id,
        { kind: "text", text: "a small group of 12 neighbours" },
        "u1",
      );
      q = out.next;
    }
    expect(asked).toBe(2);
    expect(out?.stopReason).toBe("max questions");
    expect(out?.refinedJobId).toBeDefined();
  });

  it("with learning disabled asks in the fixed order and learns no patterns or preferences", async () => {
    h = await flowHarness({ seed: 1, config: { "hermes.learning.enabled": "false" } });
    const { threadId } = await h.submit("Write a newsletter");
    const slots: string[] = [];
    let q = await h.flow.start(threadId, "u1");
    while (q) {
      slots.push(q.slot);
      q = (await h.flow.answer(threadId, q.id, { kind: "suggestion", index: 0 }, "u1")).next;
    }
    expect(slots).toEqual(["intent", "constraints", "success", "context", "scope"]);
    expect(h.sqlite.prepare("SELECT count(*) AS n FROM user_preferences").get()).toEqual({ n: 0 });
  });

  it("skipped and don't-know answers raise no clarity and are recorded as clarifications", async () => {
    h = await flowHarness({ seed: 3 });
    const { threadId } = await h.submit(IDEA);
    const q = await h.flow.start(threadId, "u1");
    if (!q) throw new Error("no question");
    const before = Number(
      row(h, "SELECT final_clarity_score AS c FROM idea_threads WHERE id = ?", threadId).c,
    );
    const out = await h.flow.answer(threadId, q.id, { kind: "text", text: "no idea" }, "u1");
    expect(out.clarity).toBe(before);
    expect(row(h, "SELECT response_type, clarity_improvement FROM conversations WHERE id = ?", q.id)).toEqual(
      {
        response_type: "clarification",
        clarity_improvement: 0,
      },
    );
    if (!out.next) throw new Error("expected another question");
    await h.flow.answer(threadId, out.next.id, { kind: "skip" }, "u1");
    expect(row(h, "SELECT user_response FROM conversations WHERE id = ?", out.next.id).user_response).toBe(
      "(skipped)",
    );
  });

  it("feedback stores the rating on the job, the thread and its conversation rows, and credits the questions", async () => {
    h = await flowHarness({ seed: 7 });
    const { threadId, draft1 } = await h.submit(IDEA);
    const q = await h.flow.start(threadId, "u1");
    if (!q) throw new Error("no question");
    const a = await h.flow.answer(threadId, q.id, { kind: "suggestion", index: 0 }, "u1");
    const stop = a.next ? await h.flow.answer(threadId, a.next.id, { kind: "enough" }, "u1") : a;
    const refined = stop.refinedJobId ?? -1;
    expect((await h.flow.feedback(threadId, draft1.id, { rating: 2 }, "u1")).recorded).toBe(true);
    const f = await h.flow.feedback(threadId, refined, { rating: 5 }, "u1");
    expect(f.learned).toMatch(/rated higher/);
    expect(h.job(draft1.id)).toMatchObject({ user_feedback: 2 });
    expect(h.job(refined)).toMatchObject({ user_feedback: 5 });
    expect(
      row(h, "SELECT user_satisfaction FROM idea_threads WHERE id = ?", threadId).user_satisfaction,
    ).toBe(5);
    expect(
      row(h, "SELECT user_satisfaction, optimization_suggested FROM conversations WHERE id = ?", q.id),
    ).toMatchObject({ user_satisfaction: 5 });
    const plan = JSON.parse(
      String(row(h, "SELECT optimization_suggested AS p FROM conversations WHERE id = ?", q.id).p),
    );
    expect(plan.quality_improvement).toBeGreaterThan(0);
    expect(
      Number(
        row(h, "SELECT user_satisfaction_avg AS s FROM question_templates WHERE id = ?", q.templateId).s,
      ),
    ).toBe(5);
    await expect(h.flow.feedback(threadId, draft1.id, { rating: 9 as 5 }, "u1")).rejects.toThrow(/1 to 5/);
  });

  it('"shorter" on an unfinished draft queues a rewrite that waits for it; on a finished one, at once', async () => {
    h = await flowHarness({ seed: 7 });
    const { threadId, draft1 } = await h.submit(IDEA);
    await h.flow.start(threadId, "u1");
    const f = await h.flow.feedback(threadId, draft1.id, { adjust: "shorter" }, "u1");
    expect(f.learned).toBe("I'll keep drafts shorter from now on (see /patterns).");
    const rewrite = h.job(f.followUpJobId ?? -1);
    expect(rewrite).toMatchObject({
      parent_job_id: draft1.id,
      job_subtype: "rewrite",
      prompt_template_used: "rewrite",
      status: "pending",
      dependencies: [draft1.id],
    });
    const vars = (rewrite.prompt_variables ?? {}) as Record<string, string>;
    expect(vars.draft).toBe("");
    expect(vars.instruction).toMatch(/shorter/);
    const filled = resolvePromptVariables(rewrite, vars, () => ({ full_result: "the long draft" }));
    expect(filled.draft).toBe("the long draft");
    expect(
      row(
        h,
        "SELECT preference_value, source, user_id FROM user_preferences WHERE preference_key = 'length'",
      ),
    ).toEqual({ preference_value: "concise", source: "explicit_user_feedback", user_id: "u1" });

    // Once the draft is done, a rewrite carries its text and runs at once.
    h.scheduler.start();
    await h.settle();
    const g = await h.flow.feedback(threadId, draft1.id, { adjust: "more_detail" }, "u1");
    const second = h.job(g.followUpJobId ?? -1);
    expect(second.dependencies).toEqual([]);
    expect(second.prompt_variables?.draft).toBe(h.job(draft1.id).full_result);
    expect(g.learned).toBe("I'll go into more detail from now on (see /patterns).");
  });

  it("a rating toast says only what happened, and what it taught shows in /patterns", async () => {
    h = await flowHarness({ seed: 7 });
    const { threadId, draft1 } = await h.submit(IDEA);
    const q = await h.flow.start(threadId, "u1");
    if (!q) throw new Error("no question");
    const out = await answerOnceThenEnough(h, threadId, q.id);
    expect(await h.flow.patternsSummary("u1")).toBeUndefined();
    await h.flow.feedback(threadId, draft1.id, { rating: 2 }, "u1");
    const r = await h.flow.feedback(threadId, out.refinedJobId ?? -1, { rating: 5 }, "u1");
    expect(r.learned).toBe(
      "Noted: the refined draft rated higher than the first — the questions asked here now count as more useful when I pick questions (see /patterns).",
    );
    const summary = (await h.flow.patternsSummary("u1")) ?? "";
    expect(summary).toContain("What your ratings of first vs refined drafts taught the questions:");
    expect(summary).toMatch(
      /• \w+ ideas \(1 rated pair\(s\)\): questions about \w+ \([+-]\d\.\d\d\) help most/,
    );
    // Someone else's ratings are not theirs.
    expect(await h.flow.patternsSummary("u2")).toBeUndefined();
  });

  it("applies a learned preference to the refined draft's prompt", async () => {
    h = await flowHarness({ seed: 7 });
    const first = await h.submit(IDEA);
    await h.flow.start(first.threadId, "u1");
    await h.flow.feedback(first.threadId, first.draft1.id, { adjust: "shorter" }, "u1");
    const second = await h.submit("Write a birthday speech");
    const q = await h.flow.start(second.threadId, "u1");
    if (!q) throw new Error("no question");
    const out = await answerOnceThenEnough(h, second.threadId, q.id);
    const vars = (h.job(out.refinedJobId ?? -1).prompt_variables ?? {}) as Record<string, string>;
    expect(vars.preferences).toContain("Keep it short");
    expect(
      row(h, "SELECT depth_preference FROM idea_threads WHERE id = ?", second.threadId).depth_preference,
    ).toBe("overview");
  });

  it("optimizeThread says what it applied; listPatterns lists patterns with confidence and success rate", async () => {
    h = await flowHarness({ seed: 13 });
    // Teach a pattern: the same context answer for creation ideas, asked five times over six ideas
    // (the learned order skips the slot once) while it is validated, before it may pre-fill.
    for (let i = 0; i < 6; i++) {
      const { threadId } = await h.submit(`Write a letter number ${i}`);
      let q = await h.flow.start(threadId, "u1");
      while (q) {
        const input =
          q.slot === "context"
            ? ({ kind: "text", text: "for my book club" } as const)
            : ({ kind: "suggestion", index: 0 } as const);
        q = (await h.flow.answer(threadId, q.id, input, "u1")).next;
      }
    }
    const patterns = await h.flow.listPatterns();
    const ctx = patterns.find((p) => p.trigger.slot === "context" && p.trigger.idea_type === "creation");
    expect(ctx).toMatchObject({ value: "for my book club", validations: 5, successes: 5, success_rate: 1 });
    expect(ctx?.confidence).toBeCloseTo(0.857, 3);
    expect(ctx?.active).toBe(true);

    const { threadId } = await h.submit("Write a letter to the council");
    const result = await h.flow.optimizeThread(threadId);
    const applied = result.applied.find((a) => a.kind === "pattern" && a.slot === "context");
    expect(applied?.value).toBe("for my book club");
    expect(result.expected_improvements.clarity_after).toBeGreaterThan(
      result.expected_improvements.clarity_before,
    );
    expect(result.expected_improvements.questions_skipped).toBeGreaterThanOrEqual(1);
    // The same through the HTTP API's and the bot's ports.
    const api = await h.flow.optimize(threadId, "u1");
    expect(api.applied.some((x) => x.description.includes("for my book club"))).toBe(true);
    expect(api.expectedImprovements[0]).toMatch(/^clarity /);
    expect(await h.flow.patternsSummary()).toContain("context for creation ideas → “for my book club”");
  });
});
