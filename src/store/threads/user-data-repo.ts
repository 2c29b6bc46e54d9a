import type { SqliteHandle } from "../database.ts";

/**
 * Everything stored about one user, to export it (/export) or delete it (/forget). Jobs,
 * conversations, performance and selection rows belong to the user's threads; preferences carry
 * the user id. One synchronous transaction for the delete: all or nothing.
 */
export interface UserExport {
  user_id: string;
  exported_at: string;
  threads: Record<string, unknown>[];
  jobs: Record<string, unknown>[];
  conversations: Record<string, unknown>[];
  preferences: Record<string, unknown>[];
}

const THREAD_IDS = "SELECT id FROM idea_threads WHERE user_id = @user";
const JOB_IDS = `SELECT id FROM jobs WHERE thread_id IN (${THREAD_IDS})`;

export class UserDataRepo {
  private readonly sqlite: SqliteHandle;
  /** Held backend statistics (WriteBatch): written first, so none of the user's lands after the delete. */
  private readonly writeBehind: { flush(): void } | undefined;

  constructor(sqlite: SqliteHandle, writeBehind?: { flush(): void }) {
    this.sqlite = sqlite;
    this.writeBehind = writeBehind;
  }

  export(userId: string, nowIso: string): UserExport {
    this.writeBehind?.flush();
    const all = (sql: string) => this.sqlite.prepare(sql).all({ user: userId }) as Record<string, unknown>[];
    return {
      user_id: userId,
      exported_at: nowIso,
      threads: all("SELECT * FROM idea_threads WHERE user_id = @user ORDER BY id"),
      jobs: all(`SELECT * FROM jobs WHERE thread_id IN (${THREAD_IDS}) ORDER BY id`),
      conversations: all(`SELECT * FROM conversations WHERE thread_id IN (${THREAD_IDS}) ORDER BY id`),
      preferences: this.hasColumn("user_preferences", "user_id")
        ? all("SELECT * FROM user_preferences WHERE user_id = @user ORDER BY id")
        : [],
    };
  }

  /** Deletes the user's data; returns how many rows went from each table. */
  forget(userId: string, chatId: string | undefined): Record<string, number> {
    this.writeBehind?.flush();
    const del = (table: string, where: string) =>
      this.sqlite.prepare(`DELETE FROM ${table} WHERE ${where}`).run({ user: userId }).changes;
    return this.sqlite.transaction(() => {
      const counts: Record<string, number> = {};
      counts.backend_selection_history = del("backend_selection_history", `job_id IN (${JOB_IDS})`);
      counts.backend_performance = del("backend_performance", `job_id IN (${JOB_IDS})`);
      counts.conversations = del("conversations", `thread_id IN (${THREAD_IDS})`);
      if (this.hasTable("budget_ledger"))
        counts.budget_ledger = del("budget_ledger", `thread_id IN (${THREAD_IDS})`);
      if (this.hasTable("external_callbacks")) {
        counts.external_callbacks = del("external_callbacks", `thread_id IN (${THREAD_IDS})`);
      }
      if (this.hasTable("telegram_messages")) {
        counts.telegram_messages = del("telegram_messages", `thread_id IN (${THREAD_IDS})`);
        if (chatId) this.sqlite.prepare("DELETE FROM telegram_messages WHERE chat_id = ?").run(chatId);
      }
      // Jobs reference each other (parent_job_id): clear the links first so the delete order does not matter.
      this.sqlite
        .prepare(`UPDATE jobs SET parent_job_id = NULL WHERE thread_id IN (${THREAD_IDS})`)
        .run({ user: userId });
      counts.jobs = del("jobs", `thread_id IN (${THREAD_IDS})`);
      counts.idea_threads = del("idea_threads", "user_id = @user");
      if (this.hasColumn("user_preferences", "user_id"))
        counts.user_preferences = del("user_preferences", "user_id = @user");
      counts.learned_patterns = del(
        "learned_patterns",
        "json_extract(trigger_conditions, '$.user_id') = @user",
      );
      return counts;
    })();
  }

  private hasTable(name: string): boolean {
    return (
      this.sqlite.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !==
      undefined
    );
  }

  private hasColumn(table: string, column: string): boolean {
    return (this.sqlite.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).some(
      (c) => c.name === column,
    );
  }
}
