import type { BackendManager } from "../backends/manager/manager.ts";
import { createOperations, type Operations, systemHealthSource } from "../ops/operations.ts";
import type { SystemHealthReport } from "../ops/system-health.ts";
import type { JobsRepo } from "../store/jobs/repo.ts";
import { MetricsRepo } from "../store/system/metrics-repo.ts";
import type { Foundation } from "./foundation.ts";
import type { HermesOptions } from "./options.ts";

export interface OpsPart {
  system: () => SystemHealthReport;
  ops: Operations;
  metrics: MetricsRepo;
}

/** /metrics over backend statistics written behind (WriteBatch): what is held is written first. */
class FlushingMetrics extends MetricsRepo {
  private readonly writes: { flush(): void } | undefined;

  constructor(sqlite: Foundation["database"]["sqlite"], writes: { flush(): void } | undefined) {
    super(sqlite);
    this.writes = writes;
  }

  override snapshot(nowMs: number): ReturnType<MetricsRepo["snapshot"]> {
    this.writes?.flush();
    return super.snapshot(nowMs);
  }
}

/** The system report, and what runs beside a serving Hermes: backups, health rows, the pid file. */
export function createOps(
  f: Foundation,
  options: Pick<HermesOptions, "healthIntervalMs">,
  sources: {
    jobs: JobsRepo;
    backends: BackendManager;
    bot: () => "running" | "off" | "stopped";
    /** Backend statistics written behind: flushed before /metrics reads them. */
    writes?: { flush(): void };
  },
): OpsPart {
  const metrics = new FlushingMetrics(f.database.sqlite, sources.writes);
  const system = systemHealthSource({
    database: f.database,
    config: f.config,
    metrics,
    bot: sources.bot,
    backends: () => sources.backends.status(),
    jobs: sources.jobs,
    writeFaults: () => f.storage.failing().map((w) => w.writer),
    startedAt: f.startedAt,
    now: () => f.clock.now(),
  });
  const ops = createOperations({
    database: f.database,
    config: f.config,
    clock: f.clock,
    log: f.log,
    system,
    storage: f.storage,
    healthIntervalMs: options.healthIntervalMs,
    onDatabaseOversize: (size) =>
      void f.notifier.alert(
        "database_size",
        "database",
        `The database is ${Math.round(size.bytes / 1e6)} MB, past hermes.db.max_size_mb (${Math.round(size.limitBytes / 1e6)} MB). Export and /forget old data, or raise the limit.`,
      ),
  });
  return { system, ops, metrics };
}
