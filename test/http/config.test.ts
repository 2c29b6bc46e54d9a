import { afterEach, describe, expect, it } from "vitest";
import { ConfigAuditRepo } from "../../src/store/system/config-audit-repo.ts";
import { type ApiHarness, apiHarness } from "./api-harness.ts";

let h: ApiHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

type Row = Record<string, unknown> & { key: string; value: string };
const rowOf = (body: { data: { config: Row[] } }, key: string) => body.data.config.find((r) => r.key === key);

describe("GET /api/system/config", () => {
  it("lists every row with value, type, range, editable and requires_restart", async () => {
    h = await apiHarness();
    const res = await h.call("GET", "/api/system/config");
    expect(res.status).toBe(200);
    expect(res.json.data.count).toBe(h.config.list().length);
    expect(rowOf(res.json, "hermes.web.max_queued_jobs")).toMatchObject({
      value: "100",
      type: "int",
      editable: true,
      requires_restart: false,
      secret: false,
      range: { min: "1" },
    });
    expect(rowOf(res.json, "hermes.web.port")).toMatchObject({ editable: false, requires_restart: true });
    expect(rowOf(res.json, "hermes.db.backup_retention_count")).toMatchObject({
      value: "7",
      range: { min: "1", max: "365" },
    });
    const filtered = await h.call("GET", "/api/system/config?prefix=hermes.db.");
    expect(filtered.json.data.config.map((r: Row) => r.key)).toEqual([
      "hermes.db.backup_retention_count",
      "hermes.db.backup_schedule",
      "hermes.db.max_size_mb",
      "hermes.db.path",
    ]);
  });

  it("masks secrets (seed flag and key names) everywhere, including defaults and the audit", async () => {
    h = await apiHarness();
    const secrets = {
      "hermes.budget.openrouter_api_key": "sk-or-v1-abcdefghijklmnopqrstuvwxyz",
      "backend.remote_api.key": "sk-remote-0123456789abcdef",
      "hermes.notifications.telegram_bot_token": "123456:ABCdefGHIjklMNOpqrSTUvwx",
      "hermes.api.callback_secret": "callback-secret-0123456789",
    };
    for (const [key, value] of Object.entries(secrets)) {
      const res = await h.call("PUT", "/api/system/config", { json: { key, value } });
      expect(res.status, key).toBe(200);
      expect(res.text).not.toContain(value);
    }
    const res = await h.call("GET", "/api/system/config");
    for (const [key, value] of Object.entries(secrets)) {
      expect(res.text).not.toContain(value);
      const row = rowOf(res.json, key);
      expect(row, key).toMatchObject({ secret: true, is_set: true });
      expect(row?.value).toBe(`••••${value.slice(-2)}`);
    }
    expect(rowOf(res.json, "backend.gpt5.key")).toMatchObject({ secret: true, value: "", is_set: false });
    const audit = new ConfigAuditRepo(h.database.sqlite).recent(50);
    for (const value of Object.values(secrets)) expect(JSON.stringify(audit)).not.toContain(value);
  });
});

