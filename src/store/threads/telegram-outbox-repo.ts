import { z } from "zod";
import type { SqliteHandle } from "../database.ts";
import { parseOptionalJsonColumn } from "../json-column.ts";

/** What a Telegram chat is owed when a job ends: its draft, or the notice that it failed. */
export type OwedKind = "draft" | "failed";

const ErrorInfo = z.object({
  code: z.string(),
  message: z.string(),
  userAction: z.string().optional(),
});

export interface OwedDelivery {
  id: number;
  threadId: number;
  jobId: number;
  kind: OwedKind;
  error: z.infer<typeof ErrorInfo> | undefined;
}

/** After this many failed sends an entry is no longer retried at start (a chat that blocked the bot). */
export const MAX_DELIVERY_ATTEMPTS = 5;
/** Delivered entries are kept this long (for diagnosis), then pruned at start. */
const KEEP_DELIVERED_MS = 7 * 24 * 3600_000;

/**
 * The Telegram outbox (telegram_outbox): an entry is written when a job of a Telegram thread ends
 * and marked delivered once Telegram accepted the message, so a draft that a stopping or crashed
 * process could not send goes at the next start. Synchronous statements: a delivery checks and
 * marks its entry without an await in between.
 */
export class TelegramOutboxRepo {
  private readonly ins;
  private readonly idOf;
  private readonly pendingRows;
  private readonly isPendingRow;
  private readonly markDelivered;
  private readonly markAttempt;
  private readonly prune;

  constructor(sqlite: SqliteHandle) {
    // Only a Telegram thread (one with a chat) is owed anything; the thread is checked in the same statement.
    this.ins = sqlite.prepare(
      `INSERT INTO telegram_outbox (thread_id, job_id, kind, error_json, created_at)
       SELECT id, ?, ?, ?, ? FROM idea_threads WHERE id = ? AND source = 'telegram' AND coalesce(chat_id, '') != ''
       ON CONFLICT (job_id, kind) DO NOTHING`,
    );
    this.idOf = sqlite
      .prepare<[number, string], number>("SELECT id FROM telegram_outbox WHERE job_id = ? AND kind = ?")
      .pluck();
    this.pendingRows = sqlite.prepare<
      [number, number],
      { id: number; thread_id: number; job_id: number; kind: string; error_json: string | null }
    >(
      "SELECT id, thread_id, job_id, kind, error_json FROM telegram_outbox WHERE delivered_at IS NULL AND attempts < +? ORDER BY id LIMIT +?",
    );
    this.isPendingRow = sqlite
      .prepare<[number], number>("SELECT 1 FROM telegram_outbox WHERE id = ? AND delivered_at IS NULL")
      .pluck();
    this.markDelivered = sqlite.prepare("UPDATE telegram_outbox SET delivered_at = ? WHERE id = ?");
    this.markAttempt = sqlite.prepare("UPDATE telegram_outbox SET attempts = attempts + 1 WHERE id = ?");
    this.prune = sqlite.prepare(
      "DELETE FROM telegram_outbox WHERE delivered_at IS NOT NULL AND delivered_at < ?",
    );
  }

  /**
   * Records what is owed (once per job and kind) if the job's thread is a Telegram thread, and
   * returns the entry's id (undefined: nothing is owed, the thread is not in Telegram).
   */
  owe(
    entry: { threadId: number; jobId: number; kind: OwedKind; error?: z.infer<typeof ErrorInfo> | undefined },
    nowIso: string,
  ): number | undefined {
    const error = entry.error ? JSON.stringify(ErrorInfo.parse(entry.error)) : null;
    this.ins.run(entry.jobId, entry.kind, error, nowIso, entry.threadId);
    return this.idOf.get(entry.jobId, entry.kind);
  }

  /** Entries not yet delivered (and not given up on), oldest first. */
  pending(limit = 100): OwedDelivery[] {
    return this.pendingRows.all(MAX_DELIVERY_ATTEMPTS, limit).map((r) => ({
      id: r.id,
      threadId: r.thread_id,
      jobId: r.job_id,
      kind: r.kind === "failed" ? "failed" : "draft",
      error: parseOptionalJsonColumn(ErrorInfo, r.error_json, {
        table: "telegram_outbox",
        column: "error_json",
        rowId: r.id,
      }),
    }));
  }

  isPending(id: number): boolean {
    return this.isPendingRow.get(id) !== undefined;
  }

  delivered(id: number, nowIso: string): void {
    this.markDelivered.run(nowIso, id);
  }

  /** A send that failed: counted, so an entry Telegram keeps refusing is given up after a few starts. */
  attempted(id: number): void {
    this.markAttempt.run(id);
  }

  pruneDelivered(nowMs: number): void {
    this.prune.run(new Date(nowMs - KEEP_DELIVERED_MS).toISOString());
  }
}
