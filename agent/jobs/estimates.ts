import { isFinalStatus } from "../protocol.ts";
import type { Job } from "./types.ts";

/** Weight of the newest duration in a model's moving average. */
const EMA_WEIGHT = 0.3;

const round1 = (n: number): number => Math.round(n * 10) / 10;

/** How long jobs take: a moving average of completed jobs' durations per model, and each job's ETA. */
export class JobEstimates {
  /** Moving average of completed jobs' durations per model, ms. */
  readonly #durations = new Map<string, number>();

  remember(model: string, ms: number): void {
    const prev = this.#durations.get(model);
    this.#durations.set(model, prev === undefined ? ms : prev * (1 - EMA_WEIGHT) + ms * EMA_WEIGHT);
  }

  /** Seconds left: from the token rate when num_predict bounds the answer, else the model's average. */
  eta(job: Job, now: number): number | null {
    if (isFinalStatus(job.status)) return 0;
    if (
      job.numPredict !== undefined &&
      job.numPredict > 0 &&
      job.tokens > 0 &&
      job.firstTokenAt !== undefined
    ) {
      const streamingMs = now - job.firstTokenAt;
      if (streamingMs > 0) {
        const perToken = streamingMs / job.tokens;
        return round1((Math.max(0, job.numPredict - job.tokens) * perToken) / 1000);
      }
    }
    const average = this.#durations.get(job.model);
    if (average === undefined) return null;
    return round1(Math.max(0, average - (now - job.startedAt)) / 1000);
  }
}
