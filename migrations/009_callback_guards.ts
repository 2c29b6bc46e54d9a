import type { Kysely } from "kysely";
import { sql } from "kysely";

/**
 * 009 — guards of the external callback endpoints:
 * - callback_signatures: signatures of accepted `POST /api/external/callback/:thread_id` requests,
 *   kept until their timestamp is too old to be accepted anyway, so a captured request cannot be
 *   replayed (not even after a restart);
 * - hermes.api.callback_secret no longer falls back to a key derived from the admin token;
 * - hermes.api.callback_allowed_hosts: host names a callback_url may name although they resolve to
 *   a loopback, private or link-local address (local integrations); empty: none.
 */
export const CALLBACK_ALLOWED_HOSTS_KEY = "hermes.api.callback_allowed_hosts";

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE TABLE callback_signatures (
    signature TEXT PRIMARY KEY,
    expires_at INTEGER NOT NULL
  )`.execute(db);
  await sql`CREATE INDEX idx_callback_signatures_expiry ON callback_signatures (expires_at)`.execute(db);
  // The callback secret is no longer derived from the admin token (see src/http/signature.ts).
  await sql`UPDATE system_config SET description = ${"HMAC-SHA256 key of X-Hermes-Signature on external callbacks, both ways (empty: callbacks are off)"}
    WHERE config_key = 'hermes.api.callback_secret'`.execute(db);
  const now = new Date().toISOString();
  await sql`INSERT OR IGNORE INTO system_config (config_key, config_value, config_type, config_category, description,
      is_user_editable, requires_restart, validation_regex, created_date, last_updated, updated_by, default_value,
      min_value, max_value, value_type)
    VALUES (${CALLBACK_ALLOWED_HOSTS_KEY}, '', 'system_setting', 'hermes',
      'Host names a callback_url may use although they resolve to a loopback, private or link-local address (comma-separated; empty: none)',
      1, 0, ${"^([A-Za-z0-9.:\\[\\]-]+(,\\s*[A-Za-z0-9.:\\[\\]-]+)*)?$"}, ${now}, ${now}, 'deployment', '', NULL, NULL, 'list')`.execute(
    db,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE IF EXISTS callback_signatures`.execute(db);
  await sql`DELETE FROM system_config WHERE config_key = ${CALLBACK_ALLOWED_HOSTS_KEY}`.execute(db);
}
