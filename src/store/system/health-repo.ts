import type { SqliteHandle } from "../database.ts";

/** Rows of the spec's system_health table written by Hermes about itself (component "hermes"). */
export interface SystemHealthEntry {
  component: string;
  status: string;
  responseTimeMs: number;
  errorRate: number;
  cpuPercent: number;
  memoryPercent: number;
  diskPercent: number;
  activeIssues: string[];
  measuredAt: string;
  lastHealthyAt: string | null;
  lastIssueAt: string | null;
}

export class SystemHealthRepo {
  private readonly insert;
  private readonly prune;
  private readonly lastStmt;

  constructor(sqlite: SqliteHandle) {
    this.insert =
      sqlite.prepare(`INSERT INTO system_health (component, health_status, response_time_ms, error_rate,
        cpu_usage_percent, memory_usage_percent, disk_usage_percent, active_issues, measured_date,
        last_healthy_date, last_issue_date) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.prune = sqlite.prepare("DELETE FROM system_health WHERE measured_date < ?");
    this.lastStmt = sqlite.prepare(
      "SELECT * FROM system_health WHERE component = +? ORDER BY id DESC LIMIT 1",
    );
  }

  record(e: SystemHealthEntry): void {
    this.insert.run(
      e.component,
      e.status,
      e.responseTimeMs,
      e.errorRate,
      e.cpuPercent,
      e.memoryPercent,
      e.diskPercent,
      e.activeIssues.length > 0 ? JSON.stringify(e.activeIssues) : null,
      e.measuredAt,
      e.lastHealthyAt,
      e.lastIssueAt,
    );
  }

  /** Deletes rows measured before `beforeIso`; returns how many. */
  pruneBefore(beforeIso: string): number {
    return this.prune.run(beforeIso).changes;
  }

  last(component: string): Record<string, unknown> | undefined {
    return this.lastStmt.get(component) as Record<string, unknown> | undefined;
  }
}
