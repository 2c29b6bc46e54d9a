import { type HermesError, toHermesError } from "../../errors.ts";
import type { RunProgress } from "../backend.ts";
import { isMissingModel } from "../http/errors.ts";
import type { RejectedBackend, SelectionRecord } from "../ports.ts";
import { attempt } from "./attempt.ts";
import type { ManagerCore } from "./core.ts";
import { decide } from "./decide.ts";
import { finalError, nextAfter } from "./failover.ts";
import { checkAll } from "./health.ts";
import type { ManagerPolicy } from "./policy.ts";
import type { Decision, Entry, ExecuteRequest, ExecuteResult } from "./types.ts";

/** How far a job got through its ranking: what was tried, refused, and the result if any. */
interface Run {
  decision: Decision;
  rejected: RejectedBackend[];
  attempted: string[];
  lastError: HermesError | undefined;
  /** Every failure was "cannot reach": the job gets the where-and-what-to-do error. */
  allUnreachable: boolean;
  budgetInFlight: boolean;
  outcome: ExecuteResult | undefined;
}

/**
 * Runs a job on the best backend and, when it fails, on the next (its fallbacks, the global
 * fallback, then the ranking), recording the selection for learning whatever happens.
 */
export async function execute(
  core: ManagerCore,
  req: ExecuteRequest,
  signal: AbortSignal,
  onProgress?: (p: RunProgress) => void,
): Promise<ExecuteResult> {
  const policy = core.policy();
  const decision = await decideProbingIfAllDown(core, req, policy);
  const run: Run = {
    decision,
    rejected: [...decision.rejected],
    attempted: [],
    lastError: undefined,
    allUnreachable: true,
    budgetInFlight: decision.budgetInFlight,
    outcome: undefined,
  };
  try {
    await tryInTurn(core, run, req, policy, signal, onProgress);
    if (run.outcome) {
      return {
        ...run.outcome,
        fallbackUsed: fallbackUsed(run),
        attempted: run.attempted,
        confidence: decision.confidence,
      };
    }
    if (signal.aborted) throw toHermesError(signal.reason ?? new Error("cancelled"), "CANCELLED");
    const { lastError, allUnreachable, attempted, budgetInFlight, rejected } = run;
    throw finalError(
      core,
      lastError,
      allUnreachable,
      attempted.length,
      decision.kinds,
      budgetInFlight,
      rejected,
    );
  } finally {
    core.recordSelection(selectionRecord(req, run));
    core.refreshScoresIfStale();
  }
}

async function decideProbingIfAllDown(
  core: ManagerCore,
  req: ExecuteRequest,
  policy: ManagerPolicy,
): Promise<Decision> {
  const decision = decide(core, req, policy);
  if (decision.ranked.length > 0 || ![...decision.kinds.values()].includes("health")) return decision;
  // Every usable circuit is open: probe now, so a backend that came back is used at this retry
  // rather than at the next periodic health check.
  await checkAll(core);
  return decide(core, req, policy);
}

/** Attempts the ranked backends in failover order until one answers, a failure is final, or cancel. */
async function tryInTurn(
  core: ManagerCore,
  run: Run,
  req: ExecuteRequest,
  policy: ManagerPolicy,
  signal: AbortSignal,
  onProgress: ((p: RunProgress) => void) | undefined,
): Promise<void> {
  const queue = run.decision.ranked.map((r) => r.name);
  const tried = new Set<string>();
  let next = queue[0];
  while (next !== undefined && !signal.aborted) {
    const entry = core.entry(next) as Entry;
    tried.add(next);
    const result = await attempt(core, entry, req, policy, signal, onProgress);
    if (result.kind === "ok") {
      run.attempted.push(entry.backend.name);
      run.outcome = result.result;
      return;
    }
    if (result.kind === "skip") {
      run.rejected.push({ name: entry.backend.name, reason: result.reason });
      run.decision.kinds.set(entry.backend.name, result.cause);
      if (result.inFlight) run.budgetInFlight = true;
      next = queue.find((n) => !tried.has(n));
      continue;
    }
    if (!req.model && isMissingModel(result.error)) {
      // Its own configured model is missing there: that backend's setup, so the next one runs the job.
      run.rejected.push({ name: entry.backend.name, reason: result.error.message });
      run.decision.kinds.set(entry.backend.name, "model");
      next = queue.find((n) => !tried.has(n));
      continue;
    }
    run.attempted.push(entry.backend.name);
    run.lastError = result.error;
    if (!result.error.retryable) throw result.error;
    if (result.error.code !== "BACKEND_UNAVAILABLE" && result.error.code !== "TALOS_UNAVAILABLE")
      run.allUnreachable = false;
    if (!policy.autoFailover) return;
    next = nextAfter(entry, queue, tried, policy);
  }
}

/** The result came from another backend than the first choice, or after a failed attempt. */
function fallbackUsed(run: Run): boolean {
  const outcome = run.outcome;
  return (
    outcome !== undefined && (outcome.backend !== run.decision.ranked[0]?.name || run.attempted.length > 1)
  );
}

function selectionRecord(req: ExecuteRequest, run: Run): SelectionRecord {
  const { decision, outcome, attempted } = run;
  return {
    jobId: req.jobId,
    jobType: req.jobType,
    criteria: decision.criteria,
    available: decision.ranked.map((r) => ({ name: r.name, score: r.score })),
    rejected: run.rejected,
    reasoning: decision.reasoning,
    selected: decision.ranked[0]?.name,
    confidence: decision.confidence,
    successful: outcome !== undefined,
    fallbackUsed: fallbackUsed(run),
    finalBackend: outcome?.backend ?? attempted.at(-1),
    attempted,
  };
}
