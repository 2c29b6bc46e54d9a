import { HermesError, toHermesError } from "../../errors.ts";
import type { RunProgress, RunResult } from "../backend.ts";
import { pickModel } from "./backend-set.ts";
import type { ManagerCore } from "./core.ts";
import { intervalOf, markFailure, markSuccess } from "./health.ts";
import type { ManagerPolicy } from "./policy.ts";
import { estimatePromptTokens, maxCostCents, type Price, usageCostCents } from "./pricing.ts";
import type { Attempt, Entry, ExecuteRequest, Skip } from "./types.ts";

const round2 = (n: number) => Math.round(n * 100) / 100;

/**
 * One call on one backend: admission through its breaker, a budget reservation around a paid call
 * (settled with the real cost, released on failure), stats, and the breaker/cool-down afterwards.
 */
export async function attempt(
  core: ManagerCore,
  entry: Entry,
  req: ExecuteRequest,
  policy: ManagerPolicy,
  signal: AbortSignal,
  onProgress: ((p: RunProgress) => void) | undefined,
): Promise<Attempt> {
  const name = entry.backend.name;
  const now = core.o.clock.now();
  const admission = entry.breaker.admission(now, intervalOf(core, entry));
  if (admission === "refuse") return { kind: "skip", reason: "circuit open", cause: "health" };
  if (admission === "probe") entry.breaker.startProbe(now, intervalOf(core, entry));
  const model = pickModel(entry, req.model);
  let price: Price | undefined;
  let maxTokens = req.maxTokens;
  if (!entry.backend.local) {
    price = core.priceTable(policy).lookup(name, model);
    if (!price) {
      entry.breaker.abandonProbe();
      return { kind: "skip", reason: `no price known for ${model}`, cause: "price" };
    }
    maxTokens ??= policy.defaultMaxTokens;
  }
  let reservation: number | undefined;
  let skipped: Skip | undefined;
  let started = now;
  try {
    const result = await entry.slots.add(
      async (): Promise<RunResult | undefined> => {
        if (price && maxTokens !== undefined) {
          const cents = maxCostCents(price, estimatePromptTokens(req.messages), maxTokens);
          const r = core.budget.reserve(
            { threadId: req.threadId, jobId: req.jobId, backend: name, model, cents },
            policy,
          );
          if (!r.ok) {
            skipped = {
              kind: "skip",
              reason: `${r.scope} budget: ${round2(r.settledCents)}¢ spent + ${round2(r.reservedCents)}¢ reserved of ${r.limitCents}¢, needs ${round2(cents)}¢`,
              cause: "budget",
              inFlight:
                r.reservedCents > 0 &&
                r.settledCents + Math.max(cents, policy.minRemoteBudgetCents) <= r.limitCents,
            };
            return undefined;
          }
          reservation = r.id;
        }
        started = core.o.clock.now();
        return entry.backend.run(
          {
            jobId: req.jobId,
            model,
            messages: req.messages,
            maxTokens,
            temperature: req.temperature,
            timeoutMs: entry.settings.timeoutMs,
          },
          signal,
          onProgress,
        );
      },
      { signal },
    );
    if (skipped) {
      entry.breaker.abandonProbe();
      return skipped;
    }
    if (!result) {
      throw new HermesError("BACKEND_ERROR", `${name} returned nothing`, { retryable: true });
    }
    const cost = price ? (result.costCents ?? usageCostCents(price, result.usage)) : 0;
    if (reservation !== undefined) core.budget.settle(reservation, cost, policy);
    reservation = undefined;
    markSuccess(core, entry, result.latencyMs, "healthy", false);
    core.o.stats?.recordCall({
      backend: name,
      jobId: req.jobId,
      jobType: req.jobType,
      model: result.model,
      success: true,
      latencyMs: result.latencyMs,
      tokens: result.usage.inputTokens + result.usage.outputTokens,
      costCents: cost,
    });
    return {
      kind: "ok",
      result: {
        ...result,
        costCents: cost,
        backend: name,
        fallbackUsed: false,
        attempted: [],
        confidence: 0,
      },
    };
  } catch (thrown) {
    if (reservation !== undefined) core.budget.release(reservation);
    const error = toHermesError(signal.aborted ? (signal.reason ?? thrown) : thrown, "BACKEND_ERROR");
    core.o.stats?.recordCall({
      backend: name,
      jobId: req.jobId,
      jobType: req.jobType,
      model,
      success: false,
      latencyMs: core.o.clock.now() - started,
      tokens: 0,
      costCents: 0,
      error: `${error.code}: ${error.message}`,
    });
    if (error.code === "CANCELLED" || signal.aborted) {
      entry.breaker.abandonProbe();
      throw error.code === "CANCELLED"
        ? error
        : new HermesError("CANCELLED", error.message, { cause: error });
    }
    if (error.code === "RATE_LIMITED") {
      entry.coolUntilMs = core.o.clock.now() + (error.retryAfter ?? 30) * 1000;
      entry.breaker.abandonProbe();
    } else if (error.retryable) markFailure(core, entry, error.message);
    else entry.breaker.abandonProbe();
    return { kind: "fail", error };
  }
}
