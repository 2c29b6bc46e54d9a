import { type HermesError, toHermesError } from "../../errors.ts";
import type { RunProgress } from "../backend.ts";
import type { RejectedBackend } from "../ports.ts";
import { attempt } from "./attempt.ts";
import type { ManagerCore } from "./core.ts";
import { decide } from "./decide.ts";
import { finalError, nextAfter } from "./failover.ts";
import { checkAll } from "./health.ts";
import type { Entry, ExecuteRequest, ExecuteResult } from "./types.ts";

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
  let decision = decide(core, req, policy);
  if (decision.ranked.length === 0 && [...decision.kinds.values()].includes("health")) {
    // Every usable circuit is open: probe now, so a backend that came back is used at this retry
    // rather than at the next periodic health check.
    await checkAll(core);
    decision = decide(core, req, policy);
  }
  const queue = decision.ranked.map((r) => r.name);
  const rejected: RejectedBackend[] = [...decision.rejected];
  const kinds = decision.kinds;
  const attempted: string[] = [];
  const tried = new Set<string>();
  let lastError: HermesError | undefined;
  let allUnreachable = true;
  let budgetInFlight = decision.budgetInFlight;
  let outcome: ExecuteResult | undefined;
  let next = queue[0];
  try {
    while (next !== undefined && !signal.aborted) {
      const entry = core.entries.get(next) as Entry;
      tried.add(next);
      const result = await attempt(core, entry, req, policy, signal, onProgress);
      if (result.kind === "ok") {
        attempted.push(entry.backend.name);
        outcome = result.result;
        break;
      }
      if (result.kind === "skip") {
        rejected.push({ name: entry.backend.name, reason: result.reason });
        kinds.set(entry.backend.name, result.cause);
        if (result.inFlight) budgetInFlight = true;
        next = queue.find((n) => !tried.has(n));
        continue;
      }
      attempted.push(entry.backend.name);
      lastError = result.error;
      if (!result.error.retryable) throw result.error;
      if (result.error.code !== "BACKEND_UNAVAILABLE" && result.error.code !== "TALOS_UNAVAILABLE")
        allUnreachable = false;
      if (!policy.autoFailover) break;
      next = nextAfter(entry, queue, tried, policy);
    }
    if (outcome) {
      const result: ExecuteResult = {
        ...outcome,
        fallbackUsed: outcome.backend !== decision.ranked[0]?.name || attempted.length > 1,
        attempted,
        confidence: decision.confidence,
      };
      return result;
    }
    if (signal.aborted) throw toHermesError(signal.reason ?? new Error("cancelled"), "CANCELLED");
    throw finalError(core, lastError, allUnreachable, attempted.length, kinds, budgetInFlight, rejected);
  } finally {
    core.recordSelection({
      jobId: req.jobId,
      jobType: req.jobType,
      criteria: decision.criteria,
      available: decision.ranked.map((r) => ({ name: r.name, score: r.score })),
      rejected,
      reasoning: decision.reasoning,
      selected: decision.ranked[0]?.name,
      confidence: decision.confidence,
      successful: outcome !== undefined,
      fallbackUsed:
        outcome !== undefined && (outcome.backend !== decision.ranked[0]?.name || attempted.length > 1),
      finalBackend: outcome?.backend ?? attempted.at(-1),
      attempted,
    });
    core.refreshScoresIfStale();
  }
}
