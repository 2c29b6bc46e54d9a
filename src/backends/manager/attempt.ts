import { HermesError, toHermesError } from "../../errors.ts";
import type { RunProgress, RunResult } from "../backend.ts";
import type { ManagerCore } from "./core.ts";
import { markFailure, markSuccess } from "./health.ts";
import type { ManagerPolicy } from "./policy.ts";
import { estimatePromptTokens, maxCostCents, type Price, usageCostCents } from "./pricing.ts";
import { isStall, withStallWatchdog } from "./stall-watchdog.ts";
import type { Attempt, Entry, ExecuteRequest, Skip } from "./types.ts";

const round2 = (n: number) => Math.round(n * 100) / 100;

/** What one attempt has settled on before the call: model, price (paid backends) and output cap. */
interface Plan {
  model: string;
  price: Price | undefined;
  maxTokens: number | undefined;
}

/** One attempt's inputs, passed whole to the steps below. */
interface Call {
  core: ManagerCore;
  entry: Entry;
  req: ExecuteRequest;
  policy: ManagerPolicy;
  signal: AbortSignal;
  onProgress: ((p: RunProgress) => void) | undefined;
}

/** What the call left behind for the bookkeeping after it. */
interface CallState {
  reservation: number | undefined;
  skipped: Skip | undefined;
  started: number;
}

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
  const now = core.now();
  const admission = entry.breaker.admission(now, core.healthIntervalOf(entry));
  if (admission === "refuse") return { kind: "skip", reason: "circuit open", cause: "health" };
  if (admission === "probe") entry.breaker.startProbe(now, core.healthIntervalOf(entry));
  const plan = planCall(core, entry, req, policy);
  if ("kind" in plan) {
    entry.breaker.abandonProbe();
    return plan;
  }
  const call: Call = { core, entry, req, policy, signal, onProgress };
  const state: CallState = { reservation: undefined, skipped: undefined, started: now };
  try {
    const result = req.beside
      ? await runInSlot(call, plan, state)
      : await entry.slots.add(async () => runInSlot(call, plan, state), { signal });
    if (state.skipped) {
      entry.breaker.abandonProbe();
      return state.skipped;
    }
    if (!result) {
      throw new HermesError("BACKEND_ERROR", `${entry.backend.name} returned nothing`, { retryable: true });
    }
    return succeeded(call, plan, state, result);
  } catch (thrown) {
    return failed(call, plan, state, thrown);
  }
}

/** The model to call and, on a paid backend, its price and an output cap; a skip without a price. */
function planCall(core: ManagerCore, entry: Entry, req: ExecuteRequest, policy: ManagerPolicy): Plan | Skip {
  const model = core.modelFor(entry, req);
  if (entry.backend.local) return { model, price: undefined, maxTokens: req.maxTokens };
  const price = core.priceTable(policy).lookup(entry.backend.name, model);
  if (!price) return { kind: "skip", reason: `no price known for ${model}`, cause: "price" };
  return { model, price, maxTokens: req.maxTokens ?? policy.defaultMaxTokens };
}

/**
 * Runs once the backend has a free slot: reserves the worst-case cost of a paid call first (a
 * refusal is recorded in `state.skipped`, and nothing is called), then calls the backend.
 */
async function runInSlot(call: Call, plan: Plan, state: CallState): Promise<RunResult | undefined> {
  const { core, entry, req } = call;
  if (plan.price && plan.maxTokens !== undefined) {
    const reserved = reserve(call, plan.price, plan.maxTokens, plan.model);
    if (typeof reserved !== "number") {
      state.skipped = reserved;
      return undefined;
    }
    state.reservation = reserved;
  }
  state.started = core.now();
  const run = { jobId: req.jobId, model: plan.model, messages: req.messages, maxTokens: plan.maxTokens };
  const limits = {
    firstTokenMs: call.policy.stallFirstTokenMs,
    betweenTokensMs: call.policy.stallBetweenTokensMs,
  };
  return withStallWatchdog(
    core,
    entry.backend.name,
    limits,
    call.signal,
    call.onProgress,
    (signal, progress) =>
      entry.backend.run(
        {
          ...run,
          temperature: req.temperature,
          timeoutMs: entry.settings.timeoutMs,
          ...(req.responseFormat ? { responseFormat: req.responseFormat } : {}),
        },
        signal,
        progress,
      ),
  );
}

