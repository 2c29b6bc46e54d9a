import type { SqliteHandle } from "../database.ts";

/** Which Telegram message belongs to which thread. */
export class TelegramMessagesRepo {
  private readonly ins;
  private readonly find;
  private readonly del;

  constructor(sqlite: SqliteHandle) {
    this.ins = sqlite.prepare(
      "INSERT OR REPLACE INTO telegram_messages (chat_id, message_id, thread_id, kind, created_at) VALUES (?, ?, ?, ?, ?)",
    );
    this.find = sqlite.prepare<[string, number], { thread_id: number; kind: string }>(
      "SELECT thread_id, kind FROM telegram_messages WHERE chat_id = ? AND message_id = ?",
    );
    this.del = sqlite.prepare("DELETE FROM telegram_messages WHERE chat_id = ?");
  }

  record(chatId: string, messageId: number, threadId: number, kind: string): void {
    this.ins.run(chatId, messageId, threadId, kind, new Date().toISOString());
  }

  threadOf(chatId: string, messageId: number): { threadId: number; kind: string } | undefined {
    const row = this.find.get(chatId, messageId);
    return row ? { threadId: row.thread_id, kind: row.kind } : undefined;
  }

  forgetChat(chatId: string): void {
    this.del.run(chatId);
  }
}
