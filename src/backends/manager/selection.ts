/**
 * Ranking of backends for one job: pure and allocation-light (it runs for every job and must take
 * well under a millisecond). Candidates that cannot take the job at all arrive with `blocked` set
 * (disabled, circuit open, no price, over max_cost_per_job, no budget) and are reported as rejected.
 * The rest are ordered by tiers, compared in turn, then by a weighted score:
 *
 *   1. the backend the job asked for (jobs.requested_backend)
 *   2. preferred_for_job_types contains the job's type
 *   3. learned quality for this job type is at least hermes.selection.quality_threshold
 *   4. local-first: a local backend whose success rate is at least force_remote_threshold; a local
 *      backend below it goes after the remote ones ("go remote")
 *   5. prefer_free: backends that cost nothing
 *   6. score = health × Σ weight(criteria) × {cost, quality, speed, reliability}
 *   7. with load balancing, the least busy among equal scores (5 % buckets); then configuration order
 */
import type { HealthState } from "../backend.ts";
import type { BackendScore, RejectedBackend } from "../ports.ts";
import type { ManagerPolicy, SelectionCriteria } from "./policy.ts";

export interface Candidate {
  name: string;
  /** Calls cost nothing. */
  free: boolean;
  /** The spec's backend_type is "local" (this machine or the LAN), for local-first. */
  local: boolean;
  health: HealthState;
  /** running + waiting / concurrency. */
  load: number;
  preferredFor: readonly string[];
  /** Most the call can cost (0 when free). */
  maxCostCents: number;
  /** Learned numbers for this job type, and across job types. */
  scoreForType: BackendScore | undefined;
  scoreOverall: BackendScore | undefined;
  /** Why it cannot take the job at all; undefined when it can. */
  blocked: string | undefined;
  /** Position in configuration order: the last tie-break. */
  order: number;
}

export interface RankedBackend {
  name: string;
  score: number;
  tiers: [number, number, number, number, number];
  notes: string[];
  samples: number;
}

export interface SelectionDecision {
  criteria: SelectionCriteria;
  ranked: RankedBackend[];
  rejected: RejectedBackend[];
  reasoning: string;
  confidence: number;
}

const WEIGHTS: Record<
  SelectionCriteria,
  { cost: number; quality: number; speed: number; reliability: number }
> = {
  cost_first: { cost: 0.55, quality: 0.2, speed: 0.1, reliability: 0.15 },
  quality_first: { cost: 0.1, quality: 0.6, speed: 0.1, reliability: 0.2 },
  speed_first: { cost: 0.1, quality: 0.15, speed: 0.6, reliability: 0.15 },
  balanced: { cost: 0.25, quality: 0.25, speed: 0.25, reliability: 0.25 },
};

/** Pseudo-observations of the prior: learned numbers take over as samples accumulate. */
const PRIOR_WEIGHT = 3;
/** Below this many rated calls the quality gate does not judge. */
const MIN_QUALITY_SAMPLES = 3;
/** Below this many calls force_remote_threshold does not judge a local backend. */
const MIN_RELIABILITY_SAMPLES = 5;

const HEALTH_FACTOR: Record<HealthState, number> = {
  healthy: 1,
  unknown: 0.9,
  degraded: 0.6,
  unhealthy: 0.1,
};

function smooth(prior: number, learned: number | undefined, n: number): number {
  if (learned === undefined || n <= 0) return prior;
  return (prior * PRIOR_WEIGHT + learned * n) / (PRIOR_WEIGHT + n);
}

function pick(c: Candidate): BackendScore | undefined {
  const t = c.scoreForType;
  return t && t.samples > 0 ? t : c.scoreOverall;
}

export function rankBackends(
  candidates: readonly Candidate[],
  policy: ManagerPolicy,
  jobType: string,
  preferBackend: string | undefined,
): SelectionDecision {
  const ranked: RankedBackend[] = [];
  const rejected: RejectedBackend[] = [];
  const loads = new Map<string, number>();
  const orders = new Map<string, number>();
  for (const c of candidates) {
    if (c.blocked !== undefined) {
      rejected.push({ name: c.name, reason: c.blocked });
      continue;
    }
    ranked.push(rankOne(c, policy, jobType, preferBackend));
    loads.set(c.name, c.load);
    orders.set(c.name, c.order);
  }
  const lb = policy.loadBalancing;
  ranked.sort(byTiersThenScore(lb, loads, orders));
  return {
    criteria: policy.criteria,
    ranked,
    rejected,
    reasoning: explain(policy, ranked, rejected, lb ? loads : undefined),
    confidence: confidenceOf(ranked),
  };
}