/** A budget reservation for the call's worst case: its id, or the skip that says why not. */
function reserve(call: Call, price: Price, maxTokens: number, model: string): number | Skip {
  const { req, policy } = call;
  const cents = maxCostCents(price, estimatePromptTokens(req.messages), maxTokens);
  const r = call.core.budget.reserve(
    { threadId: req.threadId, jobId: req.jobId, backend: call.entry.backend.name, model, cents },
    policy,
  );
  if (r.ok) return r.id;
  return {
    kind: "skip",
    reason: `${r.scope} budget: ${round2(r.settledCents)}¢ spent + ${round2(r.reservedCents)}¢ reserved of ${r.limitCents}¢, needs ${round2(cents)}¢`,
    cause: "budget",
    inFlight:
      r.reservedCents > 0 && r.settledCents + Math.max(cents, policy.minRemoteBudgetCents) <= r.limitCents,
  };
}

/** Settles the reservation with the real cost, records the call and closes the breaker. */
function succeeded(call: Call, plan: Plan, state: CallState, result: RunResult): Attempt {
  const { core, entry, req, policy } = call;
  const name = entry.backend.name;
  const cost = plan.price ? (result.costCents ?? usageCostCents(plan.price, result.usage)) : 0;
  if (state.reservation !== undefined) core.budget.settle(state.reservation, cost, policy);
  state.reservation = undefined;
  entry.stalled = false;
  markSuccess(core, entry, result.latencyMs, "healthy", false);
  core.recordCall({
    backend: name,
    jobId: req.jobId,
    jobType: req.jobType,
    model: result.model,
    success: true,
    latencyMs: result.latencyMs,
    tokens: result.usage.inputTokens + result.usage.outputTokens,
    costCents: cost,
  });
  const done = { ...result, costCents: cost, backend: name, fallbackUsed: false, attempted: [] };
  return { kind: "ok", result: { ...done, confidence: 0 } };
}

/**
 * Releases the reservation and records the failed call. A cancellation is rethrown (as CANCELLED);
 * a rate limit cools the backend down; a retryable error counts against its breaker.
 */
function failed(call: Call, plan: Plan, state: CallState, thrown: unknown): Attempt {
  const { core, entry, req, signal } = call;
  if (state.reservation !== undefined) core.budget.release(state.reservation);
  const error = toHermesError(signal.aborted ? (signal.reason ?? thrown) : thrown, "BACKEND_ERROR");
  core.recordCall({
    backend: entry.backend.name,
    jobId: req.jobId,
    jobType: req.jobType,
    model: plan.model,
    success: false,
    latencyMs: core.now() - state.started,
    tokens: 0,
    costCents: 0,
    error: `${error.code}: ${error.message}`,
  });
  if (error.code === "CANCELLED" || signal.aborted) {
    entry.breaker.abandonProbe();
    throw error.code === "CANCELLED" ? error : new HermesError("CANCELLED", error.message, { cause: error });
  }
  if (error.code === "RATE_LIMITED") {
    entry.coolUntilMs = core.now() + (error.retryAfter ?? 30) * 1000;
    entry.breaker.abandonProbe();
  } else if (error.retryable) {
    // A stall is remembered until a real call succeeds: the health probe cannot clear it (a hung
    // server still answers its version endpoint).
    if (isStall(error)) entry.stalled = true;
    markFailure(core, entry, error.message);
  } else entry.breaker.abandonProbe();
  return { kind: "fail", error };
}
