import { afterEach, describe, expect, it } from "vitest";
import type {
  AnswerInput,
  ConversationPort,
  FeedbackInput,
  QuestionView,
} from "../../src/engine/conversation-types.ts";
import { type ApiHarness, apiHarness } from "./api-harness.ts";

let h: ApiHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function askQuestion(h: ApiHarness, threadUuid: string, text: string): Promise<number> {
  const thread = await h.threadQueries.byRef(threadUuid);
  const row = await h.database.db
    .insertInto("conversations")
    .values({
      thread_id: thread!.id,
      question_asked: text,
      question_type: "scope",
      conversation_phase: "initial",
      asked_date: new Date(h.clock.now()).toISOString(),
      conversation_position: 1,
    })
    .returning("id")
    .executeTakeFirstOrThrow();
  return row.id;
}

describe("POST /api/submit", () => {
  it("saves the idea, queues draft 1 and answers with thread id, estimate and next steps", async () => {
    h = await apiHarness();
    const res = await h.call("POST", "/api/submit", {
      json: { idea: "Research the best budget e-bikes for commuting", priority: 7 },
      headers: { "X-Hermes-Client": "my-script" },
    });
    expect(res.status).toBe(202);
    const d = res.json.data;
    expect(d).toMatchObject({
      status: "processing",
      short_id: d.thread_id.slice(0, 8),
      idea_type: "research",
      estimated_time_minutes: expect.any(Number),
      status_url: `/api/threads/${d.thread_id}/status`,
    });
    expect(d.estimated_time_minutes).toBeGreaterThanOrEqual(1);
    expect(d.next_steps.length).toBeGreaterThanOrEqual(2);
    const thread = await h.threadQueries.byRef(d.thread_id);
    expect(thread).toMatchObject({ source: "api", user_id: "api:my-script", priority: 7 });
    expect(h.jobsRepo.get(d.job_id)?.status).toBe("queued");
  });

  it("passes the engine's own validation through (an idea over hermes.web.max_input_length → 400)", async () => {
    h = await apiHarness();
    await h.config.set("hermes.web.max_input_length", "100", "test");
    const res = await h.call("POST", "/api/submit", { json: { idea: "z".repeat(150) } });
    expect(res.status).toBe(400);
    expect(res.json.error.message).toContain("limit is 100");
  });

  it("refuses a blank idea naming the field", async () => {
    h = await apiHarness();
    const res = await h.call("POST", "/api/submit", { json: { idea: "   " } });
    expect(res.status).toBe(400);
    expect(res.json.error.details).toMatch(/^idea: /);
  });
});

describe("GET /api/threads/:id/status", () => {
  it("shows progress, the current job, pending questions, then completed jobs and results", async () => {
    h = await apiHarness();
    const { thread_id, job_id } = await h.submit();
    const qid = await askQuestion(h, thread_id, "Who is the post for?");
    let res = await h.call("GET", `/api/threads/${thread_id}/status`);
    expect(res.status).toBe(200);
    let d = res.json.data;
    expect(d).toMatchObject({ thread_id, status: "active", title: expect.any(String) });
    expect(d.progress).toMatchObject({ stage: "queued", percent: 0, jobs_total: 1, jobs_active: 1 });
    expect(d.current_job).toMatchObject({ job_id, draft: 1, kind: "draft", status: "queued" });
    expect(d.completed_jobs).toEqual([]);
    expect(d.pending_questions).toEqual([
      { question_id: qid, position: 1, slot: "scope", text: "Who is the post for?", suggestions: [] },
    ]);
    expect(d.results).toBeNull();

    await h.runJobs();
    res = await h.call("GET", `/api/threads/${thread_id.slice(0, 8)}/status`);
    d = res.json.data;
    expect(d.progress).toMatchObject({
      stage: "waiting_for_answers",
      jobs_completed: 1,
      percent: 100,
      drafts: 1,
    });
    expect(d.current_job).toBeNull();
    expect(d.completed_jobs).toEqual([
      expect.objectContaining({
        job_id,
        status: "completed",
        backend: "fake",
        model: "fake-model",
        summary: expect.stringContaining("useful first draft"),
        result_url: `/api/threads/${thread_id}/jobs/${job_id}/result`,
        download_url: `/api/threads/${thread_id}/jobs/${job_id}/result.md`,
      }),
    ]);
    expect(d.results).toMatchObject({ latest_job_id: job_id });
  });

  it("unknown thread → 404; malformed id → 400", async () => {
    h = await apiHarness();
    const missing = await h.call("GET", "/api/threads/deadbeef/status");
    expect(missing.status).toBe(404);
    expect(missing.json.error.code).toBe("NOT_FOUND");
    const full = await h.call("GET", "/api/threads/00000000-0000-4000-8000-000000000000/status");
    expect(full.status).toBe(404);
    for (const bad of ["abc", "not-a-uuid-at-all", "1234567%", "DEADBEEF0"]) {
      const res = await h.call("GET", `/api/threads/${encodeURIComponent(bad)}/status`);
      expect(res.status, bad).toBe(400);
      expect(res.json.error.details).toBe("thread_id");
    }
  });
});

