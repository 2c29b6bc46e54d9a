import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import type { Backend, RunRequest, RunResult } from "../src/backends/backend.ts";
import {
  BackendManager,
  type BackendSettings,
  type ManagerOptions,
} from "../src/backends/manager/manager.ts";
import { staticConfig } from "../src/backends/manager/policy.ts";
import { systemClock } from "../src/clock.ts";
import { BudgetRepo } from "../src/store/backends/budget-repo.ts";
import { BackendsRepo } from "../src/store/backends/repo.ts";
import { SelectionHistoryRepo } from "../src/store/backends/selection-history-repo.ts";
import { type HermesDatabase, openDatabase, startIdleCheckpoints } from "../src/store/database.ts";
import { WriteBatch } from "../src/store/write-batch.ts";
import { median, percentile, table } from "./stats.ts";

/**
 * Backend manager benchmark. Selection: one ranking decision over five backends (two local, one
 * self-hosted, two paid with prices, learned scores, budget pre-check against the SQLite ledger).
 * Overhead: `execute()` per call against a zero-latency in-process backend, minus the cost of calling
 * that backend directly — with no persistence, with the SQLite ports (performance row, counters,
 * selection history), and on a paid backend (reserve + settle in budget_ledger too). File database,
 * WAL, synchronous=NORMAL. Each figure is the median of RUNS runs.
 */
const RUNS = 5;
const DECISIONS = 5_000;
const CALLS = 2_000;

const messages = [
  { role: "system" as const, content: "You write drafts." },
  { role: "user" as const, content: "A newsletter for a small bakery that opens a second shop in March." },
];

class ZeroLatency implements Backend {
  readonly kind = "ollama" as const;
  readonly name: string;
  readonly local: boolean;
  constructor(name: string, local: boolean) {
    this.name = name;
    this.local = local;
  }
  async run(request: RunRequest): Promise<RunResult> {
    return { text: "ok", model: request.model, usage: { inputTokens: 30, outputTokens: 2 }, latencyMs: 0 };
  }
  async health() {
    return { status: "healthy" as const, latencyMs: 0 };
  }
  async models() {
    return [];
  }
}

const config = staticConfig({
  "hermes.selection.criteria": "cost_first",
  "hermes.execution.local_first_enabled": true,
  "hermes.selection.prefer_free": true,
  "hermes.budget.daily_budget_cents": 1_000_000,
  "hermes.budget.project_budget_cents": 1_000_000,
  "hermes.projects.min_remote_budget_cents": 0,
  "hermes.budget.default_max_output_tokens": 1000,
  "hermes.selection.max_cost_per_job": 100,
});

const s = (over: Partial<BackendSettings>): BackendSettings => ({
  defaultModel: "llama3.1:8b",
  concurrency: 64,
  enabled: true,
  location: "in-process",
  ...over,
});

