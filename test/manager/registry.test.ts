import { afterEach, describe, expect, it } from "vitest";
import { BackendManager } from "../../src/backends/manager/manager.ts";
import type { BackendDefinition } from "../../src/backends/ports.ts";
import {
  buildBackends,
  configuredDefinitions,
  definitionConfig,
  secretFor,
} from "../../src/backends/registry/registry.ts";
import { ManualClock } from "../../src/clock.ts";
import { SystemConfig } from "../../src/config/system-config.ts";
import { BackendsRepo } from "../../src/store/backends/repo.ts";
import type { HermesDatabase } from "../../src/store/database.ts";
import { ConfigAuditRepo } from "../../src/store/system/config-audit-repo.ts";
import { ConfigRepo } from "../../src/store/system/config-repo.ts";
import { memoryDb } from "../helpers/memory-db.ts";
import { FakeBackend } from "./helpers.ts";

const ENV = {
  OLLAMA_HOST: "http://127.0.0.1:11434",
  TALOS_URL: "http://100.64.0.7:8001",
  TALOS_TOKEN: "talos-secret-token-123456",
  OPENROUTER_API_KEY: "sk-or-v1-secretsecretsecret",
  OPENAI_API_KEY: "sk-proj-secretsecretsecret",
};

describe("registry", () => {
  let db: HermesDatabase;
  afterEach(async () => {
    await db?.close();
  });

  it("builds the spec's backends from config rows + env, secrets only in env", async () => {
    db = await memoryDb();
    const config = await SystemConfig.load(new ConfigRepo(db.db), new ConfigAuditRepo(db.sqlite));
    const { definitions, skipped } = configuredDefinitions(config, ENV);
    const byName = new Map(definitions.map((d) => [d.definition.name, d]));
    expect([...byName.keys()]).toEqual(["ollama", "talos", "remote_api", "gpt5"]);
    expect(byName.get("ollama")?.definition).toMatchObject({
      type: "local",
      provider: "ollama",
      free: true,
      enabled: true,
      concurrency: 1,
      defaultModel: "llama3.1:8b",
    });
    expect(byName.get("talos")?.definition).toMatchObject({
      type: "local",
      provider: "talos",
      url: ENV.TALOS_URL,
      free: true,
      primary: true,
      timeoutMs: 300_000,
      healthIntervalMs: 30_000,
      models: ["llama3.1:8b", "qwen2.5-coder:7b"],
    });
    expect(byName.get("remote_api")?.definition).toMatchObject({
      type: "remote_api",
      provider: "openrouter",
      url: "https://openrouter.ai/api/v1",
      free: false,
      enabled: true,
      concurrency: 4,
      ratePerMinute: 60,
      models: ["anthropic/claude-3-sonnet", "openai/gpt-4-turbo"],
    });
    // The spec seeds GPT-5 disabled, but a key the owner gives turns its backend on.
    expect(byName.get("gpt5")?.definition).toMatchObject({
      provider: "openai",
      enabled: true,
      defaultModel: "gpt-5",
    });
    expect(skipped).toEqual([{ name: "server_models", reason: "backend.server_models.host is empty" }]);
    for (const { definition } of definitions) {
      const stored = JSON.stringify(definitionConfig(definition));
      for (const secret of [ENV.TALOS_TOKEN, ENV.OPENROUTER_API_KEY, ENV.OPENAI_API_KEY])
        expect(stored).not.toContain(secret);
    }
    expect(byName.get("remote_api")?.secret).toBe(ENV.OPENROUTER_API_KEY);

    const none = configuredDefinitions(config, { OLLAMA_HOST: ENV.OLLAMA_HOST });
    expect(none.definitions.map((d) => d.definition.name)).toEqual(["ollama"]);
    expect(none.skipped.map((s) => s.reason)).toContain("TALOS_URL is not set");
  });

  it("a given key turns its backend on unless the owner switched it off; no key leaves it off", async () => {
    db = await memoryDb();
    const config = await SystemConfig.load(new ConfigRepo(db.db), new ConfigAuditRepo(db.sqlite));
    const enabled = (env: Record<string, string>) =>
      configuredDefinitions(config, env).definitions.find((d) => d.definition.name === "gpt5")?.definition
        .enabled;
    expect(enabled({ OLLAMA_HOST: ENV.OLLAMA_HOST })).toBeUndefined();
    expect(enabled({ OPENAI_API_KEY: ENV.OPENAI_API_KEY })).toBe(true);
    await config.set("backend.gpt5.enabled", "false", "telegram:owner");
    expect(enabled({ OPENAI_API_KEY: ENV.OPENAI_API_KEY })).toBe(false);
    await config.set("backend.gpt5.enabled", "true", "api");
    expect(enabled({ OPENAI_API_KEY: ENV.OPENAI_API_KEY })).toBe(true);
  });

  it("creates real backend instances (Ollama, Talos, OpenAI-compatible)", async () => {
    db = await memoryDb();
    const config = await SystemConfig.load(new ConfigRepo(db.db), new ConfigAuditRepo(db.sqlite));
    const { backends } = buildBackends({ config, env: ENV });
    expect(backends.map((b) => [b.backend.name, b.backend.kind, b.backend.local])).toEqual([
      ["ollama", "ollama", true],
      ["talos", "talos", true],
      ["remote_api", "openai", false],
      ["gpt5", "openai", false],
    ]);
  });

  it("runtime enable/disable and added backends are persisted and survive a restart", async () => {
    db = await memoryDb();
    const config = await SystemConfig.load(new ConfigRepo(db.db), new ConfigAuditRepo(db.sqlite));
    const repo = new BackendsRepo(db.sqlite);
    const iso = () => "2026-01-01T00:00:00.000Z";
    const fake = (def: BackendDefinition) => new FakeBackend(def.name, { local: def.free });
    const start = () => {
      const built = buildBackends({
        config,
        env: ENV,
        rows: repo.rows(),
        factories: {
          ollama: fake,
          openai: (d) => fake(d),
          talos: (o) => new FakeBackend(o.name, { kind: "talos" }),
        },
      });
      const manager = new BackendManager({
        clock: new ManualClock(),
        config,
        registry: {
          saveDefinition: (d) => repo.saveDefinition({ ...d }, iso()),
          saveEnabled: (n, e) => repo.setEnabled(n, e, iso()),
        },
        factory: fake,
      });
      for (const { definition, backend } of built.backends) {
        manager.registerDefinition(definition, backend);
        repo.saveDefinition({ ...definition }, iso());
      }
      return manager;
    };

    const first = start();
    expect(first.setEnabled("remote_api", false).enabled).toBe(false);
    expect(first.setEnabled("gpt5", true).enabled).toBe(true);
    first.upsert({ name: "talos", preferredFor: ["code"], fallbacks: ["ollama"] });
    first.upsert({
      name: "vllm_box",
      type: "server_model",
      provider: "custom",
      url: "http://gpu-box:8000/v1",
      free: true,
      models: ["qwen2.5:72b"],
      concurrency: 2,
    });
    expect(() => first.setEnabled("nope", true)).toThrow(/no backend called nope/);

    const second = start();
    const status = new Map(second.status().map((s) => [s.name, s]));
    expect(status.get("remote_api")?.enabled).toBe(false);
    expect(status.get("gpt5")?.enabled).toBe(true);
    expect(status.get("talos")).toMatchObject({ preferredFor: ["code"], fallbacks: ["ollama"] });
    expect(status.get("vllm_box")).toMatchObject({
      enabled: true,
      free: true,
      type: "server_model",
      concurrency: 2,
      location: "http://gpu-box:8000/v1",
    });
    const row = db.sqlite.prepare("SELECT origin, config FROM backends WHERE name = 'vllm_box'").get() as {
      origin: string;
      config: string;
    };
    expect(row.origin).toBe("runtime");
    expect(JSON.parse(row.config)).toMatchObject({ provider: "custom", url: "http://gpu-box:8000/v1" });
  });
});

