import type { SqliteHandle } from "../database.ts";

/**
 * Telegram keeps an update until a later getUpdates confirms it (up to 24 hours), so an update
 * handled just before a crash comes again after the restart. Kept two days, then pruned.
 */
const KEEP_MS = 2 * 24 * 3600_000;
/** Pruning runs once every this many recorded updates. */
const PRUNE_EVERY = 200;

/**
 * The update_ids a bot has handled (telegram_updates), so an update Telegram delivers again is
 * not handled twice. Synchronous statements: the check and the record run inside the update's
 * middleware with no other update in between.
 */
export class TelegramUpdatesRepo {
  private readonly has;
  private readonly ins;
  private readonly prune;
  private sincePrune = 0;

  constructor(sqlite: SqliteHandle) {
    this.has = sqlite
      .prepare<[string, number], number>("SELECT 1 FROM telegram_updates WHERE bot_id = ? AND update_id = ?")
      .pluck();
    this.ins = sqlite.prepare(
      "INSERT OR IGNORE INTO telegram_updates (bot_id, update_id, handled_at) VALUES (?, ?, ?)",
    );
    this.prune = sqlite.prepare("DELETE FROM telegram_updates WHERE handled_at < ?");
  }

  handled(botId: string, updateId: number): boolean {
    return this.has.get(botId, updateId) !== undefined;
  }

  record(botId: string, updateId: number, nowMs: number): void {
    this.ins.run(botId, updateId, nowMs);
    if (++this.sincePrune >= PRUNE_EVERY) this.pruneOld(nowMs);
  }

  pruneOld(nowMs: number): void {
    this.sincePrune = 0;
    this.prune.run(nowMs - KEEP_MS);
  }
}
