import { randomUUID } from "node:crypto";
import { HermesError, isStorageFull, storageFullError } from "../../errors.ts";
import { quickAnalyze } from "../../learning/quick-analysis.ts";
import type { Job, NewJob } from "../../store/jobs/repo.ts";
import type { ThreadRecord } from "../../store/threads/repo.ts";
import { NO_QUESTIONS_PREPARED } from "../conversation/start.ts";
import type { Assumption, QuestionView } from "../conversation/types.ts";
import {
  type EngineDeps,
  LOCAL_ONLY,
  type SubmitIdeaInput,
  type SubmitIdeaResult,
  shortIdOf,
} from "../ports.ts";
import { type VisionTarget, visionTarget, visionVariables } from "./vision.ts";

/**
 * The engine's submit path: checks the idea (length, rate), then in one transaction a guest's
 * quota, the queue's capacity, the thread and draft 1's job; then starts the questions beside it.
 * Returns within milliseconds, plus at most hermes.classification.deadline_ms while the model
 * words the first question.
 */
export async function submitIdea(d: EngineDeps, input: SubmitIdeaInput): Promise<SubmitIdeaResult> {
  const text = checkIdea(d, input);
  const analysis = quickAnalyze(text);
  const now = new Date(d.clock.now()).toISOString();
  const priority = input.priority ?? 5;
  const vision = visionTarget(d.config, input, d.backends.status());
  let created: ThreadRecord | undefined;
  // Quota, queue capacity, thread and job in one transaction: a refused idea leaves nothing behind.
  const job = await admit(d, () => {
    if (input.guest) spendGuestQuota(d, input.userId);
    const thread = d.intake.createThread({
      uuid: randomUUID(),
      title: analysis.title,
      originalRequest: text,
      ideaType: analysis.ideaType,
      complexity: analysis.complexity,
      priority,
      initialClarity: analysis.clarity,
      userId: input.userId,
      chatId: input.chatId ?? null,
      source: input.source,
      callbackUrl: input.callbackUrl ?? null,
      now,
    });
    created = thread;
    return {
      threadId: thread.id,
      jobSequence: 1,
      jobType: analysis.ideaType,
      jobSubtype: "draft",
      priority,
      promptTemplate: "draft",
      promptVariables: {
        idea: text,
        idea_type: analysis.ideaType,
        ...(input.validate ? { validate: "true" } : {}),
        ...(vision && input.images ? visionVariables(input.images, vision) : {}),
      },
      userId: input.userId,
      achievedClarity: analysis.clarity,
      requestedBackend: input.guest ? LOCAL_ONLY : (vision?.backend ?? null),
    };
  });
  const thread = created as ThreadRecord;
  const { question, noQuestion, assumptions } = await startQuestions(d, thread.id, input.userId, job);
  return {
    thread,
    shortId: shortIdOf(thread.uuid),
    job,
    analysis,
    backend: previewOn(d, vision),
    ...backendRemedies(d),
    question,
    ...(noQuestion !== undefined ? { noQuestion } : {}),
    ...(assumptions !== undefined ? { assumptions } : {}),
    vision,
  };
}

/**
 * Enqueues with `prepare` (see JobQueue.enqueueWith). A full disk refuses the idea with a clear
 * STORAGE_FULL (nothing of it was written) and is reported; an idea stored after it ends the fault.
 */
async function admit(d: EngineDeps, prepare: () => NewJob): Promise<Job> {
  try {
    const job = await d.queue.enqueueWith(prepare);
    d.storage?.stored("intake");
    return job;
  } catch (error) {
    if (!d.storage?.report(error, "intake") && !isStorageFull(error)) throw error;
    throw storageFullError(error);
  }
}

/** The idea text, trimmed, once it is not empty, not too long and the sender is within their rate. */
function checkIdea(d: EngineDeps, input: SubmitIdeaInput): string {
  const text = input.text.trim();
  if (text === "")
    throw new HermesError("INVALID_INPUT", "The idea is empty.", {
      userAction: "Send a few words about what you want.",
    });
  const max = d.config.number("hermes.web.max_input_length");
  if (text.length > max) {
    throw new HermesError(
      "INVALID_INPUT",
      `The idea is ${text.length} characters long; the limit is ${max}.`,
      {
        details: "text",
        userAction: `Shorten it to ${max} characters or fewer (or split it into several ideas).`,
      },
    );
  }
  const wait = d.rateLimiter.take(input.rateKey ?? input.userId);
  if (wait > 0) {
    throw new HermesError("RATE_LIMITED", "You are sending ideas faster than Hermes takes them.", {
      retryAfter: wait,
      userAction: `Wait ${wait} s and send it again.`,
    });
  }
  return text;
}

/**
 * Questions start at the same moment as the draft; a failure here never costs the draft. Without
 * a first question the user is told why (the rule: a question, or a true word why not). With the
 * port's `open`, the assumptions shown with the question come along (ThreadService reads them
 * otherwise).
 */
async function startQuestions(
  d: EngineDeps,
  threadId: number,
  userId: string,
  draft1: Job,
): Promise<{ question?: QuestionView; noQuestion?: string; assumptions?: Assumption[] }> {
  if (!d.conversation) return {};
  try {
    if (d.conversation.open) {
      const { question, ...rest } = await d.conversation.open(threadId, userId, draft1);
      return question ? { question, ...rest } : rest;
    }
    const question = await d.conversation.start(threadId, userId);
    if (question) return { question };
    const why = await d.conversation.whyNoQuestion?.(threadId);
    return why === undefined ? {} : { noQuestion: why };
  } catch (error) {
    d.log.warn({ err: String(error), threadId }, "could not plan questions; drafting without");
    return { noQuestion: NO_QUESTIONS_PREPARED };
  }
}

/** Where draft 1 is expected to run: on the vision backend with the vision model when images came. */
function previewOn(d: EngineDeps, vision: VisionTarget | undefined): SubmitIdeaResult["backend"] {
  const preview = d.backends.preview(vision?.backend);
  return preview && vision && preview.name === vision.backend ? { ...preview, model: vision.model } : preview;
}

/** What the acknowledgement needs to give the right remedy when no backend can draft now. */
function backendRemedies(d: EngineDeps): Pick<SubmitIdeaResult, "disabledBackends" | "unreachableBackends"> {
  const all = d.backends.status();
  return {
    disabledBackends: all.filter((b) => !b.enabled).map((b) => b.name),
    unreachableBackends: all
      .filter((b) => b.enabled && b.health === "unhealthy")
      .map((b) => ({ name: b.name, location: b.location })),
  };
}

/**
 * Counts the idea against a guest's day in the quota ledger (not their threads, which /forget
 * deletes); RATE_LIMITED once the day's quota is used. Runs inside the intake transaction.
 */
function spendGuestQuota(d: EngineDeps, userId: string): void {
  const quota = d.config.number("hermes.guests.daily_quota");
  const dayStart = new Date(d.clock.now());
  dayStart.setUTCHours(0, 0, 0, 0);
  const day = dayStart.toISOString().slice(0, 10);
  if (d.intake.quotaUsed(userId, day) >= quota) {
    throw new HermesError("RATE_LIMITED", `Guests may send ${quota} idea(s) a day, and today's are used.`, {
      retryAfter: Math.ceil((dayStart.getTime() + 86_400_000 - d.clock.now()) / 1000),
      userAction: "Try again tomorrow.",
    });
  }
  d.intake.spendQuota(userId, day);
}
