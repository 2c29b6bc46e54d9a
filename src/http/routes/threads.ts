import type { Hono } from "hono";
import type { AnswerInput, QuestionView } from "../../engine/conversation/types.ts";
import type { SubmitIdeaResult } from "../../engine/engine.ts";
import type { ContinueOutcome, ThreadRecord } from "../../engine/threads/service.ts";
import { HermesError } from "../../errors.ts";
import type { ApiEnv } from "../envelope.ts";
import { jsonBody } from "../middleware/body.ts";
import { cancelSchema, continueSchema, jobIdParam, optimizeSchema, submitSchema } from "../schemas.ts";
import {
  actingUser,
  apiActor,
  downloadPath,
  type RouteContext,
  resolveThread,
  resultPath,
  statusPath,
} from "./context.ts";
import { assumptionView, jobView, questionFromPort, threadView } from "./views.ts";

type ApiApp = Hono<ApiEnv>;

/** Submitting ideas and following threads: /api/submit and /api/threads/:id/… */
export function registerThreadRoutes(api: ApiApp, rc: RouteContext): void {
  for (const register of [
    submitRoute,
    statusRoute,
    jobResultRoute,
    jobDownloadRoute,
    continueRoute,
    optimizeRoute,
    cancelRoute,
  ])
    register(api, rc);
}

function submitRoute(api: ApiApp, rc: RouteContext): void {
  api.post("/api/submit", async (c) => {
    const { value } = await jsonBody(c, submitSchema(), rc.bodyLimit());
    const result = await rc.deps.threads.submit(apiActor(c), {
      text: value.idea,
      source: "api",
      priority: value.priority,
      validate: value.validate,
    });
    return rc.envelopes.ok(c, await submitted(rc, result), 202);
  });
}

function statusRoute(api: ApiApp, rc: RouteContext): void {
  api.get("/api/threads/:id/status", async (c) => {
    const thread = await resolveThread(rc, c, c.req.param("id"));
    return rc.envelopes.ok(c, await statusOf(rc, thread));
  });
}

function jobResultRoute(api: ApiApp, rc: RouteContext): void {
  api.get("/api/threads/:id/jobs/:job/result", async (c) => {
    const thread = await resolveThread(rc, c, c.req.param("id"));
    const job = await jobOf(rc, thread, c.req.param("job"));
    const done = job.status === "completed";
    return rc.envelopes.ok(c, {
      thread_id: thread.uuid,
      ...jobView(thread, job),
      title: thread.title,
      full_result: done ? job.full_result : null,
      cost_cents: job.cost_cents,
      user_feedback: job.user_feedback,
      download_url: done && job.full_result !== null ? downloadPath(thread.uuid, job.id) : null,
    });
  });
}

function jobDownloadRoute(api: ApiApp, rc: RouteContext): void {
  api.get("/api/threads/:id/jobs/:job/result.md", async (c) => {
    const thread = await resolveThread(rc, c, c.req.param("id"));
    const job = await jobOf(rc, thread, c.req.param("job"));
    if (job.status !== "completed" || job.full_result === null)
      throw new HermesError("NOT_FOUND", `Job ${job.id} has no result yet (it is ${job.status}).`, {
        details: "job_id",
        userAction: `Follow ${statusPath(thread.uuid)} and download once the job is completed.`,
      });
    const body = `# ${thread.title} — draft ${job.job_sequence}\n\n${job.full_result.trim()}\n`;
    c.header("Content-Type", "text/markdown; charset=utf-8");
    c.header(
      "Content-Disposition",
      `attachment; filename="hermes-${thread.uuid.slice(0, 8)}-job-${job.id}.md"`,
    );
    return c.body(body);
  });
}