describe("PUT /api/system/config", () => {
  it("applies a valid change, records who (api:<client>) and says whether a restart is needed", async () => {
    h = await apiHarness();
    const res = await h.call("PUT", "/api/system/config", {
      json: { key: "hermes.web.max_queued_jobs", value: 250 },
      headers: { "X-Hermes-Client": "ops-laptop" },
    });
    expect(res.status).toBe(200);
    expect(res.json.data).toEqual({
      changes: [
        { key: "hermes.web.max_queued_jobs", value: "250", previous: "100", restart_required: false },
      ],
      restart_required: false,
      updated_by: "api:ops-laptop",
    });
    expect(h.config.number("hermes.web.max_queued_jobs")).toBe(250);
    expect(h.config.row("hermes.web.max_queued_jobs")?.updated_by).toBe("api:ops-laptop");
    const stored = await h.database.db
      .selectFrom("system_config")
      .select(["config_value", "updated_by"])
      .where("config_key", "=", "hermes.web.max_queued_jobs")
      .executeTakeFirst();
    expect(stored).toEqual({ config_value: "250", updated_by: "api:ops-laptop" });
    expect(new ConfigAuditRepo(h.database.sqlite).recent(1)[0]).toMatchObject({
      config_key: "hermes.web.max_queued_jobs",
      old_value: "100",
      new_value: "250",
      changed_by: "api:ops-laptop",
    });
    expect(h.configChanged).toEqual(["hermes.web.max_queued_jobs"]);

    const restart = await h.call("PUT", "/api/system/config", {
      json: { key: "hermes.notifications.telegram_bot_token", value: "" },
    });
    expect(restart.json.data.restart_required).toBe(true);
  });

  it("applies a batch of changes, or none when one is invalid", async () => {
    h = await apiHarness();
    const ok = await h.call("PUT", "/api/system/config", {
      json: {
        changes: [
          { key: "hermes.learning.enabled", value: false },
          { key: "hermes.learning.confidence_threshold", value: "0.75" },
        ],
      },
    });
    expect(ok.status).toBe(200);
    expect(h.config.bool("hermes.learning.enabled")).toBe(false);
    const bad = await h.call("PUT", "/api/system/config", {
      json: {
        changes: [
          { key: "hermes.web.max_queued_jobs", value: "50" },
          { key: "hermes.learning.confidence_threshold", value: "1.5" },
        ],
      },
    });
    expect(bad.status).toBe(400);
    expect(bad.json.error.details).toBe("hermes.learning.confidence_threshold");
    expect(h.config.number("hermes.web.max_queued_jobs")).toBe(100);
  });

  it("refuses non-editable keys (403), unknown keys (404), bad values (400) and bad bodies (400)", async () => {
    h = await apiHarness();
    const forbidden = await h.call("PUT", "/api/system/config", {
      json: { key: "hermes.web.port", value: "8080" },
    });
    expect(forbidden.status).toBe(403);
    expect(forbidden.json.error.code).toBe("FORBIDDEN");
    const unknown = await h.call("PUT", "/api/system/config", { json: { key: "no.such.key", value: "1" } });
    expect(unknown.status).toBe(404);
    const range = await h.call("PUT", "/api/system/config", {
      json: { key: "hermes.web.max_queued_jobs", value: "0" },
    });
    expect(range.status).toBe(400);
    expect(range.json.error.message).toContain("at least 1");
    const type = await h.call("PUT", "/api/system/config", {
      json: { key: "hermes.learning.enabled", value: "maybe" },
    });
    expect(type.status).toBe(400);
    const regex = await h.call("PUT", "/api/system/config", {
      json: { key: "hermes.selection.criteria", value: "random" },
    });
    expect(regex.status).toBe(400);
    const cron = await h.call("PUT", "/api/system/config", {
      json: { key: "hermes.db.backup_schedule", value: "99 2 * * *" },
    });
    expect(cron.status).toBe(400);
    expect(cron.json.error.details).toBe("hermes.db.backup_schedule");
    const badCron = await h.call("PUT", "/api/system/config", {
      json: { key: "hermes.db.backup_schedule", value: "99 99 * * *" },
    });
    expect(badCron.status).toBe(400);
    expect(badCron.json.error.message).toContain("not a valid cron expression");
    const goodCron = await h.call("PUT", "/api/system/config", {
      json: { key: "hermes.db.backup_schedule", value: "30 3 * * *" },
    });
    expect(goodCron.status).toBe(200);
    const shape = await h.call("PUT", "/api/system/config", { json: { key: "hermes.web.max_queued_jobs" } });
    expect(shape.status).toBe(400);
    const dup = await h.call("PUT", "/api/system/config", {
      json: {
        changes: [
          { key: "hermes.web.max_queued_jobs", value: "5" },
          { key: "hermes.web.max_queued_jobs", value: "6" },
        ],
      },
    });
    expect(dup.status).toBe(400);
    const malformed = await h.call("PUT", "/api/system/config", { raw: "{key:" });
    expect(malformed.status).toBe(400);
    expect(h.configChanged).toEqual(["hermes.db.backup_schedule"]);
  });
});
