import PQueue from "p-queue";
import type { Clock, TimerHandle } from "../clock.ts";
import { HermesError, toHermesError } from "../errors.ts";
import type { Backend, ChatMessage, HealthState, RunProgress, RunResult } from "./backend.ts";
import { type BudgetAlertLevel, BudgetGuard, type BudgetSummary } from "./budget.ts";
import { CircuitBreaker, type CircuitState } from "./circuit-breaker.ts";
import { measureAgreement } from "./consensus.ts";
import type { HealthTrack } from "./health-state.ts";
import { type ConfigLike, type ManagerPolicy, num, readPolicy } from "./policy.ts";
import type {
  BackendDefinition,
  BackendRegistryPort,
  BackendScore,
  BackendStatsPort,
  BackendType,
  BudgetLedgerPort,
  RejectedBackend,
  ScoresPort,
  SelectionHistoryPort,
  SelectionRecord,
} from "./ports.ts";
import { estimatePromptTokens, maxCostCents, type Price, PriceTable, usageCostCents } from "./pricing.ts";
import { type Candidate, rankBackends, type SelectionDecision } from "./selection.ts";

export type { BackendStatsPort, CallRecord } from "./ports.ts";

export interface BackendSettings {
  /** Model used when a job names none. */
  defaultModel: string;
  concurrency: number;
  enabled: boolean;
  /** Where the backend is, for messages ("Ollama at http://…"). Never contains a secret. */
  location: string;
  /** The spec's backend_type; default "local" for a free backend, "remote_api" otherwise. */
  type?: BackendType | undefined;
  /** Configured models (the health check adds the discovered ones). */
  models?: string[] | undefined;
  /** Deadline of one call. */
  timeoutMs?: number | undefined;
  /** Health-check interval; default backend.<name>.health_interval, then hermes.talos.health_check_interval. */
  healthIntervalMs?: number | undefined;
  ratePerMinute?: number | undefined;
  preferredFor?: string[] | undefined;
  fallbacks?: string[] | undefined;
  primary?: boolean | undefined;
}

export interface BackendStatus {
  name: string;
  kind: string;
  type: BackendType;
  local: boolean;
  free: boolean;
  enabled: boolean;
  primary: boolean;
  location: string;
  defaultModel: string;
  health: HealthState;
  circuit: CircuitState;
  consecutiveFailures: number;
  lastCheck: string | undefined;
  lastError: string | undefined;
  latencyMs: number | undefined;
  running: number;
  concurrency: number;
  availableModels: string[];
  preferredFor: string[];
  fallbacks: string[];
}

export interface ExecuteRequest {
  jobId: number;
  jobType: string;
  messages: ChatMessage[];
  /** The thread (project) the job belongs to: its budget is checked too. */
  threadId?: number | undefined;
  model?: string | undefined;
  /** Output cap; a paid call without one is capped at hermes.budget.default_max_output_tokens. */
  maxTokens?: number | undefined;
  temperature?: number | undefined;
  preferBackend?: string | undefined;
  /** Only backends that cost nothing (local or self-hosted): the prompt must not leave the owner's machines. */
  localOnly?: boolean | undefined;
  /** Consensus only: the answer is JSON, compare exactly. */
  structured?: boolean | undefined;
  /** Consensus only: number of samples (default hermes.execution.k_sample_count). */
  samples?: number | undefined;
}

export interface ExecuteResult extends RunResult {
  backend: string;
  /** Settled cost in cents (0 on free backends). */
  costCents: number;
  fallbackUsed: boolean;
  attempted: string[];
  /** Selection confidence, 0–1 (jobs.backend_confidence). */
  confidence: number;
}

export interface ConsensusInfo {
  k: number;
  succeeded: number;
  method: "exact" | "similarity";
  agreement: number;
  threshold: number;
  reached: boolean;
  /** Below the threshold: show the answer as unvalidated. */
  flagged: boolean;
  samples: { backend: string; model: string; similarity: number }[];
}