describe("stored runtime backends and secrets", () => {
  let db: HermesDatabase | undefined;
  afterEach(async () => {
    await db?.close();
    db = undefined;
  });
  it("refuses a stored row whose key variable is another component's secret", () => {
    const secrets: string[] = [];
    const row = (name: string, secretEnv: string) => ({
      name,
      type: "custom",
      enabled: true,
      enabledOverride: undefined,
      origin: "runtime" as const,
      primary: false,
      config: { provider: "custom", url: "http://127.0.0.1:9/v1", secretEnv },
      preferredFor: undefined,
      fallbacks: undefined,
    });
    const { backends, skipped } = buildBackends({
      config: undefined,
      env: { ...ENV, OPENROUTER_API_KEY: undefined, OPENAI_API_KEY: undefined },
      rows: [
        row("grab", "TELEGRAM_BOT_TOKEN"),
        row("grab2", "TALOS_TOKEN"),
        row("fine", "HERMES_BACKEND_KEY_FINE"),
      ],
      secretOf: (n) => `value-of-${n}`,
      factories: {
        ollama: (d) => new FakeBackend(d.name),
        talos: (o) => new FakeBackend(o.name, { kind: "talos" }),
        openai: (d, key) => {
          if (key) secrets.push(key);
          return new FakeBackend(d.name);
        },
      },
    });
    const names = backends.map((b) => b.definition.name);
    expect(names).toContain("fine");
    expect(names).not.toContain("grab");
    expect(names).not.toContain("grab2");
    expect(skipped.find((s) => s.name === "grab")?.reason).toMatch(/TELEGRAM_BOT_TOKEN is not a backend key/);
    expect(secrets).toEqual(["value-of-HERMES_BACKEND_KEY_FINE"]);
  });

  it("skips a configured backend whose URL carries credentials", async () => {
    db = await memoryDb();
    const config = await SystemConfig.load(new ConfigRepo(db.db), new ConfigAuditRepo(db.sqlite));
    await config.set("backend.server_models.host", "http://bob:pw-secret@gpu-box:8000/v1", "test", {
      force: true,
    });
    const { definitions, skipped } = configuredDefinitions(config, ENV);
    expect(definitions.map((d) => d.definition.name)).not.toContain("server_models");
    const reason = skipped.find((s) => s.name === "server_models")?.reason ?? "";
    expect(reason).toMatch(/credentials/);
    expect(reason).not.toMatch(/pw-secret/);
  });

  it("secretFor never hands a runtime backend a component secret", () => {
    const def = {
      ...configuredDefinitions(undefined, ENV).definitions[0]!.definition,
      name: "grab",
      origin: "runtime" as const,
      secretEnv: "TALOS_TOKEN",
    };
    expect(() => secretFor(def, ENV)).toThrow(/not a backend key variable/);
    expect(secretFor({ ...def, secretEnv: "OPENAI_API_KEY" }, ENV)).toBe(ENV.OPENAI_API_KEY);
    expect(secretFor({ ...def, origin: "config" }, ENV)).toBe(ENV.TALOS_TOKEN);
  });
});

