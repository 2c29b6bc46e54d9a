import { afterEach, describe, expect, expectTypeOf, it } from "vitest";
import { CONFIG_KEYS, configDefault, isSecretKey, keyDef, maskSecret } from "../../src/config/keys.ts";
import { type ConfigChange, SystemConfig } from "../../src/config/system-config.ts";
import type { HermesDatabase } from "../../src/store/database.ts";
import { ConfigAuditRepo } from "../../src/store/system/config-audit-repo.ts";
import { ConfigRepo } from "../../src/store/system/config-repo.ts";
import { memoryDb } from "../helpers/memory-db.ts";

let database: HermesDatabase | undefined;
afterEach(async () => {
  await database?.close();
  database = undefined;
});

async function load() {
  database = await memoryDb();
  const audit = new ConfigAuditRepo(database.sqlite);
  const now = Date.UTC(2026, 0, 2, 3, 4, 5);
  const config = await SystemConfig.load(new ConfigRepo(database.db), audit, () => now);
  return { config, audit, database, now };
}

const stored = (db: HermesDatabase, key: string) =>
  db.sqlite.prepare("SELECT config_value FROM system_config WHERE config_key = ?").pluck().get(key);

describe("SystemConfig.set: validation, audit and change event for every transport", () => {
  it("refuses a cron expression croner rejects (99 99 * * *), storing and auditing nothing", async () => {
    const { config, audit, database } = await load();
    await expect(config.set("hermes.db.backup_schedule", "99 99 * * *", "telegram:1")).rejects.toMatchObject({
      code: "INVALID_INPUT",
      details: "hermes.db.backup_schedule",
    });
    await expect(config.set("hermes.db.backup_schedule", "0 2 * *", "telegram:1")).rejects.toMatchObject({
      code: "INVALID_INPUT",
    });
    expect(config.get("hermes.db.backup_schedule")).toBe("0 2 * * *");
    expect(stored(database, "hermes.db.backup_schedule")).toBe("0 2 * * *");
    expect(audit.recent(10)).toEqual([]);
  });

  it("writes a config_changes row with the acting user, old and new value, and restart flag", async () => {
    const { config, audit, now } = await load();
    await config.set("hermes.web.max_queued_jobs", " 250 ", "telegram:1001");
    await config.set("hermes.notifications.telegram_bot_token", "123456:ABCdefGHIjklMNOpqr89", "cli");
    const [token, jobs] = audit.recent(10);
    expect(jobs).toMatchObject({
      config_key: "hermes.web.max_queued_jobs",
      old_value: "100",
      new_value: "250",
      changed_by: "telegram:1001",
      changed_at: new Date(now).toISOString(),
      requires_restart: 0,
    });
    // A secret is audited masked: at most its last two characters.
    expect(token).toMatchObject({ old_value: "", new_value: "••••89", requires_restart: 1 });
  });

  it("tells onChange listeners after the value is stored, until they unsubscribe", async () => {
    const { config } = await load();
    const seen: ConfigChange[] = [];
    const unsubscribe = config.onChange((c) => {
      expect(config.get("hermes.learning.confidence_threshold")).toBe(0.75);
      seen.push(c);
    });
    config.onChange(() => {
      throw new Error("a broken listener does not undo the change");
    });
    await config.set("hermes.learning.confidence_threshold", "0.75", "api:ops");
    expect(seen).toEqual([
      {
        key: "hermes.learning.confidence_threshold",
        value: "0.75",
        previous: "0.7",
        by: "api:ops",
        requiresRestart: false,
      },
    ]);
    unsubscribe();
    await config.set("hermes.learning.confidence_threshold", "0.8", "api:ops");
    expect(seen).toHaveLength(1);
  });

  it("refuses unknown and fixed keys the same way for everyone", async () => {
    const { config } = await load();
    await expect(config.set("no.such.key", "1", "api:x")).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(config.set("hermes.web.port", "8080", "telegram:1")).rejects.toMatchObject({
      code: "FORBIDDEN",
    });
    await expect(config.set("hermes.web.max_queued_jobs", "-4", "telegram:1")).rejects.toThrow(
      /must be at least 1/,
    );
    await expect(config.set("hermes.selection.criteria", "random", "telegram:1")).rejects.toThrow(
      /must be one of cost_first/,
    );
  });
});

describe("typed getter", () => {
  it("returns the stored value typed by its key, and the registry default when the row is missing", async () => {
    database = await memoryDb();
    database.sqlite
      .prepare("DELETE FROM system_config WHERE config_key IN (?, ?)")
      .run("hermes.budget.daily_budget_cents", "hermes.notifications.alert_types");
    database.sqlite
      .prepare("UPDATE system_config SET config_value = 'false' WHERE config_key = 'hermes.learning.enabled'")
      .run();
    const config = await SystemConfig.load(new ConfigRepo(database.db), new ConfigAuditRepo(database.sqlite));

    const budget = config.get("hermes.budget.daily_budget_cents");
    expectTypeOf(budget).toEqualTypeOf<number>();
    // The seed's 500 (the HTTP stack used to fall back to 0, the manager's policy to 500).
    expect(budget).toBe(500);
    expect(config.get("hermes.notifications.alert_types")).toEqual([
      "talos_down",
      "job_failure",
      "queue_full",
    ]);
    expectTypeOf(config.get("hermes.learning.enabled")).toEqualTypeOf<boolean>();
    expect(config.get("hermes.learning.enabled")).toBe(false);
    expectTypeOf(config.get("hermes.selection.criteria")).toEqualTypeOf<
      "cost_first" | "quality_first" | "speed_first" | "balanced"
    >();
    expectTypeOf(config.get("backend.my_vllm.concurrency")).toEqualTypeOf<number>();
    expect(config.get("backend.talos.concurrency")).toBe(1);
  });
});

describe("the key registry", () => {
  it("decides secrets by its flag, for static keys and the backend family alike", () => {
    expect(isSecretKey("hermes.api.callback_secret")).toBe(true);
    expect(isSecretKey("backend.remote_api.key")).toBe(true);
    expect(isSecretKey("backend.my_vllm.key")).toBe(true);
    expect(isSecretKey("hermes.notifications.telegram_chat_id")).toBe(false);
    expect(isSecretKey("hermes.web.max_input_length")).toBe(false);
  });

  it("masks a secret to at most its last two characters", () => {
    expect(maskSecret("sk-or-v1-abcdefghijklmnop0189")).toBe("••••89");
    expect(maskSecret("short")).toBe("••••");
    expect(maskSecret("")).toBe("");
  });

  it("accepts every default through its own schema, unchanged", () => {
    for (const [key, def] of Object.entries(CONFIG_KEYS)) {
      const text = keyDef(key)?.format(def.default as never) ?? "";
      const parsed = def.schema.safeParse(text);
      expect(parsed.success, key).toBe(true);
      expect(parsed.data, key).toEqual(configDefault(key as keyof typeof CONFIG_KEYS));
    }
  });
});

describe("which keys are secret", () => {
  it("the registry's flag decides for known keys; an unknown row named like a key, token or password is secret too", () => {
    expect(isSecretKey("hermes.api.callback_secret")).toBe(true);
    expect(isSecretKey("hermes.budget.daily_budget_cents")).toBe(false);
    // Rows the registry does not know (an older database, a hand-added row) are masked by name.
    expect(isSecretKey("hermes.integrations.webhook_token")).toBe(true);
    expect(isSecretKey("legacy.smtp.password")).toBe(true);
    expect(isSecretKey("legacy.smtp.host")).toBe(false);
  });
});