export interface ConsensusResult extends ExecuteResult {
  consensus: ConsensusInfo;
}

export interface PreviewResult {
  name: string;
  model: string;
  health: HealthState;
  location: string;
}

/** What a person can do when a backend of this kind cannot be reached. */
const ADVICE: Record<string, string> = {
  ollama: "Start Ollama (`ollama serve`) or point OLLAMA_HOST at a running one.",
  talos:
    "Check that Talos is running on its machine (`npm run talos` or pm2) and that TALOS_URL is reachable over Tailscale.",
  openai: "Check the API endpoint's URL and your network; the provider may be down.",
};

interface Entry {
  backend: Backend;
  settings: BackendSettings;
  definition: BackendDefinition;
  breaker: CircuitBreaker;
  slots: PQueue;
  models: string[];
  warmModels: string[];
  coolUntilMs: number;
  order: number;
  timer: TimerHandle | undefined;
}

export interface ManagerOptions {
  clock: Clock;
  /** system_config (SystemConfig fits); policy is read from it once per decision. */
  config?: ConfigLike;
  stats?: BackendStatsPort;
  scores?: ScoresPort;
  history?: SelectionHistoryPort;
  /** Without a ledger no paid backend is ever called. */
  budget?: BudgetLedgerPort;
  registry?: BackendRegistryPort;
  /** Builds a Backend for upsert() (registry.createBackend with the secrets). */
  factory?: (definition: BackendDefinition) => Backend;
  /** Default health interval; overrides hermes.talos.health_check_interval. */
  healthIntervalMs?: () => number;
  /** Overrides hermes.execution.local_first_enabled. */
  localFirst?: () => boolean;
  /** Deadline of one health check (default 5 s). */
  healthTimeoutMs?: number;
  /** How long learned scores are cached (default 30 s). */
  scoresTtlMs?: number;
  /** Called when a backend turns healthy again, so waiting jobs can go now. */
  onRecovered?: (name: string) => void;
  onUnhealthy?: (name: string, error: string) => void;
  onBudgetAlert?: (level: BudgetAlertLevel, spentCents: number, limitCents: number) => void;
}

/** `inFlight`: refused for budget only because of reservations of calls still running. */
type Skip = { kind: "skip"; reason: string; cause: RejectKind; inFlight?: boolean };
type Attempt = { kind: "ok"; result: ExecuteResult } | Skip | { kind: "fail"; error: HermesError };
type RejectKind = "disabled" | "health" | "budget" | "price" | "cost" | "model" | "local_only";

interface Decision extends SelectionDecision {
  kinds: Map<string, RejectKind>;
  /** Some paid backend was refused only because of reservations in flight. */
  budgetInFlight: boolean;
}

/**
 * All judgement about backends lives here: which are healthy (circuit breakers, periodic checks),
 * which to use for a job (policy, learned scores, load), moving a job to the next one when the first
 * fails, and money (reserve before a paid call, settle after). Backends themselves stay dumb pipes.
 */
export class BackendManager {
  private readonly entries = new Map<string, Entry>();
  private readonly o: ManagerOptions;
  private readonly budget: BudgetGuard;
  private stopped = false;
  private started = false;
  private order = 0;
  private prices: { raw: string; table: PriceTable } = { raw: "", table: new PriceTable() };
  private scoreCache: { at: number; map: Map<string, BackendScore> } | undefined;

  constructor(options: ManagerOptions) {
    this.o = options;
    this.budget = new BudgetGuard(options.budget, () => options.clock.now(), options.onBudgetAlert);
  }

  // ---- registry ---------------------------------------------------------------------------------

