import { afterEach, describe, expect, it } from "vitest";
import type {
  AnswerInput,
  ConversationPort,
  FeedbackInput,
  QuestionView,
} from "../../src/engine/conversation/types.ts";
import { ConversationsRepo } from "../../src/store/threads/conversations-repo.ts";
import { type ApiHarness, apiHarness } from "./api-harness.ts";

/** POST /api/threads/:id/continue and /api/learn/feedback, through the real ConversationFlow. */

let h: ApiHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function conversationRows(h: ApiHarness, threadUuid: string) {
  const thread = await h.threadByRef(threadUuid);
  const rows = await h.database.db
    .selectFrom("conversations")
    .select(["question_asked", "user_response"])
    .where("thread_id", "=", thread!.id)
    .orderBy("id")
    .execute();
  return rows.map((r) => [r.question_asked, r.user_response]);
}

describe("POST /api/threads/:id/continue", () => {
  it("records an answer through the flow; volunteered information waits for the refined draft while questions are open", async () => {
    h = await apiHarness();
    const { thread_id, job_id, questions } = await h.submit();
    const q1 = questions[0]!;
    await h.runJobs();
    const before = (await h.call("GET", `/api/threads/${thread_id}/status`)).json.data.progress.clarity;
    const res = await h.call("POST", `/api/threads/${thread_id}/continue`, {
      json: {
        answers: [{ question_id: q1.question_id, answer: "Beginners in flats" }],
        information: "Keep it under 800 words.",
      },
    });
    expect(res.status).toBe(200);
    const d = res.json.data;
    expect(d.updated_understanding).toMatchObject({
      information_added: true,
      stop_reason: null,
      answered: [
        { question_id: q1.question_id, question: q1.text, answer: "Beginners in flats", action: null },
      ],
    });
    expect(d.updated_understanding.clarity).toBeGreaterThan(before);
    // The flow asks its next question at once…
    expect(d.pending_questions).toEqual([
      expect.objectContaining({ question_id: expect.any(Number), position: 2, text: expect.any(String) }),
    ]);
    const q2 = d.pending_questions[0];
    expect(q2.question_id).not.toBe(q1.question_id);
    // …and the information waits for the flow's refined draft instead of a draft of its own.
    expect(d.refined_job_id).toBeNull();
    expect(d.next_steps).toContain(
      "Your information goes into the refined draft once the questions are done.",
    );
    const rows = [
      [q1.text, "Beginners in flats"],
      ["(additional information)", "Keep it under 800 words."],
      [q2.text, null],
    ];
    expect(await conversationRows(h, thread_id)).toEqual(rows);
    const thread = await h.threadByRef(thread_id);
    expect(thread?.final_clarity_score).toBe(d.updated_understanding.clarity);
    // How it was answered is kept with the answer, for the time model after a restart.
    const row = await h.database.db
      .selectFrom("conversations")
      .select("optimization_suggested")
      .where("id", "=", q1.question_id)
      .executeTakeFirstOrThrow();
    expect(JSON.parse(row.optimization_suggested ?? "{}")).toMatchObject({ answered_by: "type" });
    // No question was asked for it: the question model does not learn from it.
    const observed = await new ConversationsRepo(h.database.db).observations();
    expect(observed.map((o) => o.user_response)).toEqual(["Beginners in flats"]);

    // Information alone while a question is open: the question is still shown, and a client
    // retrying the same information does not store it twice.
    for (let i = 0; i < 2; i++) {
      const info = await h.call("POST", `/api/threads/${thread_id}/continue`, {
        json: { information: "Keep it under 800 words." },
      });
      expect(info.json.data).toMatchObject({ refined_job_id: null, pending_questions: [q2] });
    }

    // Answering the same question again (a double submit) records nothing and refines nothing.
    const again = await h.call("POST", `/api/threads/${thread_id}/continue`, {
      json: { answers: [{ question_id: q1.question_id, answer: "Again" }] },
    });
    expect(again.status).toBe(200);
    expect(again.json.data).toMatchObject({ refined_job_id: null, pending_questions: [q2] });
    expect(await conversationRows(h, thread_id)).toEqual(rows);

    // "Enough": draft 2 holds the answer and the information.
    const done = await h.call("POST", `/api/threads/${thread_id}/continue`, {
      json: { answers: [{ question_id: q2.question_id, action: "enough" }] },
    });
    const refine = h.jobsRepo.get(done.json.data.refined_job_id);
    expect(refine).toMatchObject({ job_sequence: 2, job_subtype: "refine", parent_job_id: job_id });
    const vars = refine!.prompt_variables as { idea: string; answers: string };
    expect(vars.idea).toBe("Write a short blog post about keeping bees in a city garden");
    expect(vars.answers.split("\n")).toEqual([
      expect.stringContaining(`"${q1.text}" → Beginners in flats`),
      "- Additional information from the user: Keep it under 800 words.",
    ]);

    // Once the questions are over, information gets a refined draft of its own, numbered after it.
    await h.runJobs();
    const later = await h.call("POST", `/api/threads/${thread_id}/continue`, {
      json: { information: "Mention the neighbours." },
    });
    const own = h.jobsRepo.get(later.json.data.refined_job_id);
    // Its parent is the latest completed draft; one prompt format for information, whichever
    // transport brought it.
    expect(own).toMatchObject({
      job_sequence: 3,
      job_subtype: "refine",
      parent_job_id: done.json.data.refined_job_id,
    });
    // The whole context: the earlier answer and information as well as the new information.
    expect(String(own!.prompt_variables?.answers).split("\n")).toEqual([
      expect.stringContaining(`"${q1.text}" → Beginners in flats`),
      "- Additional information from the user: Keep it under 800 words.",
      "- Additional information from the user: Mention the neighbours.",
    ]);
  });

  it("refines on answers only once the questions stop: 'enough' queues draft 2 with the answers", async () => {
    h = await apiHarness();
    const { thread_id, job_id, questions } = await h.submit();
    const q1 = questions[0]!;
    const continueWith = (answer: Record<string, unknown>) =>
      h!.call("POST", `/api/threads/${thread_id}/continue`, { json: { answers: [answer] } });

    const first = await continueWith({ question_id: q1.question_id, answer: "For beginners in flats" });
    expect(first.json.data.refined_job_id).toBeNull();
    const [q2] = first.json.data.pending_questions;
    expect(q2.question_id).not.toBe(q1.question_id);
    const status = await h.call("GET", `/api/threads/${thread_id}/status`);
    expect(status.json.data.pending_questions).toEqual([q2]);

    const second = await continueWith({ question_id: q2.question_id, action: "skip" });
    expect(second.json.data.updated_understanding.answered).toEqual([
      { question_id: q2.question_id, question: q2.text, answer: null, action: "skip" },
    ]);
    expect(second.json.data.refined_job_id).toBeNull();
    const [q3] = second.json.data.pending_questions;
    expect(q3.question_id).not.toBe(q2.question_id);

    const third = await continueWith({ question_id: q3.question_id, action: "enough" });
    expect(third.json.data).toMatchObject({
      pending_questions: [],
      refined_job_id: expect.any(Number),
      updated_understanding: { stop_reason: "you said enough" },
    });
    const refine = h.jobsRepo.get(third.json.data.refined_job_id);
    expect(refine).toMatchObject({ job_sequence: 2, job_subtype: "refine", parent_job_id: job_id });
    // Only the real answer goes into the prompt: not the skip, not "enough".
    const answers = (refine!.prompt_variables as { answers: string }).answers.split("\n");
    expect(answers).toHaveLength(1);
    expect(answers[0]).toContain(`"${q1.text}" → For beginners in flats`);
    const after = await h.call("GET", `/api/threads/${thread_id}/status`);
    expect(after.json.data.pending_questions).toEqual([]);
  });

  it("maps each answer to ConversationPort.answer and shows the port's next question", async () => {
    const calls: { threadId: number; questionId: number; input: AnswerInput; userId: string }[] = [];
    const next: QuestionView = {
      id: 77,
      threadId: 0,
      position: 2,
      slot: "constraints",
      text: "Any budget?",
      suggestions: ["< 500", "500-1000"],
      templateId: null,
      idea: { shortId: "00000000", title: "An idea" },
    };
    const port: ConversationPort = {
      start: async () => undefined,
      pending: async () => next,
      answer: async (threadId, questionId, input, userId) => {
        calls.push({ threadId, questionId, input, userId });
        return { clarity: 0.8, next, refinedJobId: undefined, stopReason: undefined };
      },
      feedback: async () => ({ recorded: true, followUpJobId: undefined, learned: undefined }),
      close: async () => false,
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
    // A question of another thread is not one of this thread's.
    const other = await h.submit("Plan a small vegetable garden for spring");
    const foreign = await h.call("POST", `/api/threads/${thread_id}/continue`, {
      json: { answers: [{ question_id: other.questions[0]!.question_id, answer: "x" }] },
    });
    expect(foreign.status).toBe(404);
    expect(
      (await h.call("POST", "/api/threads/deadbeef/continue", { json: { information: "x" } })).status,
    ).toBe(404);
  });
});

describe("POST /api/learn/feedback", () => {
  it("feedback: a rating is recorded on the job and thread; adjust queues a rewrite", async () => {
    h = await apiHarness();
    const { thread_id, job_id } = await h.submit();
    const notYet = await h.call("POST", "/api/learn/feedback", { json: { thread_id, job_id, rating: 5 } });
    expect(notYet.status).toBe(400);
    await h.runJobs();
    const rated = await h.call("POST", "/api/learn/feedback", { json: { thread_id, job_id, rating: 4 } });
    expect(rated.status).toBe(200);
    expect(rated.json.data).toMatchObject({
      feedback_recorded: true,
      learning_updated: true,
      learned: expect.any(String),
      follow_up_job_id: null,
    });
    const thread = await h.threadByRef(thread_id);
    const job = await h.threadService.job(thread!, job_id);
    expect(job?.user_feedback).toBe(4);
    const satisfaction = await h.database.db
      .selectFrom("idea_threads")
      .select("user_satisfaction")
      .where("id", "=", thread!.id)
      .executeTakeFirst();
    expect(satisfaction?.user_satisfaction).toBe(4);
    const adjust = await h.call("POST", "/api/learn/feedback", {
      json: { thread_id: thread_id.slice(0, 8), job_id, adjust: "shorter" },
    });
    expect(adjust.json.data).toMatchObject({
      follow_up_job_id: expect.any(Number),
      learned: "I'll keep drafts shorter from now on (see /patterns).",
    });
    const rewrite = h.jobsRepo.get(adjust.json.data.follow_up_job_id);
    expect(rewrite).toMatchObject({
      job_subtype: "rewrite",
      parent_job_id: job_id,
      prompt_template_used: "rewrite",
    });
    expect(rewrite!.prompt_variables).toMatchObject({
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
        close: async () => false,
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
});