async function setup(mode: "none" | "sqlite") {
  const dir = mkdtempSync(join(tmpdir(), "hermes-bench-manager-"));
  const db: HermesDatabase = await openDatabase({ path: join(dir, "m.db"), synchronous: "NORMAL" });
  // As in production; the bench treats every moment as idle (worst case: a checkpoint each second).
  const checkpoints = startIdleCheckpoints(db, { isIdle: () => true });
  const batch = new WriteBatch(db.sqlite);
  const repo = new BackendsRepo(db.sqlite, batch);
  const iso = () => new Date().toISOString();
  const names: [string, boolean][] = [
    ["ollama", true],
    ["talos", true],
    ["server_models", true],
    ["remote_api", false],
    ["gpt5", false],
  ];
  for (const [name, local] of names)
    repo.register(
      { name, type: local ? "local" : "remote_api", enabled: true, primary: false, config: {}, local },
      iso(),
    );
  const options: ManagerOptions = { clock: systemClock, config };
  if (mode === "sqlite") {
    options.stats = {
      recordHealth: (n, h) => repo.recordHealth(n, h, iso()),
      recordCall: (c) => repo.recordCall(c, iso()),
    };
    options.history = new SelectionHistoryRepo(db.sqlite, iso, batch);
    options.scores = { scores: () => repo.scores() };
    options.budget = new BudgetRepo(db.sqlite);
  }
  const manager = new BackendManager(options);
  const backends = new Map<string, ZeroLatency>();
  for (const [name, local] of names) {
    const b = new ZeroLatency(name, local);
    backends.set(name, b);
    const paidModel = name === "gpt5" ? "gpt-5" : "openai/gpt-4o-mini";
    manager.register(
      b,
      s({
        type: name === "server_models" ? "server_model" : local ? "local" : "remote_api",
        defaultModel: local ? "llama3.1:8b" : paidModel,
        preferredFor: name === "talos" ? ["code"] : [],
      }),
    );
  }
  const threadId = Number(
    db.sqlite
      .prepare("INSERT INTO idea_threads (uuid, title, original_request) VALUES ('b', 'b', 'b') RETURNING id")
      .pluck()
      .get(),
  );
  const insertJob = db.sqlite
    .prepare("INSERT INTO jobs (thread_id, job_type) VALUES (?, 'research') RETURNING id")
    .pluck();
  const jobIds = Array.from({ length: CALLS }, () => Number(insertJob.get(threadId)));
  return {
    manager,
    backends,
    jobIds,
    threadId,
    cleanup: async () => {
      batch.flush();
      checkpoints.stop();
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function decisions(manager: BackendManager, withLedger: boolean, threadId: number): number[] {
  const times: number[] = [];
  for (let i = 0; i < DECISIONS; i++) {
    const t = performance.now();
    manager.select({
      jobType: i % 3 === 0 ? "code" : "research",
      messages,
      threadId: withLedger ? threadId : undefined,
    });
    times.push(performance.now() - t);
  }
  return times;
}

/**
 * Sequential calls. Between calls the event loop turns, so the write-behind batch commits; that
 * commit is timed too and added to the call it belongs to (nothing is left out of the figure).
 */
async function calls(
  manager: BackendManager,
  jobIds: number[],
  threadId: number,
  preferBackend: string | undefined,
): Promise<number[]> {
  const times: number[] = [];
  const signal = new AbortController().signal;
  for (let i = 0; i < CALLS; i++) {
    const t = performance.now();
    await manager.execute(
      { jobId: jobIds[i] as number, jobType: "research", messages, threadId, preferBackend, maxTokens: 200 },
      signal,
    );
    const called = performance.now() - t;
    const t2 = performance.now();
    await new Promise<void>((r) => setImmediate(r));
    times.push(called + (performance.now() - t2));
  }
  return times;
}

async function direct(backend: Backend): Promise<number[]> {
  const times: number[] = [];
  const signal = new AbortController().signal;
  for (let i = 0; i < CALLS; i++) {
    const t = performance.now();
    await backend.run({ jobId: i, model: "m", messages }, signal);
    times.push(performance.now() - t);
  }
  return times;
}

export async function run(): Promise<void> {
  const rows: Record<string, { p50: number[]; p99: number[] }> = {};
  const add = (label: string, values: number[], baseline = 0) => {
    rows[label] ??= { p50: [], p99: [] };
    rows[label].p50.push(Math.max(0, percentile(values, 50) - baseline));
    rows[label].p99.push(Math.max(0, percentile(values, 99) - baseline));
  };
  for (let r = 0; r < RUNS; r++) {
    const pure = await setup("none");
    const base = await direct(pure.backends.get("ollama") as Backend);
    const baseP50 = percentile(base, 50);
    add("selection decision, in memory (5 backends)", decisions(pure.manager, false, pure.threadId));
    add(
      "overhead per call, no persistence (local)",
      await calls(pure.manager, pure.jobIds, pure.threadId, undefined),
      baseP50,
    );
    await pure.cleanup();

    const full = await setup("sqlite");
    add("selection decision, SQLite ledger + scores", decisions(full.manager, true, full.threadId));
    add(
      "overhead per call, SQLite ports (local)",
      await calls(full.manager, full.jobIds, full.threadId, undefined),
      baseP50,
    );
    await full.cleanup();

    const paid = await setup("sqlite");
    add(
      "overhead per call, paid: reserve + settle",
      await calls(paid.manager, paid.jobIds, paid.threadId, "remote_api"),
      baseP50,
    );
    await paid.cleanup();
  }
  const out = table(
    ["what (ms; median of 5 runs)", "p50", "p99", "target"],
    Object.entries(rows).map(([label, v]) => [
      label,
      median(v.p50),
      median(v.p99),
      label.startsWith("selection") ? "p99 ≤ 1" : "p99 ≤ 5 (whole job)",
    ]),
  );
  console.log(out);
  writeFileSync(join(import.meta.dirname, "results", "manager.md"), `${out}\n`);
}

if (process.argv[1] && import.meta.filename === process.argv[1]) await run();
