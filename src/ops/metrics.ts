import { availableParallelism } from "node:os";
import type { Clock, TimerHandle } from "../clock.ts";
import type { StorageFault } from "../store/storage-fault.ts";
import type { SystemHealthRepo } from "../store/system/health-repo.ts";
import type { MetricsSnapshot } from "../store/system/metrics-repo.ts";
import type { BackendHealthLike, SystemHealthReport } from "./system-health.ts";

/**
 * `GET /metrics` in the Prometheus text exposition format (version 0.0.4), and the recorder that
 * writes a `system_health` row for component "hermes" at a fixed interval.
 */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export interface MetricsSources {
  snapshot: () => MetricsSnapshot;
  backends: () => BackendHealthLike[];
  health: () => SystemHealthReport;
  dailyBudgetCents: () => number;
  /** Model-assisted idea analyses by outcome ("model", or why the heuristics stood). */
  ideaAnalyses?: () => Record<string, number>;
  /** Model-assisted "answer or new idea?" judgements of typed text, by outcome. */
  typedJudges?: () => Record<string, number>;
  /** Readings of draft 1's assumptions (for Yes/No confirmations), by outcome. */
  draftAssumptions?: () => Record<string, number>;
}

type Labels = Record<string, string>;
type Sample = { labels?: Labels; value: number };

const JOB_STATES = ["pending", "queued", "running", "retrying", "completed", "failed", "cancelled"];

