import type { ManagerCore } from "./core.ts";
import { NONE } from "./core.ts";
import type { ManagerPolicy } from "./policy.ts";
import { estimatePromptTokens, maxCostCents, type PriceTable } from "./pricing.ts";
import { type Candidate, rankBackends } from "./selection.ts";
import type { Decision, Entry, ExecuteRequest, RejectKind } from "./types.ts";

/**
 * Which backends may take a job now and in what order: each is blocked (disabled, local-only, open
 * circuit, rate-limited, wrong model, no price, too costly, over budget) or becomes a candidate.
 */
export function decide(core: ManagerCore, req: DecideRequest, policy: ManagerPolicy): Decision {
  const now = core.now();
  const scores = core.scores();
  const kinds = new Map<string, RejectKind>();
  const candidates: Candidate[] = [];
  const costing: Costing = { prices: core.priceTable(policy), promptTokens: undefined };
  let budgetInFlight = false;
  for (const e of core.allEntries()) {
    const name = e.backend.name;
    const verdict = availability(core, e, req, now) ?? costOf(core, e, req, policy, costing);
    if (verdict.blocked) kinds.set(name, verdict.blocked.kind);
    if (verdict.blocked?.inFlight) budgetInFlight = true;
    candidates.push({
      name,
      free: e.backend.local,
      local: e.settings.type === "local",
      health: e.breaker.health.status,
      load: (e.slots.pending + e.slots.size) / Math.max(1, e.slots.concurrency),
      preferredFor: e.settings.preferredFor ?? NONE,
      maxCostCents: verdict.cost,
      scoreForType: scores.get(`${name}|${req.jobType}`),
      scoreOverall: scores.get(`${name}|*`),
      blocked: verdict.blocked?.reason,
      order: e.order,
    });
  }
  const decision = rankBackends(candidates, policy, req.jobType, req.preferBackend) as Decision;
  decision.kinds = kinds;
  decision.budgetInFlight = budgetInFlight;
  return decision;
}

type DecideRequest = Pick<ExecuteRequest, "jobType" | "messages"> & Partial<ExecuteRequest>;

/** Why a backend cannot take the job; `inFlight` when only running calls' reservations block it. */
interface Block {
  reason: string;
  kind: RejectKind;
  inFlight?: boolean;
}

/** A backend's worst-case cost for the job (0 when free) and, if it cannot take it, why. */
interface Verdict {
  cost: number;
  blocked: Block | undefined;
}

/** Shared across one decision: the price table and the prompt's token estimate, computed once. */
interface Costing {
  prices: PriceTable;
  promptTokens: number | undefined;
}

const blockedBy = (reason: string, kind: RejectKind, cost = 0): Verdict => ({
  cost,
  blocked: { reason, kind },
});

/** Blocks that do not depend on money: disabled, local-only, open circuit, cool-down, model. */
function availability(core: ManagerCore, e: Entry, req: DecideRequest, now: number): Verdict | undefined {
  if (!e.settings.enabled) return blockedBy("disabled", "disabled");
  if (req.localOnly && !e.backend.local) return blockedBy("the job is local-only", "local_only");
  if (e.breaker.admission(now, core.healthIntervalOf(e)) === "refuse") {
    return blockedBy(`circuit open (${e.breaker.health.lastError ?? "unhealthy"})`, "health");
  }
  if (e.coolUntilMs > now) {
    return blockedBy(`rate limited for ${Math.ceil((e.coolUntilMs - now) / 1000)} s`, "health");
  }
  if (req.model !== undefined && e.models.length > 0 && !e.models.includes(req.model)) {
    return blockedBy(`does not serve ${req.model}`, "model");
  }
  return undefined;
}

/** A paid backend's worst-case cost, blocked without a price, over the per-job cap or the budget. */
function costOf(
  core: ManagerCore,
  e: Entry,
  req: DecideRequest,
  policy: ManagerPolicy,
  costing: Costing,
): Verdict {
  if (e.backend.local) return { cost: 0, blocked: undefined };
  const model = core.modelFor(e, req);
  const price = costing.prices.lookup(e.backend.name, model);
  if (!price) return blockedBy(`no price known for ${model} (add it to hermes.budget.price_table)`, "price");
  costing.promptTokens ??= estimatePromptTokens(req.messages);
  const cost = maxCostCents(price, costing.promptTokens, req.maxTokens ?? policy.defaultMaxTokens);
  if (cost > policy.maxCostPerJobCents) {
    const reason = `may cost ${cost.toFixed(2)}¢, over max_cost_per_job ${policy.maxCostPerJobCents}¢`;
    return blockedBy(reason, "cost", cost);
  }
  const why = core.budget.blockReason(cost, req.threadId, policy);
  if (!why) return { cost, blocked: undefined };
  return { cost, blocked: { reason: why.reason, kind: "budget", inFlight: why.inFlight } };
}