function continueRoute(api: ApiApp, rc: RouteContext): void {
  api.post("/api/threads/:id/continue", async (c) => {
    const thread = await resolveThread(rc, c, c.req.param("id"));
    const { value } = await jsonBody(c, continueSchema(), rc.bodyLimit());
    const out = await rc.deps.threads.continue(apiActor(c), thread.id, {
      information: value.information,
      answers: value.answers?.map((a) => ({ questionId: a.question_id, input: answerInput(a) })),
      corrections: value.corrections,
    });
    return rc.envelopes.ok(c, continued(thread, out));
  });
}

function optimizeRoute(api: ApiApp, rc: RouteContext): void {
  api.post("/api/threads/:id/optimize", async (c) => {
    const thread = await resolveThread(rc, c, c.req.param("id"));
    await jsonBody(c, optimizeSchema(), rc.bodyLimit(), { optional: true });
    const out = await rc.deps.learning.optimize(thread.id, actingUser(c, thread));
    return rc.envelopes.ok(c, {
      thread_id: thread.uuid,
      optimization_applied: out.applied.length > 0,
      applied: out.applied,
      expected_improvements: out.expectedImprovements,
      follow_up_job_id: out.followUpJobId ?? null,
      message: out.message ?? null,
    });
  });
}

function cancelRoute(api: ApiApp, rc: RouteContext): void {
  api.post("/api/threads/:id/cancel", async (c) => {
    const thread = await resolveThread(rc, c, c.req.param("id"));
    const { value } = await jsonBody(c, cancelSchema(), rc.bodyLimit(), { optional: true });
    const out = await rc.deps.threads.cancel(apiActor(c), {
      ref: thread.uuid,
      reason: value.reason ?? "cancelled through the API",
    });
    const cancelled = out?.cancelled ?? [];
    const questionsClosed = out?.questionsClosed ?? false;
    rc.deps.log.info(
      { threadId: thread.id, jobs: cancelled, questionsClosed, client: c.get("client") },
      "thread cancelled via API",
    );
    const parts = [
      ...(cancelled.length > 0 ? [`Cancelled ${cancelled.length} unfinished job(s).`] : []),
      ...(questionsClosed ? ["Closed the open questions."] : []),
    ];
    return rc.envelopes.ok(c, {
      thread_id: thread.uuid,
      cancelled_job_ids: cancelled,
      questions_closed: questionsClosed,
      message:
        parts.length > 0 ? parts.join(" ") : "Nothing to cancel: every job of this thread has finished.",
    });
  });
}

async function jobOf(rc: RouteContext, thread: ThreadRecord, raw: string) {
  const id = jobIdParam(raw);
  const job = await rc.deps.threads.job(thread, id);
  if (!job)
    throw new HermesError("NOT_FOUND", `Thread ${thread.uuid.slice(0, 8)} has no job ${id}.`, {
      details: "job_id",
      userAction: `List the thread's jobs with GET ${statusPath(thread.uuid)}.`,
    });
  return job;
}

/** The response of both submit endpoints. */
export async function submitted(rc: RouteContext, r: SubmitIdeaResult) {
  const { deps } = rc;
  const uuid = r.thread.uuid;
  // The engine starts the front-loaded questions itself (ConversationPort.start) when wired.
  const first: QuestionView | undefined = r.question;
  const b = r.backend;
  const steps = [
    b && b.health !== "unhealthy"
      ? `Draft 1 is queued on ${b.name} (${b.model}).`
      : "Draft 1 is queued; no backend is reachable right now, so it starts as soon as one is.",
  ];
  if ((r.assumptions ?? []).length > 0)
    steps.push(
      `Assumed from earlier: see assumptions; correct any with POST /api/threads/${uuid}/continue {"corrections": [slot]}.`,
    );
  if (first)
    steps.push(`Answer the question(s) with POST /api/threads/${uuid}/continue to get a refined draft.`);
  else steps.push(`Add anything useful with POST /api/threads/${uuid}/continue to get a refined draft.`);
  // No first question: why, so a client never waits for one.
  if (!first && r.noQuestion !== undefined) steps.push(r.noQuestion);
  steps.push(`Follow progress with GET ${statusPath(uuid)}.`);
  return {
    thread_id: uuid,
    short_id: r.shortId,
    status: "processing",
    job_id: r.job.id,
    idea_type: r.analysis.ideaType,
    estimated_time_minutes: await deps.threads.estimateMinutes(deps.slots?.() ?? 1),
    backend: b ? { name: b.name, model: b.model, health: b.health } : null,
    questions: first ? [questionFromPort(first)] : [],
    assumptions: (r.assumptions ?? []).map(assumptionView),
    next_steps: steps,
    status_url: statusPath(uuid),
  };
}

