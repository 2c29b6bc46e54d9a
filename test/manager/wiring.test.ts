// The wiring main.ts is asked to do, end to end over a real (file) database: registry from
// system_config + env, every store port, a job through execute(), and a restart.
import { afterEach, describe, expect, it } from "vitest";
import type { Backend } from "../../src/backends/backend.ts";
import { BackendManager } from "../../src/backends/manager/manager.ts";
import type { BackendDefinition } from "../../src/backends/ports.ts";
import {
  type BackendFactories,
  buildBackends,
  createBackend,
  secretFor,
} from "../../src/backends/registry/registry.ts";
import { ManualClock } from "../../src/clock.ts";
import { SystemConfig } from "../../src/config/system-config.ts";
import { BudgetRepo } from "../../src/store/backends/budget-repo.ts";
import { BackendsRepo } from "../../src/store/backends/repo.ts";
import { SelectionHistoryRepo } from "../../src/store/backends/selection-history-repo.ts";
import type { HermesDatabase } from "../../src/store/database.ts";
import { ConfigAuditRepo } from "../../src/store/system/config-audit-repo.ts";
import { ConfigRepo } from "../../src/store/system/config-repo.ts";
import { WriteBatch } from "../../src/store/write-batch.ts";
import { FakeBackend, fileDb, flush, messages, seedJobs, signal } from "./helpers.ts";

const env = { OLLAMA_HOST: "http://127.0.0.1:11434", OPENROUTER_API_KEY: "sk-or-v1-abcdefghijkl" };

describe("main.ts wiring", () => {
  let db: HermesDatabase;
  let cleanup: () => Promise<void>;
  afterEach(async () => {
    await cleanup();
  });

  it("registry + ports: a job runs, is recorded, and paid work is budgeted", async () => {
    ({ db, cleanup } = await fileDb());
    const clock = new ManualClock();
    const iso = () => new Date(clock.now()).toISOString();
    const config = await SystemConfig.load(new ConfigRepo(db.db), new ConfigAuditRepo(db.sqlite), () =>
      clock.now(),
    );
    const fakes = new Map<string, FakeBackend>();
    const fake = (def: BackendDefinition): Backend => {
      const f = new FakeBackend(def.name, {
        local: def.free,
        kind: def.provider === "ollama" ? "ollama" : "openai",
      });
      fakes.set(def.name, f);
      return f;
    };
    const factories: BackendFactories = { ollama: fake, openai: (d) => fake(d) };

    // ---- what main.ts does ----
    const writes = new WriteBatch(db.sqlite);
    const backendsRepo = new BackendsRepo(db.sqlite, writes);
    const history = new SelectionHistoryRepo(db.sqlite, iso, writes);
    const alerts: unknown[] = [];
    const backends = new BackendManager({
      clock,
      config,
      stats: {
        recordHealth: (name, h) => backendsRepo.recordHealth(name, h, iso()),
        recordCall: (c) => backendsRepo.recordCall(c, iso()),
      },
      scores: { scores: () => backendsRepo.scores() },
      history,
      budget: new BudgetRepo(db.sqlite, iso),
      registry: {
        saveDefinition: (d) => backendsRepo.saveDefinition({ ...d }, iso()),
        saveEnabled: (name, enabled) => backendsRepo.setEnabled(name, enabled, iso()),
      },
      factory: (def) => createBackend(def, secretFor(def, env), factories),
      onBudgetAlert: (level, spent, limit) => alerts.push([level, spent, limit]),
    });
    const { backends: built, skipped } = buildBackends({ config, env, rows: backendsRepo.rows(), factories });
    for (const { definition, backend } of built) {
      backends.registerDefinition(definition, backend);
      backendsRepo.saveDefinition({ ...definition }, iso());
    }
    backends.startHealthChecks();
    // ---- end ----

    await flush();
    expect(backends.names()).toEqual(["ollama", "remote_api"]);
    expect(skipped.map((s) => s.name)).toEqual(["talos", "gpt5", "server_models"]);
    const { threadId, jobIds } = seedJobs(db, 2);
    const local = await backends.execute(
      { jobId: jobIds[0] as number, jobType: "research", messages, threadId },
      signal(),
    );
    expect(local).toMatchObject({ backend: "ollama", costCents: 0 });
    const paid = await backends.execute(
      {
        jobId: jobIds[1] as number,
        jobType: "research",
        messages,
        threadId,
        preferBackend: "remote_api",
        maxTokens: 100,
      },
      signal(),
    );
    expect(paid.backend).toBe("remote_api");
    expect(paid.costCents).toBeGreaterThan(0); // claude-3-sonnet usage × price, from the built-in table
    expect(backends.budgetSummary().spentCents).toBeCloseTo(paid.costCents, 6);
    expect(history.forJob(jobIds[1] as number)[0]).toMatchObject({
      selected_backend: "remote_api",
      selection_successful: 1,
    });
    expect(db.sqlite.prepare("SELECT COUNT(*) FROM backend_performance").pluck().get()).toBe(2);
    expect(db.sqlite.prepare("SELECT health_status FROM backends WHERE name = 'ollama'").pluck().get()).toBe(
      "healthy",
    );
    backends.stop();
    writes.flush();
  });
});