describe("job results", () => {
  it("gives summary, full result and a download URL serving markdown with a filename", async () => {
    h = await apiHarness();
    const { thread_id, job_id } = await h.submit();
    const pending = await h.call("GET", `/api/threads/${thread_id}/jobs/${job_id}/result`);
    expect(pending.status).toBe(200);
    expect(pending.json.data).toMatchObject({ status: "queued", full_result: null, download_url: null });
    const early = await h.call("GET", `/api/threads/${thread_id}/jobs/${job_id}/result.md`);
    expect(early.status).toBe(404);

    await h.runJobs();
    const res = await h.call("GET", `/api/threads/${thread_id}/jobs/${job_id}/result`);
    expect(res.json.data).toMatchObject({
      thread_id,
      job_id,
      status: "completed",
      summary: expect.stringContaining("useful first draft"),
      full_result: expect.stringContaining("With a second paragraph."),
      cost_cents: 3,
      download_url: `/api/threads/${thread_id}/jobs/${job_id}/result.md`,
    });
    const md = await h.call("GET", res.json.data.download_url);
    expect(md.status).toBe(200);
    expect(md.headers.get("content-type")).toBe("text/markdown; charset=utf-8");
    expect(md.headers.get("content-disposition")).toBe(
      `attachment; filename="hermes-${thread_id.slice(0, 8)}-job-${job_id}.md"`,
    );
    expect(md.text).toContain("With a second paragraph.");
    expect(md.text.startsWith("# ")).toBe(true);
  });

  it("a job of another thread, an unknown job or a bad job id is refused", async () => {
    h = await apiHarness();
    const a = await h.submit("First idea about gardening plans");
    const b = await h.submit("Second idea about cooking plans");
    expect((await h.call("GET", `/api/threads/${a.thread_id}/jobs/${b.job_id}/result`)).status).toBe(404);
    expect((await h.call("GET", `/api/threads/${a.thread_id}/jobs/9999/result`)).status).toBe(404);
    const bad = await h.call("GET", `/api/threads/${a.thread_id}/jobs/abc/result`);
    expect(bad.status).toBe(400);
    expect(bad.json.error.details).toBe("job_id");
    expect((await h.call("GET", `/api/threads/${a.thread_id}/jobs/0/result`)).status).toBe(400);
  });
});

