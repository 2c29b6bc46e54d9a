import { appendFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { FinishedJob } from "./jobs/types.ts";

/**
 * TALOS_LOG_DIR: every finished job as one JSON line in `<dir>/talos-results.jsonl` (the text only
 * for completed jobs). Writes are queued so lines never interleave; a failed write is reported to
 * `onError` and does not affect the job.
 */
export function createResultLog(dir: string, onError: (err: unknown) => void): (job: FinishedJob) => void {
  const file = join(dir, "talos-results.jsonl");
  let chain: Promise<void> = mkdir(dir, { recursive: true }).then(
    () => undefined,
    (err: unknown) => onError(err),
  );
  return (job) => {
    const line = `${JSON.stringify(job)}\n`;
    chain = chain.then(() => appendFile(file, line, "utf8")).catch(onError);
  };
}
