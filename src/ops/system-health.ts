import { statfsSync } from "node:fs";
import { totalmem } from "node:os";

/**
 * One picture of Hermes' health, for `GET /api/system/health` and the periodic system_health row:
 * database, queue, each backend, the bot, the disk holding the database and the process' memory.
 * Unhealthy only when the database is unusable; everything else degrades.
 */
export interface BackendHealthLike {
  name: string;
  kind: string;
  health: string;
  location: string;
  enabled?: boolean;
  lastError?: string | undefined;
  lastCheck?: string | undefined;
  latencyMs?: number | undefined;
  running?: number;
  concurrency?: number;
}

export interface ActiveJobLike {
  id: number;
  thread_id: number;
  job_subtype: string | null;
  status: string;
  backend_used: string | null;
  started_date: string | null;
}

export interface StatfsLike {
  bsize: number;
  blocks: number;
  bavail: number;
}

export interface SystemHealthSources {
  databaseUsable: () => boolean;
  bot: () => "running" | "off" | "stopped";
  backends: () => BackendHealthLike[];
  queue: () => Record<string, number>;
  queueLimit: () => number;
  activeJobs?: () => ActiveJobLike[];
  databaseBytes: () => number;
  databaseMaxMb: () => number;
  /** Writers that find the database full (SQLITE_FULL) now; none: it takes writes. */
  writeFaults?: () => string[];
  /** The directory whose file system is reported (the database's). */
  dataDir: string;
  startedAt: number;
  now: () => number;
  memory?: () => NodeJS.MemoryUsage;
  statfs?: (path: string) => StatfsLike;
  totalMemory?: () => number;
}

export type OverallStatus = "healthy" | "degraded" | "unhealthy";

export interface SystemHealthReport {
  status: OverallStatus;
  uptime_s: number;
  issues: string[];
  components: {
    database: { status: string; size_bytes: number | null; max_size_mb: number; over_limit: boolean };
    queue: { status: string; depth: number | null; limit: number; by_status: Record<string, number> | null };
    backends: {
      name: string;
      kind: string;
      status: string;
      location: string;
      enabled: boolean;
      latency_ms: number | null;
      last_check: string | null;
      last_error: string | null;
      running: number | null;
      concurrency: number | null;
    }[];
    bot: { status: string };
    disk: {
      status: string;
      path: string;
      total_bytes: number | null;
      free_bytes: number | null;
      used_percent: number | null;
    };
    memory: {
      status: string;
      rss_bytes: number;
      heap_used_bytes: number;
      heap_total_bytes: number;
      external_bytes: number;
      rss_percent_of_system: number;
    };
  };
  active_jobs: {
    job_id: number;
    thread_id: number;
    kind: string | null;
    status: string;
    backend: string | null;
    started_at: string | null;
  }[];
}

const ACTIVE_STATES = ["pending", "queued", "running", "retrying"];
const DISK_FULL_PERCENT = 95;

const round1 = (n: number) => Math.round(n * 10) / 10;

type Components = SystemHealthReport["components"];

export function collectSystemHealth(s: SystemHealthSources): SystemHealthReport {
  const issues: string[] = [];
  const dbOk = s.databaseUsable();
  if (!dbOk) issues.push("database unusable");

  const maxMb = s.databaseMaxMb();
  const { sizeBytes, counts, active } = readDatabase(s, dbOk, issues);
  const overLimit = sizeBytes !== null && maxMb > 0 && sizeBytes > maxMb * 1024 * 1024;
  if (overLimit) issues.push(`database larger than hermes.db.max_size_mb (${maxMb} MB)`);
  const refused = s.writeFaults?.() ?? [];
  if (refused.length > 0) issues.push(`disk full: the database refuses writes (${refused.join(", ")})`);

  const limit = s.queueLimit();
  const depth = counts ? ACTIVE_STATES.reduce((n, k) => n + (counts?.[k] ?? 0), 0) : null;
  const queueFull = depth !== null && depth >= limit;
  if (queueFull) issues.push(`queue full (${depth} of ${limit})`);

  const backends = backendViews(s);
  if (!backends.some((b) => b.status === "healthy")) issues.push("no backend is healthy");

  const disk = diskUsage(s);
  if (disk.used_percent !== null && disk.used_percent >= DISK_FULL_PERCENT)
    issues.push(`disk ${disk.used_percent}% full`);

  const status: OverallStatus = !dbOk ? "unhealthy" : issues.length > 0 ? "degraded" : "healthy";
  return {
    status,
    uptime_s: Math.round((s.now() - s.startedAt) / 1000),
    issues,
    components: {
      database: {
        status: !dbOk ? "unusable" : refused.length > 0 ? "full" : overLimit ? "over_size" : "ok",
        size_bytes: sizeBytes,
        max_size_mb: maxMb,
        over_limit: overLimit,
      },
      queue: {
        status: depth === null ? "unknown" : queueFull ? "full" : "ok",
        depth,
        limit,
        by_status: counts,
      },
      backends,
      bot: { status: s.bot() },
      disk,
      memory: memoryView(s),
    },
    active_jobs: active,
  };
}

/** Size, queue counts and active jobs; a failing query is an issue, not an exception. */
function readDatabase(s: SystemHealthSources, dbOk: boolean, issues: string[]) {
  let sizeBytes: number | null = null;
  let counts: Record<string, number> | null = null;
  let active: SystemHealthReport["active_jobs"] = [];
  if (dbOk) {
    try {
      sizeBytes = s.databaseBytes();
      counts = s.queue();
      active = (s.activeJobs?.() ?? []).map((j) => ({
        job_id: j.id,
        thread_id: j.thread_id,
        kind: j.job_subtype,
        status: j.status,
        backend: j.backend_used,
        started_at: j.started_date,
      }));
    } catch {
      issues.push("database query failed");
    }
  }
  return { sizeBytes, counts, active };
}

function backendViews(s: SystemHealthSources): Components["backends"] {
  return s.backends().map((b) => ({
    name: b.name,
    kind: b.kind,
    status: b.health,
    location: b.location,
    enabled: b.enabled ?? true,
    latency_ms: b.latencyMs ?? null,
    last_check: b.lastCheck ?? null,
    last_error: b.health !== "healthy" ? (b.lastError ?? null) : null,
    running: b.running ?? null,
    concurrency: b.concurrency ?? null,
  }));
}

function memoryView(s: SystemHealthSources): Components["memory"] {
  const mem = (s.memory ?? process.memoryUsage)();
  const total = (s.totalMemory ?? totalmem)();
  return {
    status: "ok",
    rss_bytes: mem.rss,
    heap_used_bytes: mem.heapUsed,
    heap_total_bytes: mem.heapTotal,
    external_bytes: mem.external,
    rss_percent_of_system: total > 0 ? round1((100 * mem.rss) / total) : 0,
  };
}

function diskUsage(s: SystemHealthSources): SystemHealthReport["components"]["disk"] {
  try {
    const st = (s.statfs ?? statfsSync)(s.dataDir);
    const total = st.blocks * st.bsize;
    const free = st.bavail * st.bsize;
    const used = total > 0 ? round1((100 * (total - free)) / total) : null;
    return {
      status: used !== null && used >= DISK_FULL_PERCENT ? "low_space" : "ok",
      path: s.dataDir,
      total_bytes: total,
      free_bytes: free,
      used_percent: used,
    };
  } catch {
    return { status: "unknown", path: s.dataDir, total_bytes: null, free_bytes: null, used_percent: null };
  }
}