async function statusOf(rc: RouteContext, thread: ThreadRecord) {
  const jobs = await rc.deps.threads.jobs(thread);
  const open = await rc.deps.threads.openQuestion(thread);
  const assumptions = await rc.deps.threads.assumptions(thread);
  const pending = open ? [questionFromPort(open)] : [];
  const progress = rc.deps.threads.progress(thread, jobs, pending.length);
  const active = jobs.filter((j) => ["running", "retrying", "queued", "pending"].includes(j.status));
  const current = active.find((j) => j.status === "running") ?? active[0];
  const completed = jobs.filter((j) => j.status === "completed");
  const latest = completed.at(-1);
  return {
    ...threadView(thread),
    progress,
    current_job: current ? jobView(thread, current) : null,
    completed_jobs: completed.map((j) => jobView(thread, j)),
    other_jobs: jobs.filter((j) => j !== current && j.status !== "completed").map((j) => jobView(thread, j)),
    pending_questions: pending,
    assumptions: assumptions.map(assumptionView),
    results: latest
      ? {
          latest_job_id: latest.id,
          summary: latest.result_summary,
          result_url: resultPath(thread.uuid, latest.id),
          download_url: latest.full_result !== null ? downloadPath(thread.uuid, latest.id) : null,
        }
      : null,
  };
}

type AnswerBody = {
  answer?: string | undefined;
  suggestion_index?: number | undefined;
  action?: "skip" | "enough" | undefined;
};

/** A chosen suggestion stays a tap (its speed and clarity are learned as such); text is a typed answer. */
const answerInput = (a: AnswerBody): AnswerInput =>
  a.action === "skip"
    ? { kind: "skip" }
    : a.action === "enough"
      ? { kind: "enough" }
      : a.suggestion_index !== undefined
        ? { kind: "suggestion", index: a.suggestion_index }
        : { kind: "text", text: a.answer ?? "" };

/** The response of /continue: what the thread service did, in the API's shape. */
function continued(thread: ThreadRecord, out: ContinueOutcome) {
  const pending = out.open ? [questionFromPort(out.open)] : [];
  const steps: string[] = [];
  if (out.refinedJobId !== undefined) steps.push(`A refined draft (job ${out.refinedJobId}) is queued.`);
  else if (out.informationAdded)
    steps.push("Your information goes into the refined draft once the questions are done.");
  if (pending.length > 0) steps.push(`Answer the next question (${pending.length} open).`);
  steps.push(`Follow progress with GET ${statusPath(thread.uuid)}.`);
  return {
    thread_id: thread.uuid,
    updated_understanding: {
      clarity: out.clarity,
      answered: out.answered.map((a) => ({
        question_id: a.questionId,
        question: a.question,
        answer: a.input.kind === "text" ? a.input.text : (a.answerText ?? null),
        ...(a.input.kind === "suggestion" ? { suggestion_index: a.input.index } : {}),
        action: a.input.kind === "skip" || a.input.kind === "enough" ? a.input.kind : null,
      })),
      information_added: out.informationAdded,
      corrected: out.corrected,
      stop_reason: out.stopReason ?? null,
    },
    pending_questions: pending,
    refined_job_id: out.refinedJobId ?? null,
    next_steps: steps,
  };
}
