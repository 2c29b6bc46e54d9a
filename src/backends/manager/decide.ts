import { pickModel } from "./backend-set.ts";
import type { ManagerCore } from "./core.ts";
import { NONE } from "./core.ts";
import { intervalOf } from "./health.ts";
import type { ManagerPolicy } from "./policy.ts";
import { estimatePromptTokens, maxCostCents } from "./pricing.ts";
import { type Candidate, rankBackends } from "./selection.ts";
import type { Decision, ExecuteRequest, RejectKind } from "./types.ts";

/**
 * Which backends may take a job now and in what order: each is blocked (disabled, local-only, open
 * circuit, rate-limited, wrong model, no price, too costly, over budget) or becomes a candidate.
 */
export function decide(
  core: ManagerCore,
  req: Pick<ExecuteRequest, "jobType" | "messages"> & Partial<ExecuteRequest>,
  policy: ManagerPolicy,
): Decision {
  const now = core.o.clock.now();
  const scores = core.scores();
  const prices = core.priceTable(policy);
  const kinds = new Map<string, RejectKind>();
  const candidates: Candidate[] = [];
  let promptTokens: number | undefined;
  let budgetInFlight = false;
  for (const e of core.entries.values()) {
    const name = e.backend.name;
    let blocked: string | undefined;
    let cost = 0;
    const block = (reason: string, kind: RejectKind) => {
      blocked = reason;
      kinds.set(name, kind);
    };
    if (!e.settings.enabled) block("disabled", "disabled");
    else if (req.localOnly && !e.backend.local) block("the job is local-only", "local_only");
    else if (e.breaker.admission(now, intervalOf(core, e)) === "refuse") {
      block(`circuit open (${e.breaker.health.lastError ?? "unhealthy"})`, "health");
    } else if (e.coolUntilMs > now) {
      block(`rate limited for ${Math.ceil((e.coolUntilMs - now) / 1000)} s`, "health");
    } else if (req.model !== undefined && e.models.length > 0 && !e.models.includes(req.model)) {
      block(`does not serve ${req.model}`, "model");
    } else if (!e.backend.local) {
      const model = pickModel(e, req.model);
      const price = prices.lookup(name, model);
      if (!price) block(`no price known for ${model} (add it to hermes.budget.price_table)`, "price");
      else {
        promptTokens ??= estimatePromptTokens(req.messages);
        cost = maxCostCents(price, promptTokens, req.maxTokens ?? policy.defaultMaxTokens);
        if (cost > policy.maxCostPerJobCents) {
          block(`may cost ${cost.toFixed(2)}¢, over max_cost_per_job ${policy.maxCostPerJobCents}¢`, "cost");
        } else {
          const why = core.budget.blockReason(cost, req.threadId, policy);
          if (why) {
            block(why.reason, "budget");
            if (why.inFlight) budgetInFlight = true;
          }
        }
      }
    }
    candidates.push({
      name,
      free: e.backend.local,
      local: e.settings.type === "local",
      health: e.breaker.health.status,
      load: (e.slots.pending + e.slots.size) / Math.max(1, e.slots.concurrency),
      preferredFor: e.settings.preferredFor ?? NONE,
      maxCostCents: cost,
      scoreForType: scores.get(`${name}|${req.jobType}`),
      scoreOverall: scores.get(`${name}|*`),
      blocked,
      order: e.order,
    });
  }
  const decision = rankBackends(candidates, policy, req.jobType, req.preferBackend) as Decision;
  decision.kinds = kinds;
  decision.budgetInFlight = budgetInFlight;
  return decision;
}
