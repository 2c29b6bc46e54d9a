import type { ThreadRecord } from "../../store/threads/repo.ts";
import type { JobRecord, ThreadContext, ThreadProgress, ThreadStage } from "./records.ts";

/** Where a thread stands (stage, percent done) and how long new work is likely to take. */

const ACTIVE = new Set(["pending", "queued", "running", "retrying"]);

export function threadProgress(
  thread: ThreadRecord,
  jobs: JobRecord[],
  pendingQuestions: number,
): ThreadProgress {
  const completed = jobs.filter((j) => j.status === "completed").length;
  const failed = jobs.filter((j) => j.status === "failed").length;
  const cancelled = jobs.filter((j) => j.status === "cancelled").length;
  const active = jobs.filter((j) => ACTIVE.has(j.status));
  const counted = jobs.length - cancelled;
  let stage: ThreadStage;
  if (active.some((j) => j.status === "running"))
    stage = completed > 0 || active.some((j) => j.job_sequence > 1) ? "refining" : "drafting";
  else if (active.some((j) => j.status === "retrying")) stage = "retrying";
  else if (active.length > 0) stage = "queued";
  else if (pendingQuestions > 0) stage = "waiting_for_answers";
  else if (completed > 0) stage = "done";
  else if (failed > 0) stage = "failed";
  else if (cancelled > 0) stage = "cancelled";
  else stage = "queued";
  const percent =
    active.length === 0 && completed > 0
      ? 100
      : counted <= 0
        ? 0
        : Math.round((100 * (completed + failed)) / counted);
  return {
    stage,
    percent,
    jobs_total: jobs.length,
    jobs_completed: completed,
    jobs_active: active.length,
    jobs_failed: failed,
    jobs_cancelled: cancelled,
    clarity: thread.final_clarity_score,
    drafts: thread.draft_count,
  };
}

/** Completed jobs the estimate averages over. */
const RECENT_RUNS = 20;
/** How long one reading of the estimate's inputs serves: an estimate in whole minutes moves slower. */
const INPUTS_FRESH_MS = 1000;

interface Inputs {
  /** Average run time of the last RECENT_RUNS completed jobs (90 s before any). */
  avgSeconds: number;
  /** Jobs pending, queued, retrying or running. */
  active: number;
}

/**
 * What the estimate is computed from, read at most once a second: every API submit shows an
 * estimate, and at hundreds of ideas a second its two queries each time were ~2% of an idea's CPU
 * (bench/per-idea.ts) for a figure in whole minutes.
 */
export class EstimateInputs {
  readonly #d: Pick<ThreadContext, "jobs" | "queue" | "clock">;
  #read: { at: number; inputs: Promise<Inputs> } | undefined;

  constructor(d: Pick<ThreadContext, "jobs" | "queue" | "clock">) {
    this.#d = d;
  }

  read(): Promise<Inputs> {
    const now = this.#d.clock.now();
    if (this.#read && now >= this.#read.at && now - this.#read.at < INPUTS_FRESH_MS) return this.#read.inputs;
    const inputs = this.#readNow();
    this.#read = { at: now, inputs };
    // A failed read is not kept: the next estimate reads again.
    inputs.catch(() => {
      if (this.#read?.inputs === inputs) this.#read = undefined;
    });
    return inputs;
  }

  async #readNow(): Promise<Inputs> {
    const active = this.#d.queue.depth();
    const times = await this.#d.jobs.recentRunSeconds(RECENT_RUNS);
    const avgSeconds = times.length > 0 ? times.reduce((a, b) => a + b, 0) / times.length : 90;
    return { avgSeconds, active };
  }
}

/** Minutes until a job queued now is likely done: recent average run time × work ahead ÷ slots. */
export async function estimateMinutes(inputs: EstimateInputs, slots = 1): Promise<number> {
  const { avgSeconds, active } = await inputs.read();
  const ahead = Math.max(1, active);
  return Math.max(1, Math.ceil((ahead * avgSeconds) / Math.max(1, slots) / 60));
}
