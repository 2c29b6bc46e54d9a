import { afterEach, describe, expect, it } from "vitest";
import { type ApiHarness, apiHarness } from "./api-harness.ts";

let h: ApiHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

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
    const thread = await h.threadByRef(d.thread_id);
    expect(thread).toMatchObject({ source: "api", user_id: "api:my-script", priority: 7 });
    expect(h.jobsRepo.get(d.job_id)?.status).toBe("queued");
    // The conversation flow asked its first question while draft 1 waits, and stored it.
    expect(d.questions).toEqual([
      {
        question_id: expect.any(Number),
        position: 1,
        slot: expect.any(String),
        text: expect.any(String),
        suggestions: expect.any(Array),
      },
    ]);
    expect(d.questions[0].suggestions.length).toBeGreaterThanOrEqual(2);
    expect(d.next_steps[1]).toContain(`POST /api/threads/${d.thread_id}/continue`);
    const asked = await h.database.db
      .selectFrom("conversations")
      .select(["id", "question_asked", "responded_date"])
      .where("thread_id", "=", thread!.id)
      .execute();
    expect(asked).toEqual([
      { id: d.questions[0].question_id, question_asked: d.questions[0].text, responded_date: null },
    ]);
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
  it("shows progress, the current job, the flow's open question, then completed jobs and results", async () => {
    h = await apiHarness();
    const { thread_id, job_id, questions } = await h.submit();
    expect(questions).toHaveLength(1);
    let res = await h.call("GET", `/api/threads/${thread_id}/status`);
    expect(res.status).toBe(200);
    let d = res.json.data;
    expect(d).toMatchObject({ thread_id, status: "active", title: expect.any(String) });
    expect(d.progress).toMatchObject({ stage: "queued", percent: 0, jobs_total: 1, jobs_active: 1 });
    expect(d.current_job).toMatchObject({ job_id, draft: 1, kind: "draft", status: "queued" });
    expect(d.completed_jobs).toEqual([]);
    // The same question submit returned, read back from the flow.
    expect(d.pending_questions).toEqual(questions);
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
    expect(d.pending_questions).toEqual(questions);
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

describe("optimize, patterns, cancel", () => {
  it("optimize goes through the real learning module; learned patterns are listed with success rates", async () => {
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
    // The wired ConversationFlow answers (the "candidate_patterns" fallback is gone): nothing it
    // learned applies to this fresh thread, and the response says so.
    expect(res.json.data).toMatchObject({
      thread_id,
      optimization_applied: false,
      applied: [],
      follow_up_job_id: null,
      message: "Nothing learned applies to this idea yet.",
    });
    expect(res.json.data).not.toHaveProperty("candidate_patterns");
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

  it("optimize goes through the learning port when wired; patterns are read the same way either way", async () => {
    h = await apiHarness({
      learning: {
        optimize: async () => ({
          applied: [{ id: 1, name: "p" }],
          expectedImprovements: ["fewer questions"],
          followUpJobId: 42,
        }),
      },
    });
    const { thread_id } = await h.submit();
    const res = await h.call("POST", `/api/threads/${thread_id}/optimize`);
    expect(res.json.data).toMatchObject({ optimization_applied: true, follow_up_job_id: 42 });
    const p = await h.call("GET", "/api/learn/patterns");
    expect(p.json.data).toMatchObject({ patterns: [], count: 0, question_templates: expect.any(Array) });
  });

  it("cancel stops the thread's unfinished jobs and its questions, and says when there is nothing left", async () => {
    h = await apiHarness();
    const { thread_id, job_id, questions } = await h.submit();
    const res = await h.call("POST", `/api/threads/${thread_id}/cancel`, {
      json: { reason: "changed my mind" },
    });
    expect(res.status).toBe(200);
    expect(res.json.data).toMatchObject({ cancelled_job_ids: [job_id], questions_closed: true });
    expect(res.json.data.message).toBe("Cancelled 1 unfinished job(s). Closed the open questions.");
    expect(h.jobsRepo.get(job_id)).toMatchObject({ status: "cancelled", error_message: "changed my mind" });
    const status = await h.call("GET", `/api/threads/${thread_id}/status`);
    expect(status.json.data.progress.stage).toBe("cancelled");
    expect(status.json.data.pending_questions).toEqual([]);
    // A late answer to the closed question does not bring the idea back.
    const late = await h.call("POST", `/api/threads/${thread_id}/continue`, {
      json: { answers: [{ question_id: questions[0]!.question_id, answer: "For beginners" }] },
    });
    expect(late.json.data).toMatchObject({ refined_job_id: null, pending_questions: [] });
    expect(late.json.data.updated_understanding.stop_reason).toBe("already finished");
    expect((await h.threadService.jobs((await h.threadByRef(thread_id))!)).length).toBe(1);
    const again = await h.call("POST", `/api/threads/${thread_id}/cancel`);
    expect(again.json.data).toMatchObject({ cancelled_job_ids: [], questions_closed: false });
    expect(again.json.data.message).toContain("Nothing to cancel");
    expect((await h.call("POST", "/api/threads/deadbeef/cancel")).status).toBe(404);
  });

  it("an answer that ends the questions and a cancel sent together leave nothing running", async () => {
    h = await apiHarness();
    const { thread_id, questions } = await h.submit();
    const [answered, cancelled] = await Promise.all([
      h.call("POST", `/api/threads/${thread_id}/continue`, {
        json: { answers: [{ question_id: questions[0]!.question_id, action: "enough" }] },
      }),
      h.call("POST", `/api/threads/${thread_id}/cancel`),
    ]);
    expect(answered.status).toBe(200);
    expect(cancelled.status).toBe(200);
    const thread = (await h.threadByRef(thread_id))!;
    const jobs = await h.threadService.jobs(thread);
    expect(jobs.length).toBeGreaterThan(0);
    expect(jobs.filter((j) => j.status !== "cancelled")).toEqual([]);
  });
});