/** One candidate's tiers, weighted score and the notes that explain them. */
function rankOne(
  c: Candidate,
  policy: ManagerPolicy,
  jobType: string,
  preferBackend: string | undefined,
): RankedBackend {
  const w = WEIGHTS[policy.criteria];
  const notes: string[] = [];
  const s = pick(c);
  const n = s?.samples ?? 0;
  const qn = s?.qualitySamples ?? n;
  const quality = smooth(c.free ? 0.7 : 0.85, s?.quality, qn);
  const speed = smooth(0.5, s?.speed, n);
  const reliability = smooth(0.9, s?.reliability, n);
  const cost = c.free ? 1 : 0.8 * Math.max(0, 1 - c.maxCostCents / Math.max(1, policy.maxCostPerJobCents));

  const asked = preferBackend !== undefined && c.name === preferBackend ? 0 : 1;
  if (asked === 0) notes.push("requested by the job");
  const preferred = c.preferredFor.includes(jobType) ? 0 : 1;
  if (preferred === 0) notes.push(`preferred for ${jobType}`);
  let qualityTier = 0;
  if (s?.quality !== undefined && qn >= MIN_QUALITY_SAMPLES && s.quality < policy.qualityThreshold) {
    qualityTier = 1;
    notes.push(`quality ${s.quality.toFixed(2)} < threshold ${policy.qualityThreshold}`);
  }
  const localTier = localTierOf(c, s, n, policy, notes);
  const freeTier = policy.preferFree && !c.free ? 1 : 0;
  if (c.free) notes.push("free");
  else notes.push(`≤ ${c.maxCostCents.toFixed(2)}¢`);
  if (c.health !== "healthy") notes.push(c.health);
  const score =
    HEALTH_FACTOR[c.health] *
    (w.cost * cost + w.quality * quality + w.speed * speed + w.reliability * reliability);
  return {
    name: c.name,
    score: Math.round(score * 1000) / 1000,
    tiers: [asked, preferred, qualityTier, localTier, freeTier],
    notes,
    samples: n,
  };
}

/** Local-first: 0 for a local backend that works, 2 for one below force_remote_threshold, else 1. */
function localTierOf(
  c: Candidate,
  s: BackendScore | undefined,
  n: number,
  policy: ManagerPolicy,
  notes: string[],
): number {
  if (!policy.localFirst || !c.local) return 1;
  const r = s?.reliability;
  if (r !== undefined && n >= MIN_RELIABILITY_SAMPLES && r < policy.forceRemoteThreshold) {
    notes.push(`success rate ${r.toFixed(2)} < force_remote_threshold ${policy.forceRemoteThreshold}`);
    return 2;
  }
  notes.push("local-first");
  return 0;
}

/** Tiers in turn; with load balancing, 5 % score buckets then the least busy; score; config order. */
function byTiersThenScore(
  lb: boolean,
  loads: Map<string, number>,
  orders: Map<string, number>,
): (a: RankedBackend, b: RankedBackend) => number {
  return (a, b) => {
    for (let i = 0; i < 5; i++) {
      const d = (a.tiers[i] as number) - (b.tiers[i] as number);
      if (d !== 0) return d;
    }
    if (lb) {
      const bucket = Math.floor(b.score * 20) - Math.floor(a.score * 20);
      if (bucket !== 0) return bucket;
      const load = (loads.get(a.name) ?? 0) - (loads.get(b.name) ?? 0);
      if (load !== 0) return load;
    }
    if (a.score !== b.score) return b.score - a.score;
    return (orders.get(a.name) ?? 0) - (orders.get(b.name) ?? 0);
  };
}

function confidenceOf(ranked: RankedBackend[]): number {
  const top = ranked[0];
  if (!top) return 0;
  const second = ranked[1];
  const sameTier = second?.tiers.every((t, i) => t === top.tiers[i]) === true;
  const margin =
    second === undefined || !sameTier ? 1 : Math.min(1, Math.max(0, (top.score - second.score) * 4));
  const data = top.samples / (top.samples + 5);
  return Math.round((0.5 * top.score + 0.25 * data + 0.25 * margin) * 1000) / 1000;
}

function explain(
  policy: ManagerPolicy,
  ranked: RankedBackend[],
  rejected: RejectedBackend[],
  loads: Map<string, number> | undefined,
): string {
  const top = ranked[0];
  const flags = [
    policy.criteria,
    policy.localFirst ? "local-first" : undefined,
    policy.preferFree ? "prefer free" : undefined,
    loads ? "load balancing" : undefined,
  ]
    .filter(Boolean)
    .join(", ");
  if (!top)
    return `${flags}: no backend can take the job (${rejected.map((r) => `${r.name}: ${r.reason}`).join("; ")})`;
  const load = loads ? `, load ${(loads.get(top.name) ?? 0).toFixed(2)}` : "";
  const rest = ranked
    .slice(1)
    .map((r) => `${r.name} ${r.score}`)
    .join(", ");
  return `${flags}: ${top.name} (${top.notes.join(", ")}; score ${top.score}${load})${rest ? `; then ${rest}` : ""}`;
}