  register(backend: Backend, settings: BackendSettings, definition?: BackendDefinition): void {
    const previous = this.entries.get(backend.name);
    if (previous?.timer) this.o.clock.clearTimeout(previous.timer);
    const def = definition ?? definitionOf(backend, settings);
    const entry: Entry = {
      backend,
      settings,
      definition: def,
      breaker: previous && previous.backend === backend ? previous.breaker : new CircuitBreaker(),
      slots: slotsFor(settings),
      models: settings.models ?? [],
      warmModels: [],
      coolUntilMs: 0,
      order: previous?.order ?? this.order++,
      timer: undefined,
    };
    this.entries.set(backend.name, entry);
    if (this.started && !this.stopped) this.scheduleHealth(entry, 0);
  }

  /** Registers a backend built by the registry (src/backends/registry.ts). */
  registerDefinition(definition: BackendDefinition, backend: Backend): void {
    this.register(backend, settingsOf(definition), definition);
  }

  /**
   * Adds a backend or changes one at runtime (API, /backends). A new backend needs the full
   * definition and a `factory`; for an existing one any subset of fields changes. Persisted through
   * the registry port. Returns the backend's status.
   */
  upsert(change: Partial<BackendDefinition> & { name: string }): BackendStatus {
    const existing = this.entries.get(change.name);
    let def: BackendDefinition;
    if (existing) {
      def = {
        ...existing.definition,
        ...stripUndefined(change),
        name: change.name,
        origin: existing.definition.origin,
      };
    } else {
      if (!change.url || !change.provider) {
        throw new HermesError(
          "INVALID_INPUT",
          `A new backend needs at least a url and a provider (${change.name}).`,
        );
      }
      def = {
        type: "custom",
        enabled: true,
        primary: false,
        free: false,
        models: [],
        defaultModel: change.models?.[0] ?? "",
        concurrency: 1,
        timeoutMs: 300_000,
        healthIntervalMs: undefined,
        ratePerMinute: undefined,
        preferredFor: [],
        fallbacks: [],
        secretEnv: undefined,
        ...stripUndefined(change),
        name: change.name,
        url: change.url,
        provider: change.provider,
        origin: "runtime",
      };
    }
    const rebuild =
      !existing ||
      existing.definition.url !== def.url ||
      existing.definition.provider !== def.provider ||
      existing.definition.secretEnv !== def.secretEnv ||
      existing.definition.timeoutMs !== def.timeoutMs ||
      existing.definition.free !== def.free;
    let backend = existing?.backend;
    if (rebuild) {
      if (!this.o.factory) {
        throw new HermesError("INVALID_INPUT", "Backends cannot be built at runtime here (no factory).");
      }
      backend = this.o.factory(def);
    }
    if (!backend) throw new HermesError("INTERNAL", `no backend for ${def.name}`);
    if (existing && !rebuild) {
      existing.definition = def;
      existing.settings = settingsOf(def);
      existing.slots.concurrency = Math.max(1, def.concurrency);
      if (def.models.length > 0) existing.models = def.models;
    } else {
      this.register(backend, settingsOf(def), def);
    }
    this.o.registry?.saveDefinition(def);
    if (change.enabled !== undefined) this.o.registry?.saveEnabled(def.name, def.enabled);
    const status = this.statusOf(this.entries.get(def.name) as Entry);
    return status;
  }

