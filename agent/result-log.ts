import { appendFile, chmod, mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { FinishedJob } from "./jobs/types.ts";

/**
 * TALOS_LOG_DIR: every finished job as one JSON line in `<dir>/talos-results.jsonl` (the text only
 * for completed jobs). Writes are queued so lines never interleave; a failed write is reported to
 * `onError` and does not affect the job. The results quote users' work: owner-only (file 0600, the
 * directory 0700 when Talos creates it), and a file left 0644 by an older version is tightened.
 */
export interface ResultLog {
  (job: FinishedJob): void;
  /** Resolves once every line logged so far is written (or its failure reported). */
  flushed(): Promise<void>;
}

export function createResultLog(dir: string, onError: (err: unknown) => void): ResultLog {
  const file = join(dir, "talos-results.jsonl");
  let chain: Promise<void> = mkdir(dir, { recursive: true, mode: 0o700 })
    .then(() => chmod(file, 0o600))
    .catch((err: unknown) => {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") onError(err);
    });
  const log = (job: FinishedJob) => {
    const line = `${JSON.stringify(job)}\n`;
    chain = chain.then(() => appendFile(file, line, { encoding: "utf8", mode: 0o600 })).catch(onError);
  };
  return Object.assign(log, { flushed: () => chain });
}