describe("learned scores from backend_performance", () => {
  let db: HermesDatabase;
  afterEach(async () => {
    await db?.close();
  });

  it("reliability = success rate, speed from latency of successes, quality from rated calls", async () => {
    db = await memoryDb();
    const repo = new BackendsRepo(db.sqlite);
    const iso = "2026-01-01T00:00:00.000Z";
    repo.register({ name: "a", type: "local", enabled: true, primary: false, config: {}, local: true }, iso);
    for (let i = 0; i < 8; i++) {
      repo.recordCall(
        {
          backend: "a",
          jobId: 999,
          jobType: i < 4 ? "code" : "research",
          model: "m",
          success: i % 4 !== 0,
          latencyMs: 5000,
          tokens: 10,
          costCents: 0,
        },
        iso,
      );
    }
    db.sqlite
      .prepare("UPDATE backend_performance SET quality_score = 0.9 WHERE job_type = 'code' AND success = 1")
      .run();
    const s = repo.scores();
    expect(s.get("a|code")).toMatchObject({
      reliability: 0.75,
      speed: 0.5,
      samples: 4,
      quality: 0.9,
      qualitySamples: 3,
    });
    expect(s.get("a|research")).toMatchObject({ reliability: 0.75, quality: undefined, qualitySamples: 0 });
    expect(s.get("a|*")).toMatchObject({ reliability: 0.75, samples: 8, quality: 0.9 });
    // job 999 does not exist: the row is kept without a job reference.
    expect(
      db.sqlite.prepare("SELECT COUNT(*) FROM backend_performance WHERE job_id IS NULL").pluck().get(),
    ).toBe(8);
  });
});
