import type { Job } from "../store/jobs/types.ts";
import type { DraftReady } from "./ports.ts";

/**
 * The domain event "a draft is ready", built from the completed job: transports show it as it is
 * (they never read the job's prompt variables to explain a draft).
 */
/** `source`: the draft a rewrite worked on, so what is said about its length is measured. */
export function draftReady(job: Job, source?: Pick<Job, "full_result">): DraftReady {
  return {
    threadId: job.thread_id,
    jobId: job.id,
    draftNumber: job.job_sequence,
    text: job.full_result ?? "",
    backend: job.backend_used ?? undefined,
    model: job.model_used ?? undefined,
    whatChanged: whatChanged(job, source?.full_result ?? undefined),
  };
}

/**
 * One sentence on what a later draft changed, written for the person reading it (not the prompt's
 * wording): "Refined with your answers: the public; focused on the first issue."
 */
export function whatChanged(
  job: Pick<Job, "job_sequence" | "job_subtype" | "prompt_variables"> & { full_result?: string | null },
  sourceText?: string,
): string | undefined {
  const vars = job.prompt_variables;
  if (job.job_sequence < 2 || !vars) return undefined;
  if (job.job_subtype === "rewrite" && vars.instruction)
    return rewriteSentence(oneLine(vars.instruction), sourceText, job.full_result ?? undefined);
  const { answers, added, assumed } = readAnswers(String(vars.answers ?? ""));
  const sentences = [
    answers.length > 0 ? `Refined with your answers: ${list(answers)}.` : "",
    added.length > 0 ? `Added what you told me: ${list(added)}.` : "",
    assumed.length > 0 ? `Assumed from earlier conversations: ${list(assumed)}.` : "",
  ].filter(Boolean);
  return sentences.length > 0 ? cut(sentences.join(" "), 300) : "Refined from the first draft.";
}

const oneLine = (v: unknown) =>
  String(v ?? "")
    .replace(/\s+/g, " ")
    .trim();
const cut = (s: string, max: number) => (s.length > max ? `${s.slice(0, max - 1)}…` : s);
/** "The public" reads as "the public" mid-sentence; "NASA" stays. */
const midSentence = (s: string) => (/^[A-Z][a-z]/.test(s) ? s[0]?.toLowerCase() + s.slice(1) : s);
const list = (items: string[]) => items.map((i) => midSentence(cut(i.replace(/[.\s]+$/, ""), 80))).join("; ");

/**
 * The adjustment buttons' instructions, said as what was done — measured, never the instruction's
 * own promise: "Shorter, as you asked: 1,240 → 610 characters (49%)", or that it did not get shorter.
 */
function rewriteSentence(instruction: string, before?: string, after?: string): string {
  const shorter = /^make it noticeably shorter/i.test(instruction);
  const longer = /^add more detail/i.test(instruction);
  if (!shorter && !longer) return `Rewritten as you asked: ${cut(instruction, 200)}`;
  if (before === undefined || after === undefined || before.trim() === "")
    return shorter ? "Rewritten shorter, as you asked." : "Rewritten with more detail, as you asked.";
  const [b, a] = [before.trim().length, after.trim().length];
  const sizes = `${b.toLocaleString("en")} → ${a.toLocaleString("en")} characters (${Math.round((a / b) * 100)}%)`;
  if (shorter)
    return a < b
      ? `Shorter, as you asked: ${sizes}.`
      : `You asked for shorter, but this version is not shorter: ${sizes}. Press ✂ Shorter again to retry.`;
  return a > b
    ? `More detail, as you asked: ${sizes}.`
    : `You asked for more detail, but this version is not longer: ${sizes}. Press ➕ More detail again to retry.`;
}

/**
 * The refine prompt's `answers` lines (conversation/drafts.ts writes them): `- Label — "question" →
 * answer`, `- Label (assumed from earlier conversations): value`, `- Additional information from
 * the user: text`. Anything else counts as an answer as written.
 */
function readAnswers(text: string): { answers: string[]; added: string[]; assumed: string[] } {
  const out = { answers: [] as string[], added: [] as string[], assumed: [] as string[] };
  for (const raw of text.split(/\n(?=- )/)) {
    const line = oneLine(raw).replace(/^- /, "");
    if (!line || /^\(no answers/.test(line)) continue;
    const info = /^Additional information from the user:\s*(.*)$/.exec(line);
    const assumed = /^.*?\(assumed from earlier conversations\):\s*(.*)$/.exec(line);
    const answered = / → (.*)$/.exec(line);
    if (info?.[1]) out.added.push(info[1]);
    else if (assumed?.[1]) out.assumed.push(assumed[1]);
    else out.answers.push(answered?.[1] ?? line);
  }
  return out;
}
