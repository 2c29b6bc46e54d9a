import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parseEnv } from "../../src/config/env.ts";
import { keyDef } from "../../src/config/keys.ts";
import { SystemConfig } from "../../src/config/system-config.ts";
import { CATEGORIES, categoryOf, UNUSED_KEYS } from "../../src/engine/settings/catalog.ts";
import { type SettingView, settingsOverview } from "../../src/engine/settings/effective.ts";
import type { ConfigRepo } from "../../src/store/system/config-repo.ts";
import { testHermes } from "../helpers/test-hermes.ts";

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0)) await s();
});

/** Hermes as configured by `env` (not started), and the settings as /config would show them. */
async function settings(env: Record<string, string> = {}) {
  const full = { HERMES_DB_PATH: ":memory:", HERMES_HTTP_PORT: "0", ...env };
  const { hermes } = await testHermes({ env: full, dispatch: async () => ({ ok: true }) as never });
  stops.push(() => hermes.stop());
  const view = () =>
    settingsOverview(hermes.config, { env: parseEnv(full), backends: hermes.backends.status() });
  const get = (key: string) => view().views.find((v) => v.key === key) as SettingView;
  return { hermes, view, get };
}

describe("settings as /config shows them: the values in effect", () => {
  it("only Ollama set up: the seeded primary (talos) and talos' own settings are not in effect, with the reason", async () => {
    const { view, get } = await settings();
    expect(get("hermes.backends.primary")).toMatchObject({
      value: "talos",
      flag: "inactive",
      note: "Not in effect: talos is not set up (TALOS_URL is not set), so no backend is the primary.",
    });
    expect(get("backend.talos.enabled")).toMatchObject({ value: "true", flag: "inactive" });
    expect(get("backend.ollama.enabled")).toMatchObject({ value: "true", flag: undefined });
    expect([...view().notSetUp.keys()].sort()).toEqual(["gpt5", "remote_api", "server_models", "talos"]);
  });

  it("the environment wins: TALOS_URL, OPENROUTER_API_KEY (masked), the HTTP port, the owners", async () => {
    const { get } = await settings({
      TALOS_URL: "http://127.0.0.1:8123",
      OPENROUTER_API_KEY: "sk-or-v1-secretsecretsecretXY",
      HERMES_HTTP_PORT: "0",
      HERMES_OWNER_IDS: "42,43",
    });
    expect(get("hermes.backends.primary")).toMatchObject({ value: "talos", flag: undefined });
    expect(get("backend.talos.host")).toMatchObject({
      value: "http://127.0.0.1:8123",
      stored: "100.x.x.x",
      flag: "env",
    });
    expect(get("backend.talos.port")).toMatchObject({ value: "8123", flag: "env" });
    const key = get("backend.remote_api.key");
    expect(key).toMatchObject({ value: "••••XY", flag: "env" });
    expect(JSON.stringify(key)).not.toContain("secret");
    expect(get("hermes.budget.openrouter_api_key")).toMatchObject({ flag: "inactive" });
    expect(get("hermes.web.port")).toMatchObject({ value: "0", stored: "5000", flag: "env" });
    expect(get("hermes.notifications.telegram_chat_id")).toMatchObject({ value: "42,43", flag: "env" });
  });

  it("a backend turned off with /backends shows off, whatever its row says", async () => {
    const { hermes, get } = await settings();
    hermes.backends.setEnabled("ollama", false);
    expect(get("backend.ollama.enabled")).toMatchObject({ value: "false", stored: "true", flag: "runtime" });
    expect(get("hermes.backends.enabled").note).toContain("Enabled now: none.");
  });

  it("a stored value that is not valid shows the default that is in effect", async () => {
    const { hermes } = await settings();
    const row = hermes.config.row("hermes.learning.max_questions_per_conversation");
    const repo = { all: async () => [{ ...row, config_value: "lots" }], update: async () => {} };
    const config = await SystemConfig.load(repo as unknown as ConfigRepo, { record() {} });
    const env = parseEnv({ HERMES_DB_PATH: ":memory:" });
    const [v] = settingsOverview(config, { env, backends: [] }).views;
    expect(v).toMatchObject({ value: "5", stored: "lots", flag: "invalid" });
    expect(config.get("hermes.learning.max_questions_per_conversation")).toBe(5);
  });

  it("unused settings are flagged, and nothing in the source reads them", async () => {
    const { get } = await settings();
    expect(get("hermes.web.session_timeout_hours")).toMatchObject({ flag: "unused" });
    const sources = [...files("src"), ...files("bot"), ...files("agent")].filter(
      (f) => !f.endsWith("src/config/keys.ts") && !f.includes("src/engine/settings/"),
    );
    const text = sources.map((f) => readFileSync(f, "utf8")).join("\n");
    for (const key of UNUSED_KEYS) {
      expect(keyDef(key), key).toBeDefined();
      expect(text.includes(`"${key}"`), `${key} is read somewhere: take it out of UNUSED_KEYS`).toBe(false);
    }
  });

  it("every seeded setting has a category with a title, and category ids fit in callback data", async () => {
    const { view } = await settings();
    for (const v of view().views) {
      expect(v.category.title).not.toBe("");
      expect(Buffer.byteLength(`cfg:k:${v.category.id}:999`)).toBeLessThanOrEqual(64);
    }
    expect(categoryOf(`backend.${"x".repeat(40)}.health_interval`).id.length).toBeLessThanOrEqual(50);
    expect(new Set(CATEGORIES.map((c) => c.id)).size).toBe(CATEGORIES.length);
  });
});

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith(".ts") ? [path] : [];
  });
}