describe("POST /api/threads/:id/continue", () => {
  it("without the conversation flow: stores answers and information and queues a refined draft", async () => {
    h = await apiHarness();
    const { thread_id, job_id } = await h.submit();
    await h.runJobs();
    const qid = await askQuestion(h, thread_id, "Who is the post for?");
    const res = await h.call("POST", `/api/threads/${thread_id}/continue`, {
      json: {
        answers: [{ question_id: qid, answer: "Beginners in flats" }],
        information: "Keep it under 800 words.",
      },
    });
    expect(res.status).toBe(200);
    const d = res.json.data;
    expect(d.updated_understanding).toMatchObject({
      information_added: true,
      answered: [
        { question_id: qid, question: "Who is the post for?", answer: "Beginners in flats", action: null },
      ],
    });
    expect(d.pending_questions).toEqual([]);
    expect(d.refined_job_id).toEqual(expect.any(Number));
    const refine = h.jobsRepo.get(d.refined_job_id);
    expect(refine).toMatchObject({ job_sequence: 2, job_subtype: "refine", parent_job_id: job_id });
    expect(refine?.prompt_template_used).toBe("refine");
    const vars = JSON.parse(refine!.prompt_variables!) as { idea: string; answers: string };
    expect(vars.idea).toBe("Write a short blog post about keeping bees in a city garden");
    expect(vars.answers).toBe("- Who is the post for? — Beginners in flats\n- Keep it under 800 words.");
    const thread = await h.threadQueries.byRef(thread_id);
    const rows = await h.database.db
      .selectFrom("conversations")
      .selectAll()
      .where("thread_id", "=", thread!.id)
      .orderBy("id")
      .execute();
    expect(rows.map((r) => [r.question_asked, r.user_response])).toEqual([
      ["Who is the post for?", "Beginners in flats"],
      ["(additional information)", "Keep it under 800 words."],
    ]);
    // Answering the same question twice is refused.
    const again = await h.call("POST", `/api/threads/${thread_id}/continue`, {
      json: { answers: [{ question_id: qid, answer: "Again" }] },
    });
    expect(again.status).toBe(400);
  });

  it("waits for the other open questions before refining on answers alone", async () => {
    h = await apiHarness();
    const { thread_id } = await h.submit();
    const q1 = await askQuestion(h, thread_id, "Who is it for?");
    const q2 = await askQuestion(h, thread_id, "How long?");
    const first = await h.call("POST", `/api/threads/${thread_id}/continue`, {
      json: { answers: [{ question_id: q1, answer: "Me" }] },
    });
    expect(first.json.data.refined_job_id).toBeNull();
    expect(first.json.data.pending_questions.map((q: { question_id: number }) => q.question_id)).toEqual([
      q2,
    ]);
    const second = await h.call("POST", `/api/threads/${thread_id}/continue`, {
      json: { answers: [{ question_id: q2, action: "skip" }] },
    });
    expect(second.json.data.pending_questions).toEqual([]);
  });

  it("with the conversation flow wired: answers go through ConversationPort.answer", async () => {
    const calls: { threadId: number; questionId: number; input: AnswerInput; userId: string }[] = [];
    const next: QuestionView = {
      id: 77,
      threadId: 0,
      position: 2,
      slot: "constraints",
      text: "Any budget?",
      suggestions: ["< 500", "500-1000"],
      templateId: null,
    };
    const port: ConversationPort = {
      start: async () => undefined,
      pending: async () => next,
      answer: async (threadId, questionId, input, userId) => {
        calls.push({ threadId, questionId, input, userId });
        return { clarity: 0.8, next, refinedJobId: undefined, stopReason: undefined };
      },
      feedback: async () => ({ recorded: true, followUpJobId: undefined, learned: undefined }),
    };
    h = await apiHarness({ conversation: port });
    const { thread_id } = await h.submit();
    const res = await h.call("POST", `/api/threads/${thread_id}/continue`, {
      json: {
        answers: [
          { question_id: 5, answer: "For my team" },
          { question_id: 6, action: "enough" },
        ],
      },
    });
    expect(res.status).toBe(200);
    expect(calls.map((c) => c.input)).toEqual([{ kind: "text", text: "For my team" }, { kind: "enough" }]);
    expect(calls[0]?.userId).toMatch(/^api:/);
    expect(res.json.data.updated_understanding.clarity).toBe(0.8);
    expect(res.json.data.pending_questions).toEqual([
      {
        question_id: 77,
        position: 2,
        slot: "constraints",
        text: "Any budget?",
        suggestions: ["< 500", "500-1000"],
      },
    ]);
    expect(res.json.data.refined_job_id).toBeNull();
    const status = await h.call("GET", `/api/threads/${thread_id}/status`);
    expect(status.json.data.pending_questions[0].question_id).toBe(77);
  });

  it("validates: empty body, answer and action together, unknown question", async () => {
    h = await apiHarness();
    const { thread_id } = await h.submit();
    const empty = await h.call("POST", `/api/threads/${thread_id}/continue`, { json: {} });
    expect(empty.status).toBe(400);
    const both = await h.call("POST", `/api/threads/${thread_id}/continue`, {
      json: { answers: [{ question_id: 1, answer: "x", action: "skip" }] },
    });
    expect(both.status).toBe(400);
    expect(both.json.error.details).toContain("answers.0");
    const wrongType = await h.call("POST", `/api/threads/${thread_id}/continue`, {
      json: { answers: [{ question_id: "one", answer: "x" }] },
    });
    expect(wrongType.status).toBe(400);
    expect(wrongType.json.error.details).toContain("answers.0.question_id");
    const unknown = await h.call("POST", `/api/threads/${thread_id}/continue`, {
      json: { answers: [{ question_id: 999, answer: "x" }] },
    });
    expect(unknown.status).toBe(404);
    expect(
      (await h.call("POST", "/api/threads/deadbeef/continue", { json: { information: "x" } })).status,
    ).toBe(404);
  });
});

