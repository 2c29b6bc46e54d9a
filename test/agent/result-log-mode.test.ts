import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { FinishedJob } from "../../agent/jobs/types.ts";
import { createResultLog } from "../../agent/result-log.ts";

// Hardening issue #16, item 4: Talos' results quote users' work, so the file is owner-only.
const modeOf = (path: string) => statSync(path).mode & 0o777;
const job: FinishedJob = {
  job_id: "j1",
  status: "completed",
  model: "llama3.1:8b",
  created_at: "2026-01-15T12:00:00Z",
  finished_at: "2026-01-15T12:00:05Z",
  tokens: 12,
};
let dir: string;
let umask: number;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "talos-modes-"));
  umask = process.umask(0o022);
});
afterEach(() => {
  process.umask(umask);
  rmSync(dir, { recursive: true, force: true });
});

/** Appends one job and waits until its line is on disk. */
async function logOne(logDir: string, errors: unknown[]): Promise<string> {
  const log = createResultLog(logDir, (e) => errors.push(e));
  log(job);
  await log.flushed();
  const file = join(logDir, "talos-results.jsonl");
  expect(readFileSync(file, "utf8")).toContain('"j1"');
  return file;
}

describe("Talos results file", () => {
  it("is created 0600 in a new 0700 folder", async () => {
    const errors: unknown[] = [];
    const logDir = join(dir, "logs");
    const file = await logOne(logDir, errors);
    expect(modeOf(logDir)).toBe(0o700);
    expect(modeOf(file)).toBe(0o600);
    expect(errors).toEqual([]);
  });

  it("tightens a file an older version left 0644", async () => {
    const errors: unknown[] = [];
    const old = join(dir, "talos-results.jsonl");
    writeFileSync(old, "");
    chmodSync(old, 0o644);
    await logOne(dir, errors);
    expect(modeOf(old)).toBe(0o600);
    expect(errors).toEqual([]);
  });
});
