import type { RunProgress } from "../backends/backend.ts";
import type { ConsensusInfo, ConsensusResult } from "../backends/manager/manager.ts";
import { HermesError } from "../errors.ts";
import type { DispatchContext, DispatchOutcome } from "../queue/scheduler/scheduler.ts";
import type { PromptVariables } from "../store/jobs/types.ts";
import { consensusNote } from "./consensus-note.ts";
import { resolvePromptVariables } from "./conversation/flow.ts";
import { type EngineDeps, LOCAL_ONLY } from "./ports.ts";
import { jobImages } from "./threads/vision.ts";

/**
 * The scheduler's dispatcher: renders the job's prompt and runs it through the backend manager
 * (by consensus when the job asked for validation); an empty answer is a retryable backend error.
 */
export async function dispatchJob(d: EngineDeps, ctx: DispatchContext): Promise<DispatchOutcome> {
  const { job } = ctx;
  const vars = resolvePromptVariables(job, textVars(job.prompt_variables), (id) => d.queue.get(id));
  const template = job.prompt_template_used ?? "draft";
  // Learned preferences reach every draft as they stand now (a "Shorter" pressed since included).
  if (
    (template === "draft" || template === "refine" || template === "rewrite") &&
    job.user_id &&
    d.insights?.preferencesFor
  )
    vars.preferences = await d.insights.preferencesFor(job.user_id);
  vars.preferences ??= "(none known yet)";
  // An idea sent with images: its draft sees them, on the vision model (./threads/vision.ts).
  const seen = jobImages(job.prompt_variables);
  const messages = [
    { role: "system" as const, content: d.prompts.template("system") },
    { role: "user" as const, content: d.prompts.render(template, vars), images: seen?.images },
  ];
  const started = d.clock.now();
  const request = {
    jobId: job.id,
    jobType: job.job_type,
    // What the job needs is its kind of work; each backend runs its own model for it.
    work: template,
    threadId: job.thread_id,
    messages,
    model: seen?.model,
    preferBackend:
      job.requested_backend && job.requested_backend !== LOCAL_ONLY ? job.requested_backend : undefined,
    localOnly: job.requested_backend === LOCAL_ONLY,
  };
  const progress = (p: RunProgress) => ctx.progress(p.tokens, p.textSoFar);
  // A job that asked for validation runs k samples across backends and is flagged when they disagree.
  const result =
    vars.validate === "true"
      ? await d.backends.executeWithConsensus(request, ctx.signal, progress)
      : await d.backends.execute(request, ctx.signal, progress);
  let text = result.text.trim();
  if (text === "")
    throw new HermesError("BACKEND_ERROR", `${result.backend} returned an empty answer`, {
      retryable: true,
    });
  const consensus: ConsensusInfo | undefined =
    "consensus" in result ? (result as ConsensusResult).consensus : undefined;
  // A validated draft says what was compared and how far it agreed, whether or not it passed.
  if (consensus) text = `${consensusNote(consensus)}\n\n${text}`;
  return {
    text,
    summary: summarise(text),
    backend: result.backend,
    model: result.model,
    costCents: result.costCents ?? 0,
    executionMs: result.latencyMs || d.clock.now() - started,
    fallbackUsed: result.fallbackUsed,
    confidence: result.confidence,
    modelConfidence: consensus?.agreement,
  };
}

/** Template variables as text: strings as they are, anything else as JSON. */
function textVars(vars: PromptVariables | null): Record<string, string> {
  if (!vars) return {};
  return Object.fromEntries(
    Object.entries(vars)
      // Images go to the model as images, not as text in the prompt.
      .filter(([k]) => k !== "images")
      .map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]),
  );
}

/** The first paragraph, cut at a word boundary: what lists and notifications show. */
export function summarise(text: string, max = 280): string {
  const para =
    text
      .split(/\n\s*\n/)
      .find((p) => p.trim() !== "")
      ?.trim() ?? text.trim();
  const flat = para.replace(/\s+/g, " ").replace(/^#+\s*/, "");
  return flat.length <= max ? flat : `${flat.slice(0, max - 1).replace(/\s+\S*$/, "")}…`;
}