describe("optimize, patterns, feedback, cancel", () => {
  it("optimize without the learning module lists matching learned patterns, applies nothing", async () => {
    h = await apiHarness();
    const { thread_id } = await h.submit("Research the history of tea in Japan");
    await h.database.db
      .insertInto("learned_patterns")
      .values([
        {
          pattern_name: "research wants sources",
          pattern_category: "conversation",
          trigger_conditions: JSON.stringify({ idea_type: "research" }),
          confidence_level: 0.9,
          validation_count: 10,
          success_count: 8,
          impact_description: "Ask for preferred sources up front",
        },
        {
          pattern_name: "creation wants tone",
          pattern_category: "conversation",
          trigger_conditions: JSON.stringify({ idea_type: "creation" }),
          confidence_level: 0.95,
        },
      ])
      .execute();
    const res = await h.call("POST", `/api/threads/${thread_id}/optimize`);
    expect(res.status).toBe(200);
    expect(res.json.data).toMatchObject({
      optimization_applied: false,
      candidate_patterns: [{ name: "research wants sources", confidence: 0.9 }],
      expected_improvements: ["Ask for preferred sources up front"],
    });
    const bad = await h.call("POST", `/api/threads/${thread_id}/optimize`, { json: { force: true } });
    expect(bad.status).toBe(400);

    const patterns = await h.call("GET", "/api/learn/patterns?min_confidence=0.5");
    expect(patterns.status).toBe(200);
    expect(patterns.json.data.count).toBe(2);
    expect(patterns.json.data.patterns[0]).toMatchObject({ name: "creation wants tone", confidence: 0.95 });
    expect(patterns.json.data.success_rates["research wants sources"]).toBe(0.8);
    const badQuery = await h.call("GET", "/api/learn/patterns?min_confidence=2");
    expect(badQuery.status).toBe(400);
    expect(badQuery.json.error.details).toContain("min_confidence");
  });

  it("optimize and patterns go through the learning port when wired", async () => {
    h = await apiHarness({
      learning: {
        optimize: async () => ({
          applied: [{ id: 1, name: "p" }],
          expectedImprovements: ["fewer questions"],
          followUpJobId: 42,
        }),
        patterns: async () => [{ name: "from-port" }],
      },
    });
    const { thread_id } = await h.submit();
    const res = await h.call("POST", `/api/threads/${thread_id}/optimize`);
    expect(res.json.data).toMatchObject({ optimization_applied: true, follow_up_job_id: 42 });
    const p = await h.call("GET", "/api/learn/patterns");
    expect(p.json.data).toEqual({ patterns: [{ name: "from-port" }], count: 1 });
  });

  it("feedback: a rating is recorded on the job and thread; adjust queues a rewrite", async () => {
    h = await apiHarness();
    const { thread_id, job_id } = await h.submit();
    const notYet = await h.call("POST", "/api/learn/feedback", { json: { thread_id, job_id, rating: 5 } });
    expect(notYet.status).toBe(400);
    await h.runJobs();
    const rated = await h.call("POST", "/api/learn/feedback", { json: { thread_id, job_id, rating: 4 } });
    expect(rated.status).toBe(200);
    expect(rated.json.data).toMatchObject({ feedback_recorded: true, follow_up_job_id: null });
    const job = await h.threadQueries.job((await h.threadQueries.byRef(thread_id))!.id, job_id);
    expect(job?.user_feedback).toBe(4);
    const adjust = await h.call("POST", "/api/learn/feedback", {
      json: { thread_id: thread_id.slice(0, 8), job_id, adjust: "shorter" },
    });
    expect(adjust.json.data.follow_up_job_id).toEqual(expect.any(Number));
    const rewrite = h.jobsRepo.get(adjust.json.data.follow_up_job_id);
    expect(rewrite).toMatchObject({
      job_subtype: "rewrite",
      parent_job_id: job_id,
      prompt_template_used: "rewrite",
    });
    expect(JSON.parse(rewrite!.prompt_variables!)).toMatchObject({
      draft: expect.stringContaining("With a second paragraph."),
      instruction: expect.stringContaining("shorter"),
    });
  });

  it("feedback: validation and unknown thread/job", async () => {
    h = await apiHarness();
    const { thread_id, job_id } = await h.submit();
    const both = await h.call("POST", "/api/learn/feedback", {
      json: { thread_id, job_id, rating: 3, adjust: "shorter" },
    });
    expect(both.status).toBe(400);
    const range = await h.call("POST", "/api/learn/feedback", { json: { thread_id, job_id, rating: 9 } });
    expect(range.status).toBe(400);
    expect(range.json.error.details).toMatch(/^rating: /);
    const type = await h.call("POST", "/api/learn/feedback", { json: { thread_id, job_id: "7", rating: 3 } });
    expect(type.json.error.details).toMatch(/^job_id: /);
    const noThread = await h.call("POST", "/api/learn/feedback", {
      json: { thread_id: "deadbeef", job_id, rating: 3 },
    });
    expect(noThread.status).toBe(404);
    const noJob = await h.call("POST", "/api/learn/feedback", {
      json: { thread_id, job_id: 999, rating: 3 },
    });
    expect(noJob.status).toBe(404);
  });

  it("feedback goes through ConversationPort.feedback when wired", async () => {
    const seen: FeedbackInput[] = [];
    h = await apiHarness({
      conversation: {
        start: async () => undefined,
        pending: async () => undefined,
        answer: async () => ({ clarity: 0, next: undefined, refinedJobId: undefined, stopReason: undefined }),
        feedback: async (_t, _j, input) => {
          seen.push(input);
          return { recorded: true, followUpJobId: undefined, learned: "I'll keep answers shorter." };
        },
      },
    });
    const { thread_id, job_id } = await h.submit();
    await h.runJobs();
    const res = await h.call("POST", "/api/learn/feedback", {
      json: { thread_id, job_id, adjust: "shorter" },
    });
    expect(seen).toEqual([{ adjust: "shorter" }]);
    expect(res.json.data).toMatchObject({ learning_updated: true, learned: "I'll keep answers shorter." });
  });

  it("cancel stops the thread's unfinished jobs and says when there is nothing left", async () => {
    h = await apiHarness();
    const { thread_id, job_id } = await h.submit();
    const res = await h.call("POST", `/api/threads/${thread_id}/cancel`, {
      json: { reason: "changed my mind" },
    });
    expect(res.status).toBe(200);
    expect(res.json.data.cancelled_job_ids).toEqual([job_id]);
    expect(h.jobsRepo.get(job_id)).toMatchObject({ status: "cancelled", error_message: "changed my mind" });
    const again = await h.call("POST", `/api/threads/${thread_id}/cancel`);
    expect(again.json.data.cancelled_job_ids).toEqual([]);
    expect(again.json.data.message).toContain("Nothing to cancel");
    const status = await h.call("GET", `/api/threads/${thread_id}/status`);
    expect(status.json.data.progress.stage).toBe("cancelled");
    expect((await h.call("POST", "/api/threads/deadbeef/cancel")).status).toBe(404);
  });
});