  /** Turns a backend on or off at runtime; persisted, and survives a restart. */
  setEnabled(name: string, enabled: boolean): BackendStatus {
    const entry = this.entries.get(name);
    if (!entry) {
      throw new HermesError("NOT_FOUND", `There is no backend called ${name}.`, {
        userAction: `Known backends: ${this.names().join(", ") || "none"}.`,
      });
    }
    entry.settings = { ...entry.settings, enabled };
    entry.definition = { ...entry.definition, enabled };
    this.o.registry?.saveEnabled(name, enabled);
    if (enabled && this.started && !this.stopped) void this.checkOne(entry);
    return this.statusOf(entry);
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  definitions(): BackendDefinition[] {
    return [...this.entries.values()].map((e) => e.definition);
  }

  status(): BackendStatus[] {
    return [...this.entries.values()].map((e) => this.statusOf(e));
  }

  /**
   * How many jobs may run at once across usable backends: the scheduler's capacity. When every
   * backend is down it is 1, so one job at a time keeps probing through the retry path.
   */
  totalSlots(): number {
    let slots = 0;
    let enabled = 0;
    const now = this.o.clock.now();
    for (const e of this.entries.values()) {
      if (!e.settings.enabled) continue;
      enabled++;
      if (e.breaker.admission(now, this.intervalOf(e)) === "pass") slots += e.slots.concurrency;
    }
    if (enabled === 0) return 0;
    return Math.max(1, slots);
  }

  budgetSummary(): BudgetSummary {
    return this.budget.summary(this.policy());
  }

  // ---- selection --------------------------------------------------------------------------------

  /** The ranking a job would get now, with rejections and reasoning; nothing is reserved or run. */
  select(req: Pick<ExecuteRequest, "jobType" | "messages"> & Partial<ExecuteRequest>): SelectionDecision {
    return this.decide(req, this.policy());
  }

  /** The backend and model a new job would most likely get: for the acknowledgement message. */
  preview(preferBackend?: string): PreviewResult | undefined {
    const decision = this.decide({ jobType: "*", messages: [], preferBackend }, this.policy());
    const name = decision.ranked[0]?.name;
    const first = name === undefined ? undefined : this.entries.get(name);
    if (!first) return undefined;
    return {
      name: first.backend.name,
      model: this.pickModel(first, undefined),
      health: first.breaker.health.status,
      location: first.settings.location,
    };
  }

  // ---- execution --------------------------------------------------------------------------------

  async execute(
    req: ExecuteRequest,
    signal: AbortSignal,
    onProgress?: (p: RunProgress) => void,
  ): Promise<ExecuteResult> {
    const policy = this.policy();
    let decision = this.decide(req, policy);
    if (decision.ranked.length === 0 && [...decision.kinds.values()].includes("health")) {
      // Every usable circuit is open: probe now, so a backend that came back is used at this retry
      // rather than at the next periodic health check.
      await this.checkHealth();
      decision = this.decide(req, policy);
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
        const entry = this.entries.get(next) as Entry;
        tried.add(next);
        const attempt = await this.attempt(entry, req, policy, signal, onProgress);
        if (attempt.kind === "ok") {
          attempted.push(entry.backend.name);
          outcome = attempt.result;
          break;
        }
        if (attempt.kind === "skip") {
          rejected.push({ name: entry.backend.name, reason: attempt.reason });
          kinds.set(entry.backend.name, attempt.cause);
          if (attempt.inFlight) budgetInFlight = true;
          next = queue.find((n) => !tried.has(n));
          continue;
        }
        attempted.push(entry.backend.name);
        lastError = attempt.error;
        if (!attempt.error.retryable) throw attempt.error;
        if (attempt.error.code !== "BACKEND_UNAVAILABLE" && attempt.error.code !== "TALOS_UNAVAILABLE")
          allUnreachable = false;
        if (!policy.autoFailover) break;
        next = this.nextAfter(entry, queue, tried, policy);
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
      throw this.finalError(lastError, allUnreachable, attempted.length, kinds, budgetInFlight, rejected);
    } finally {
      this.recordSelection({
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
      this.refreshScoresIfStale();
    }
  }

  /**
   * For jobs that ask for validation: k samples (hermes.execution.k_sample_count), spread over the
   * ranked backends where there are several, compared (exact for JSON, token-set similarity for
   * text). Returns the answer closest to the others, the agreement, and `flagged` below
   * hermes.execution.consensus_threshold. Cost is the sum of the samples.
   */
  async executeWithConsensus(
    req: ExecuteRequest,
    signal: AbortSignal,
    onProgress?: (p: RunProgress) => void,
  ): Promise<ConsensusResult> {
    const policy = this.policy();
    const k = Math.max(1, Math.trunc(req.samples ?? policy.kSamples));
    const names = this.decide(req, policy).ranked.map((r) => r.name);
    const runs = await Promise.allSettled(
      Array.from({ length: k }, (_, i) =>
        this.execute(
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

  // ---- health -----------------------------------------------------------------------------------

  async checkHealth(): Promise<void> {
    await Promise.all(
      [...this.entries.values()].filter((e) => e.settings.enabled).map((e) => this.checkOne(e)),
    );
  }

  /** Checks every backend now, then each at its own interval (backend.<name>.health_interval). */
  startHealthChecks(): void {
    if (this.started) return;
    this.started = true;
    for (const entry of this.entries.values()) this.scheduleHealth(entry, 0);
  }

  stop(): void {
    this.stopped = true;
    for (const e of this.entries.values()) {
      if (e.timer) this.o.clock.clearTimeout(e.timer);
      e.timer = undefined;
    }
  }

  private scheduleHealth(entry: Entry, delayMs: number): void {
    const run = () => {
      entry.timer = undefined;
      if (this.stopped || this.entries.get(entry.backend.name) !== entry) return;
      const check = entry.settings.enabled ? this.checkOne(entry) : Promise.resolve();
      void check.finally(() => {
        if (this.stopped || this.entries.get(entry.backend.name) !== entry) return;
        entry.timer = this.o.clock.setTimeout(run, this.intervalOf(entry));
      });
    };
    if (delayMs <= 0) run();
    else entry.timer = this.o.clock.setTimeout(run, delayMs);
  }

  private async checkOne(entry: Entry): Promise<void> {
    const signal = AbortSignal.timeout(this.o.healthTimeoutMs ?? 5_000);
    try {
      const report = await entry.backend.health(signal);
      if (report.status === "unhealthy") {
        this.markFailure(entry, report.detail ?? "health check failed");
        return;
      }
      if (report.warmModels) entry.warmModels = report.warmModels;
      try {
        const listed = (await entry.backend.models(signal)).map((m) => m.name);
        if (listed.length > 0) entry.models = listed;
      } catch {
        // A model list is a nicety; reachability is what matters here.
      }
      this.markSuccess(entry, report.latencyMs, report.status === "degraded" ? "degraded" : "healthy");
    } catch (thrown) {
      this.markFailure(entry, toHermesError(thrown).message);
    }
  }

  /** Health interval of one backend, read live: backend.<name>.health_interval, else the default. */
  private intervalOf(entry: Entry): number {
    const configured = num(this.o.config, `backend.${entry.backend.name}.health_interval`, Number.NaN);
    if (Number.isFinite(configured) && configured > 0) return configured * 1000;
    if (entry.settings.healthIntervalMs !== undefined) return entry.settings.healthIntervalMs;
    if (this.o.healthIntervalMs) return this.o.healthIntervalMs();
    return Math.max(1, num(this.o.config, "hermes.talos.health_check_interval", 10)) * 1000;
  }

  /**
   * A health check's result is always recorded (backends row + a system_health row); a successful
   * call only when it changed the state, so the hot path does not write health on every job.
   */
  private markSuccess(
    entry: Entry,
    latencyMs: number,
    status: HealthState = "healthy",
    fromCheck = true,
  ): void {
    const before = entry.breaker.health;
    const wasDown = entry.breaker.success(this.o.clock.now(), latencyMs, status);
    if (fromCheck || before.status !== status || before.consecutiveFailures !== 0)
      this.o.stats?.recordHealth(entry.backend.name, entry.breaker.health);
    if (wasDown) this.o.onRecovered?.(entry.backend.name);
  }

  private markFailure(entry: Entry, error: string): void {
    const opened = entry.breaker.failure(this.o.clock.now(), error);
    this.o.stats?.recordHealth(entry.backend.name, entry.breaker.health);
    if (opened) this.o.onUnhealthy?.(entry.backend.name, error);
  }

  private recordSelection(entry: SelectionRecord): void {
    try {
      this.o.history?.record(entry);
    } catch {
      // History is for learning; a failed write must not fail the job.
    }
  }

  // ---- internals --------------------------------------------------------------------------------

  private policy(): ManagerPolicy {
    const p = readPolicy(this.o.config);
    if (this.o.localFirst) p.localFirst = this.o.localFirst();
    if (this.o.healthIntervalMs) p.defaultHealthIntervalMs = this.o.healthIntervalMs();
    return p;
  }

  private priceTable(policy: ManagerPolicy): PriceTable {
    if (this.prices.raw !== policy.priceTable) {
      this.prices = { raw: policy.priceTable, table: new PriceTable(policy.priceTable) };
    }
    return this.prices.table;
  }

  private scores(): Map<string, BackendScore> {
    if (!this.o.scores) return EMPTY_SCORES;
    if (!this.scoreCache) this.loadScores();
    return this.scoreCache?.map ?? EMPTY_SCORES;
  }

  private loadScores(): void {
    try {
      this.scoreCache = { at: this.o.clock.now(), map: this.o.scores?.scores() ?? EMPTY_SCORES };
    } catch {
      this.scoreCache = { at: this.o.clock.now(), map: this.scoreCache?.map ?? EMPTY_SCORES };
    }
  }

  /** Learned scores are re-read after a job, at most every scoresTtlMs: never on the decision path. */
  private refreshScoresIfStale(): void {
    if (!this.o.scores || !this.scoreCache) return;
    if (this.o.clock.now() - this.scoreCache.at >= (this.o.scoresTtlMs ?? 30_000)) this.loadScores();
  }

  private decide(
    req: Pick<ExecuteRequest, "jobType" | "messages"> & Partial<ExecuteRequest>,
    policy: ManagerPolicy,
  ): Decision {
    const now = this.o.clock.now();
    const scores = this.scores();
    const prices = this.priceTable(policy);
    const kinds = new Map<string, RejectKind>();
    const candidates: Candidate[] = [];
    let promptTokens: number | undefined;
    let budgetInFlight = false;
    for (const e of this.entries.values()) {
      const name = e.backend.name;
      let blocked: string | undefined;
      let cost = 0;
      const block = (reason: string, kind: RejectKind) => {
        blocked = reason;
        kinds.set(name, kind);
      };
      if (!e.settings.enabled) block("disabled", "disabled");
      else if (req.localOnly && !e.backend.local) block("the job is local-only", "local_only");
      else if (e.breaker.admission(now, this.intervalOf(e)) === "refuse") {
        block(`circuit open (${e.breaker.health.lastError ?? "unhealthy"})`, "health");
      } else if (e.coolUntilMs > now) {
        block(`rate limited for ${Math.ceil((e.coolUntilMs - now) / 1000)} s`, "health");
      } else if (req.model !== undefined && e.models.length > 0 && !e.models.includes(req.model)) {
        block(`does not serve ${req.model}`, "model");
      } else if (!e.backend.local) {
        const model = this.pickModel(e, req.model);
        const price = prices.lookup(name, model);
        if (!price) block(`no price known for ${model} (add it to hermes.budget.price_table)`, "price");
        else {
          promptTokens ??= estimatePromptTokens(req.messages);
          cost = maxCostCents(price, promptTokens, req.maxTokens ?? policy.defaultMaxTokens);
          if (cost > policy.maxCostPerJobCents) {
            block(
              `may cost ${cost.toFixed(2)}¢, over max_cost_per_job ${policy.maxCostPerJobCents}¢`,
              "cost",
            );
          } else {
            const why = this.budget.blockReason(cost, req.threadId, policy);
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

  private async attempt(
    entry: Entry,
    req: ExecuteRequest,
    policy: ManagerPolicy,
    signal: AbortSignal,
    onProgress: ((p: RunProgress) => void) | undefined,
  ): Promise<Attempt> {
    const name = entry.backend.name;
    const now = this.o.clock.now();
    const admission = entry.breaker.admission(now, this.intervalOf(entry));
    if (admission === "refuse") return { kind: "skip", reason: "circuit open", cause: "health" };
    if (admission === "probe") entry.breaker.startProbe(now, this.intervalOf(entry));
    const model = this.pickModel(entry, req.model);
    let price: Price | undefined;
    let maxTokens = req.maxTokens;
    if (!entry.backend.local) {
      price = this.priceTable(policy).lookup(name, model);
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
            const r = this.budget.reserve(
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
          started = this.o.clock.now();
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
      if (reservation !== undefined) this.budget.settle(reservation, cost, policy);
      reservation = undefined;
      this.markSuccess(entry, result.latencyMs, "healthy", false);
      this.o.stats?.recordCall({
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
      if (reservation !== undefined) this.budget.release(reservation);
      const error = toHermesError(signal.aborted ? (signal.reason ?? thrown) : thrown, "BACKEND_ERROR");
      this.o.stats?.recordCall({
        backend: name,
        jobId: req.jobId,
        jobType: req.jobType,
        model,
        success: false,
        latencyMs: this.o.clock.now() - started,
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
        entry.coolUntilMs = this.o.clock.now() + (error.retryAfter ?? 30) * 1000;
        entry.breaker.abandonProbe();
      } else if (error.retryable) this.markFailure(entry, error.message);
      else entry.breaker.abandonProbe();
      return { kind: "fail", error };
    }
  }

  /** After `failed` failed: its own fallbacks, then the global fallback if it is the primary, then the ranking. */
  private nextAfter(
    failed: Entry,
    queue: string[],
    tried: Set<string>,
    policy: ManagerPolicy,
  ): string | undefined {
    const open = (n: string) => !tried.has(n) && queue.includes(n);
    for (const f of failed.settings.fallbacks ?? NONE) if (open(f)) return f;
    const isPrimary = failed.settings.primary === true || policy.primary === failed.backend.name;
    if (isPrimary && policy.globalFallback !== "" && open(policy.globalFallback))
      return policy.globalFallback;
    return queue.find((n) => !tried.has(n));
  }

  private finalError(
    lastError: HermesError | undefined,
    allUnreachable: boolean,
    attempts: number,
    kinds: Map<string, RejectKind>,
    budgetInFlight: boolean,
    rejected: RejectedBackend[],
  ): HermesError {
    if (lastError && !allUnreachable) return lastError;
    const why = [...kinds.values()];
    if (attempts > 0 || why.includes("health")) return this.noneAvailable(lastError);
    const reasons = rejected.map((r) => `${r.name}: ${r.reason}`).join("; ");
    if (why.includes("budget")) {
      return new HermesError(
        "BUDGET_EXCEEDED",
        `No backend can take this job within the budget (${reasons}).`,
        {
          retryable: budgetInFlight,
          retryAfter: budgetInFlight ? 30 : undefined,
          userAction:
            "Raise hermes.budget.daily_budget_cents or hermes.budget.project_budget_cents, enable a local backend, or wait until tomorrow (UTC).",
        },
      );
    }
    if (why.includes("price") || why.includes("cost")) {
      return new HermesError(
        "BUDGET_EXCEEDED",
        `Refusing to call a paid backend without a known, allowed cost (${reasons}).`,
        {
          retryable: false,
          userAction:
            'Add the model to hermes.budget.price_table (cents per million tokens, e.g. {"my/model": [50, 150]}) or raise hermes.selection.max_cost_per_job.',
        },
      );
    }
    if (why.includes("model")) {
      return new HermesError("INVALID_INPUT", `No enabled backend serves the requested model (${reasons}).`, {
        retryable: false,
      });
    }
    return this.noneAvailable(lastError);
  }

  /** The requested model, else the configured default if the backend has it, else a warm one, else any. */
  private pickModel(entry: Entry, requested: string | undefined): string {
    if (requested) return requested;
    const def = entry.settings.defaultModel;
    if (entry.models.length === 0 || entry.models.includes(def)) return def;
    return entry.warmModels[0] ?? entry.models[0] ?? def;
  }

  private statusOf(e: Entry): BackendStatus {
    const h: HealthTrack = e.breaker.health;
    return {
      name: e.backend.name,
      kind: e.backend.kind,
      type: e.settings.type ?? (e.backend.local ? "local" : "remote_api"),
      local: e.backend.local,
      free: e.backend.local,
      enabled: e.settings.enabled,
      primary: e.settings.primary === true,
      location: e.settings.location,
      defaultModel: e.settings.defaultModel,
      health: h.status,
      circuit: e.breaker.stateAt(this.o.clock.now(), this.intervalOf(e)),
      consecutiveFailures: h.consecutiveFailures,
      lastCheck: h.lastCheckMs === undefined ? undefined : new Date(h.lastCheckMs).toISOString(),
      lastError: h.lastError,
      latencyMs: h.latencyMs,
      running: e.slots.pending,
      concurrency: e.slots.concurrency,
      availableModels: e.models,
      preferredFor: e.settings.preferredFor ?? [],
      fallbacks: e.settings.fallbacks ?? [],
    };
  }

  /** Every enabled backend is unreachable: say where each is and what to do, per kind. */
  private noneAvailable(lastError?: HermesError): HermesError {
    const enabled = [...this.entries.values()].filter((e) => e.settings.enabled);
    if (enabled.length === 0) {
      return new HermesError("BACKEND_UNAVAILABLE", "No backend is enabled.", {
        retryable: false,
        userAction: "Enable a backend (set OLLAMA_HOST, TALOS_URL or an API key) and restart Hermes.",
      });
    }
    const where = enabled.map((e) => `${e.backend.name} at ${e.settings.location}`).join(", ");
    const advice = [...new Set(enabled.map((e) => ADVICE[e.backend.kind]))].join(" ");
    const onlyTalos = enabled.every((e) => e.backend.kind === "talos");
    return new HermesError(
      onlyTalos ? "TALOS_UNAVAILABLE" : "BACKEND_UNAVAILABLE",
      `Cannot reach ${where}.`,
      {
        details: lastError?.message,
        retryable: true,
        userAction: advice,
        cause: lastError,
      },
    );
  }
}

const EMPTY_SCORES = new Map<string, BackendScore>();
const NONE: readonly string[] = [];
const round2 = (n: number) => Math.round(n * 100) / 100;

function slotsFor(settings: BackendSettings): PQueue {
  const concurrency = Math.max(1, settings.concurrency);
  if (settings.ratePerMinute !== undefined && settings.ratePerMinute > 0) {
    return new PQueue({ concurrency, intervalCap: Math.trunc(settings.ratePerMinute), interval: 60_000 });
  }
  return new PQueue({ concurrency });
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export function settingsOf(def: BackendDefinition): BackendSettings {
  return {
    defaultModel: def.defaultModel,
    concurrency: def.concurrency,
    enabled: def.enabled,
    location: def.url,
    type: def.type,
    models: def.models,
    timeoutMs: def.timeoutMs,
    healthIntervalMs: def.healthIntervalMs,
    ratePerMinute: def.ratePerMinute,
    preferredFor: def.preferredFor,
    fallbacks: def.fallbacks,
    primary: def.primary,
  };
}

function definitionOf(backend: Backend, s: BackendSettings): BackendDefinition {
  return {
    name: backend.name,
    type: s.type ?? (backend.local ? "local" : "remote_api"),
    provider: backend.kind === "openai" ? "custom" : backend.kind,
    url: s.location,
    enabled: s.enabled,
    primary: s.primary === true,
    free: backend.local,
    models: s.models ?? [],
    defaultModel: s.defaultModel,
    concurrency: s.concurrency,
    timeoutMs: s.timeoutMs ?? 300_000,
    healthIntervalMs: s.healthIntervalMs,
    ratePerMinute: s.ratePerMinute,
    preferredFor: s.preferredFor ?? [],
    fallbacks: s.fallbacks ?? [],
    secretEnv: undefined,
    origin: "config",
  };
}
