import { z } from "zod";
import type { SqliteHandle } from "../database.ts";
import { parseJsonColumn } from "../json-column.ts";

/**
 * A small key→JSON store (kv_store table): the storage adapter of grammY's conversations plugin,
 * so a conversation in progress survives a restart.
 */
export class KvRepo<T = unknown> {
  private readonly get;
  private readonly put;
  private readonly del;
  private readonly prefix: string;

  constructor(sqlite: SqliteHandle, prefix = "") {
    this.prefix = prefix;
    this.get = sqlite.prepare<[string], { value: string }>("SELECT value FROM kv_store WHERE key = ?");
    this.put = sqlite.prepare(
      "INSERT INTO kv_store (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
    );
    this.del = sqlite.prepare("DELETE FROM kv_store WHERE key = ?");
  }

  read(key: string): T | undefined {
    const row = this.get.get(this.prefix + key);
    if (!row) return undefined;
    // The value is whatever its writer stored (T is the caller's word); only JSON syntax is checked.
    return parseJsonColumn(z.unknown(), row.value, { table: "kv_store", column: "value", rowId: key }) as T;
  }

  write(key: string, value: T): void {
    this.put.run(this.prefix + key, JSON.stringify(value), new Date().toISOString());
  }

  delete(key: string): void {
    this.del.run(this.prefix + key);
  }
}