function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function formatValue(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (n === Number.POSITIVE_INFINITY) return "+Inf";
  if (n === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(n);
}

class PromText {
  private readonly lines: string[] = [];

  add(name: string, type: "gauge" | "counter", help: string, samples: Sample[]): void {
    this.lines.push(`# HELP ${name} ${help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`);
    this.lines.push(`# TYPE ${name} ${type}`);
    for (const s of samples) {
      const labels = s.labels
        ? `{${Object.entries(s.labels)
            .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
            .join(",")}}`
        : "";
      this.lines.push(`${name}${labels} ${formatValue(s.value)}`);
    }
  }

  toString(): string {
    return `${this.lines.join("\n")}\n`;
  }
}

export function renderMetrics(src: MetricsSources): string {
  const snap = src.snapshot();
  const health = src.health();
  const live = new Map(src.backends().map((b) => [b.name, b]));
  const p = new PromText();
  addOverviewMetrics(p, snap, health);
  addBackendMetrics(p, snap, live);
  addSpendAndQuestionMetrics(p, snap, src.dailyBudgetCents());
  if (src.ideaAnalyses) addIdeaAnalysisMetrics(p, src.ideaAnalyses());
  if (src.typedJudges)
    addOutcomes(
      p,
      "hermes_typed_text_judge_total",
      src.typedJudges(),
      "Model-assisted answer-or-new-idea judgements of typed text by outcome (model: used; else the rule stood).",
    );
  if (src.draftAssumptions)
    addOutcomes(
      p,
      "hermes_draft_assumptions_total",
      src.draftAssumptions(),
      "Readings of draft 1's assumptions by outcome (model: read; else no confirmations were offered).",
    );
  addStorageAndProcessMetrics(p, snap, health);
  return p.toString();
}

/** Up, health, uptime, jobs, queue and threads. */
function addOverviewMetrics(p: PromText, snap: MetricsSnapshot, health: SystemHealthReport): void {
  p.add("hermes_up", "gauge", "1 while Hermes answers; overall status in hermes_health_status.", [
    { value: 1 },
  ]);
  p.add("hermes_health_status", "gauge", "Overall health: 1 for the current status.", [
    { labels: { status: health.status }, value: 1 },
  ]);
  p.add("hermes_uptime_seconds", "gauge", "Seconds since Hermes started.", [{ value: health.uptime_s }]);

  p.add(
    "hermes_jobs",
    "gauge",
    "Jobs by state.",
    [...new Set([...JOB_STATES, ...Object.keys(snap.jobsByStatus)])].map((state) => ({
      labels: { state },
      value: snap.jobsByStatus[state] ?? 0,
    })),
  );
  const q = health.components.queue;
  p.add("hermes_queue_depth", "gauge", "Jobs waiting or running (pending, queued, retrying, running).", [
    { value: q.depth ?? 0 },
  ]);
  p.add("hermes_queue_limit", "gauge", "hermes.web.max_queued_jobs.", [{ value: q.limit }]);
  p.add(
    "hermes_threads",
    "gauge",
    "Idea threads by status.",
    Object.entries(snap.threadsByStatus).map(([status, n]) => ({ labels: { status }, value: n })),
  );
}

/** Per-backend gauges and counters, over the backends known to the database or the live registry. */
function addBackendMetrics(p: PromText, snap: MetricsSnapshot, live: Map<string, BackendHealthLike>): void {
  const names = [...new Set([...snap.backends.map((b) => b.name), ...live.keys()])].sort();
  const stat = new Map(snap.backends.map((b) => [b.name, b]));
  const per = (fn: (name: string) => number | null | undefined): Sample[] =>
    names.flatMap((name) => {
      const v = fn(name);
      return v === null || v === undefined ? [] : [{ labels: { backend: name }, value: v }];
    });
  p.add(
    "hermes_backend_up",
    "gauge",
    "1 when the backend's last health check passed.",
    per((n) => {
      const h = live.get(n)?.health ?? stat.get(n)?.health_status;
      return h === undefined || h === null ? null : h === "healthy" ? 1 : 0;
    }),
  );
  p.add(
    "hermes_backend_latency_avg_ms",
    "gauge",
    "Average response time of successful calls, ms.",
    per((n) => stat.get(n)?.average_response_time),
  );
  p.add(
    "hermes_backend_latency_last_ms",
    "gauge",
    "Response time of the last successful call, ms.",
    per((n) => stat.get(n)?.last_response_time_ms),
  );
  p.add(
    "hermes_backend_health_check_latency_ms",
    "gauge",
    "Latency of the last health check, ms.",
    per((n) => live.get(n)?.latencyMs),
  );
  p.add(
    "hermes_backend_calls_total",
    "counter",
    "Calls made to the backend.",
    per((n) => stat.get(n)?.total_jobs ?? 0),
  );
  p.add(
    "hermes_backend_errors_total",
    "counter",
    "Failed calls to the backend.",
    per((n) => stat.get(n)?.failed_jobs ?? 0),
  );
  p.add(
    "hermes_backend_cost_cents_total",
    "counter",
    "Money spent on the backend, cents.",
    per((n) => stat.get(n)?.total_cost_cents ?? 0),
  );
}

function addSpendAndQuestionMetrics(p: PromText, snap: MetricsSnapshot, dailyBudgetCents: number): void {
  p.add("hermes_spend_cents_today", "gauge", "Cost of jobs completed since 00:00 UTC, cents.", [
    { value: snap.jobCostCentsToday },
  ]);
  p.add("hermes_budget_ledger_cents_today", "gauge", "Budget ledger today: settled plus reserved, cents.", [
    { value: snap.ledgerCentsToday },
  ]);
  p.add("hermes_budget_daily_cents", "gauge", "hermes.budget.daily_budget_cents.", [
    { value: dailyBudgetCents },
  ]);

  p.add("hermes_questions_asked_total", "counter", "Questions asked.", [{ value: snap.questionsAsked }]);
  p.add("hermes_questions_answered_total", "counter", "Questions answered.", [
    { value: snap.questionsAnswered },
  ]);
  p.add("hermes_questions_asked_today", "gauge", "Questions asked since 00:00 UTC.", [
    { value: snap.questionsAskedToday },
  ]);

  p.add(
    "hermes_external_callbacks",
    "gauge",
    "External result callbacks by delivery status.",
    ["pending", "delivered", "failed"].map((status) => ({
      labels: { status },
      value: snap.callbacksByStatus[status] ?? 0,
    })),
  );
}

function addOutcomes(p: PromText, name: string, byOutcome: Record<string, number>, help: string): void {
  p.add(
    name,
    "counter",
    help,
    Object.entries(byOutcome).map(([outcome, value]) => ({ labels: { outcome }, value })),
  );
}

/** Model-assisted analyses: how often the model's answer was used, and why the heuristics stood otherwise. */
function addIdeaAnalysisMetrics(p: PromText, byOutcome: Record<string, number>): void {
  p.add(
    "hermes_idea_analysis_total",
    "counter",
    "Model-assisted idea analyses by outcome: model (used), timeout, malformed, error, disabled (heuristics stood).",
    Object.entries(byOutcome).map(([outcome, value]) => ({ labels: { outcome }, value })),
  );
  const fallbacks = Object.entries(byOutcome)
    .filter(([outcome]) => outcome !== "model")
    .reduce((sum, [, n]) => sum + n, 0);
  p.add(
    "hermes_idea_analysis_fallbacks_total",
    "counter",
    "Idea analyses where the heuristics stood (deadline passed, malformed output, error, or turned off).",
    [{ value: fallbacks }],
  );
}

/** Database, disk and process memory. */
function addStorageAndProcessMetrics(p: PromText, snap: MetricsSnapshot, health: SystemHealthReport): void {
  p.add("hermes_database_size_bytes", "gauge", "Size of the SQLite database (pages in use).", [
    { value: snap.databaseBytes },
  ]);
  p.add("hermes_database_max_size_bytes", "gauge", "hermes.db.max_size_mb in bytes.", [
    { value: health.components.database.max_size_mb * 1024 * 1024 },
  ]);
  const disk = health.components.disk;
  if (disk.free_bytes !== null)
    p.add("hermes_disk_free_bytes", "gauge", "Free bytes on the database's file system.", [
      { value: disk.free_bytes },
    ]);
  const mem = health.components.memory;
  p.add("process_resident_memory_bytes", "gauge", "Resident set size.", [{ value: mem.rss_bytes }]);
  p.add("nodejs_heap_used_bytes", "gauge", "V8 heap used.", [{ value: mem.heap_used_bytes }]);
  p.add("nodejs_heap_total_bytes", "gauge", "V8 heap allocated.", [{ value: mem.heap_total_bytes }]);
}

export interface HealthRecorderOptions {
  repo: SystemHealthRepo;
  collect: () => SystemHealthReport;
  clock: Clock;
  intervalMs?: number;
  /** system_health rows older than this many days are deleted (hermes.logs.cloud_retention_days). */
  retentionDays: () => number;
  log?: { warn(obj: object, msg: string): void };
  /** Where a full database is reported; a row stored again ends this writer's fault. */
  storage?: StorageFault | undefined;
  cpuUsage?: (previous?: NodeJS.CpuUsage) => NodeJS.CpuUsage;
  elapsedMs?: () => number;
}

/** Writes Hermes' own system_health row every interval, and prunes old rows once an hour. */
export class HealthRecorder {
  private readonly o: HealthRecorderOptions;
  private timer: TimerHandle | undefined;
  private lastHealthy: string | null = null;
  private lastIssue: string | null = null;
  private lastPrune = Number.NEGATIVE_INFINITY;
  private cpuMark: { usage: NodeJS.CpuUsage; at: number } | undefined;

  constructor(options: HealthRecorderOptions) {
    this.o = options;
  }

  start(): void {
    if (this.timer) return;
    const tick = () => {
      try {
        this.recordOnce();
        this.o.storage?.stored("health record");
      } catch (error) {
        this.o.storage?.report(error, "health record");
        this.o.log?.warn(
          { err: error instanceof Error ? error.message : String(error) },
          "health record failed",
        );
      }
      this.timer = this.o.clock.setTimeout(tick, this.o.intervalMs ?? 60_000);
    };
    this.cpuMark = { usage: (this.o.cpuUsage ?? process.cpuUsage)(), at: this.elapsed() };
    this.timer = this.o.clock.setTimeout(tick, this.o.intervalMs ?? 60_000);
  }

  stop(): void {
    if (this.timer) this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private elapsed(): number {
    return (this.o.elapsedMs ?? (() => performance.now()))();
  }

  recordOnce(): SystemHealthReport {
    const started = this.elapsed();
    const report = this.o.collect();
    const responseMs = Math.max(0, this.elapsed() - started);
    const nowMs = this.o.clock.now();
    const now = new Date(nowMs).toISOString();
    if (report.status === "healthy") this.lastHealthy = now;
    else this.lastIssue = now;
    const cpu = this.cpuPercent();
    const mem = report.components.memory;
    const backends = report.components.backends;
    this.o.repo.record({
      component: "hermes",
      status: report.status,
      responseTimeMs: Math.round(responseMs * 100) / 100,
      errorRate:
        backends.length === 0 ? 0 : backends.filter((b) => b.status !== "healthy").length / backends.length,
      cpuPercent: cpu,
      memoryPercent: mem.rss_percent_of_system,
      diskPercent: report.components.disk.used_percent ?? 0,
      activeIssues: report.issues,
      measuredAt: now,
      lastHealthyAt: this.lastHealthy,
      lastIssueAt: this.lastIssue,
    });
    if (nowMs - this.lastPrune >= 3_600_000) {
      this.lastPrune = nowMs;
      const days = Math.max(1, this.o.retentionDays());
      this.o.repo.pruneBefore(new Date(nowMs - days * 86_400_000).toISOString());
    }
    return report;
  }

  private cpuPercent(): number {
    const cpuUsage = this.o.cpuUsage ?? process.cpuUsage;
    const at = this.elapsed();
    const mark = this.cpuMark;
    const usage = cpuUsage();
    this.cpuMark = { usage, at };
    if (!mark || at <= mark.at) return 0;
    const usedMicros = usage.user - mark.usage.user + (usage.system - mark.usage.system);
    const pct = (100 * usedMicros) / 1000 / (at - mark.at) / Math.max(1, availableParallelism());
    return Math.round(Math.min(100, Math.max(0, pct)) * 10) / 10;
  }
}
