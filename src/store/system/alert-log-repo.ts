import type { SqliteHandle } from "../database.ts";

/** When each alert (type + key) was last sent: the cooldown survives restarts. */
export class AlertLogRepo {
  private readonly get;
  private readonly upsert;

  constructor(sqlite: SqliteHandle) {
    this.get = sqlite.prepare<[string, string], { last_sent_at: string }>(
      "SELECT last_sent_at FROM alert_log WHERE alert_type = ? AND alert_key = ?",
    );
    this.upsert = sqlite.prepare(
      `INSERT INTO alert_log (alert_type, alert_key, last_sent_at, count) VALUES (?, ?, ?, 1)
       ON CONFLICT(alert_type, alert_key) DO UPDATE SET last_sent_at = excluded.last_sent_at, count = count + 1`,
    );
  }

  lastSent(type: string, key: string): number | undefined {
    const row = this.get.get(type, key);
    return row ? Date.parse(row.last_sent_at) : undefined;
  }

  markSent(type: string, key: string, atMs: number): void {
    this.upsert.run(type, key, new Date(atMs).toISOString());
  }
}
