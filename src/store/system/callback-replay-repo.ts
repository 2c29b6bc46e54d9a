import type { SqliteHandle } from "../database.ts";

/**
 * Signatures of accepted external callbacks (table callback_signatures, migration 009), each kept
 * until `expiresAtMs`: after that its timestamp is refused as too old, so the row is no longer needed.
 */
export class CallbackReplayRepo {
  private readonly insert;
  private readonly purge;

  constructor(sqlite: SqliteHandle) {
    this.insert = sqlite.prepare(
      "INSERT INTO callback_signatures (signature, expires_at) VALUES (?, ?) ON CONFLICT (signature) DO NOTHING",
    );
    this.purge = sqlite.prepare("DELETE FROM callback_signatures WHERE expires_at < ?");
  }

  /** True the first time a signature is seen (it is then remembered); false for a replay. */
  claim(signature: string, expiresAtMs: number, nowMs: number): boolean {
    this.purge.run(nowMs);
    return this.insert.run(signature.toLowerCase(), expiresAtMs).changes === 1;
  }
}
