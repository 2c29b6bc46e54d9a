import { toHermesError } from "../../errors.ts";
import type { RunProgress } from "../backend.ts";
import { measureAgreement } from "./consensus.ts";
import type { ManagerCore } from "./core.ts";
import { decide } from "./decide.ts";
import type { ConsensusResult, ExecuteRequest, ExecuteResult } from "./types.ts";

type Execute = (
  req: ExecuteRequest,
  signal: AbortSignal,
  onProgress?: (p: RunProgress) => void,
) => Promise<ExecuteResult>;

/**
 * For jobs that ask for validation: k samples (hermes.execution.k_sample_count), spread over the
 * ranked backends where there are several, compared (exact for JSON, token-set similarity for
 * text). Returns the answer closest to the others, the agreement, and `flagged` below
 * hermes.execution.consensus_threshold. Cost is the sum of the samples.
 */
export async function executeWithConsensus(
  core: ManagerCore,
  execute: Execute,
  req: ExecuteRequest,
  signal: AbortSignal,
  onProgress?: (p: RunProgress) => void,
): Promise<ConsensusResult> {
  const policy = core.policy();
  const k = Math.max(1, Math.trunc(req.samples ?? policy.kSamples));
  const names = decide(core, req, policy).ranked.map((r) => r.name);
  const runs = await Promise.allSettled(
    Array.from({ length: k }, (_, i) =>
      execute(
        { ...req, preferBackend: names.length > 0 ? names[i % names.length] : req.preferBackend },
        signal,
        i === 0 ? onProgress : undefined,
      ),
    ),
  );
  const ok = runs.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  if (ok.length === 0) {
    const first = runs.find((r) => r.status === "rejected") as PromiseRejectedResult;
    throw toHermesError(first.reason, "BACKEND_ERROR");
  }
  const m = measureAgreement(
    ok.map((r) => r.text),
    k,
    req.structured,
  );
  const chosen = ok[m.chosen] as ExecuteResult;
  const reached = m.agreement >= policy.consensusThreshold;
  return {
    ...chosen,
    costCents: ok.reduce((sum, r) => sum + r.costCents, 0),
    consensus: {
      k,
      succeeded: ok.length,
      method: m.method,
      agreement: m.agreement,
      threshold: policy.consensusThreshold,
      reached,
      flagged: !reached,
      samples: ok.map((r, i) => ({
        backend: r.backend,
        model: r.model,
        similarity: m.similarities[i] ?? 0,
      })),
    },
  };
}
