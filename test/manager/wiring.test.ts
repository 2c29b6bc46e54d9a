// The backends as createHermes wires them, end to end over a real (file) database: registry from
// system_config + env, every store port, a job through execute().
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createHermes, type Hermes } from "../../src/app/hermes.ts";
import type { Backend } from "../../src/backends/backend.ts";
import type { BackendDefinition } from "../../src/backends/ports.ts";
import type { BackendFactories } from "../../src/backends/registry/registry.ts";
import { ManualClock } from "../../src/clock.ts";
import { parseEnv } from "../../src/config/env.ts";
import { SelectionHistoryRepo } from "../../src/store/backends/selection-history-repo.ts";
import { WRITE_BEHIND_MS } from "../../src/store/write-batch.ts";
import { type LogLine, recordingLogger } from "../helpers/test-hermes.ts";
import { FakeBackend, flush, messages, seedJobs, signal } from "./helpers.ts";

const env = { OLLAMA_HOST: "http://127.0.0.1:11434", OPENROUTER_API_KEY: "sk-or-v1-abcdefghijkl" };

describe("createHermes: backends wiring", () => {
  let hermes: Hermes | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await hermes?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
    hermes = undefined;
    dir = undefined;
  });

  it("registry + ports: a job runs, is recorded, and paid work is budgeted", async () => {
    dir = mkdtempSync(join(tmpdir(), "hermes-manager-"));
    const clock = new ManualClock();
    const iso = () => new Date(clock.now()).toISOString();
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
    const logs: LogLine[] = [];
    hermes = await createHermes({
      env: parseEnv({ ...env, HERMES_DB_PATH: join(dir, "hermes.db") }),
      clock,
      logger: recordingLogger(logs),
      http: false,
      telegram: false,
      backendFactories: factories,
    });
    const { backends, database: db } = hermes;
    backends.startHealthChecks();

    await flush();
    expect(backends.names()).toEqual(["ollama", "remote_api"]);
    const summary = logs.find((l) => l.msg.startsWith("backends: "))?.msg ?? "";
    expect(summary).toContain("ollama on (");
    expect(summary).toContain("remote_api on (");
    for (const off of ["talos off: TALOS_URL is not set", "gpt5 off: OPENAI_API_KEY is not set"])
      expect(summary).toContain(off);
    expect(summary).toContain("server_models off:");
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
    await flush();
    // No job completion for them to ride with: written by themselves once the delay passes.
    clock.advance(WRITE_BEHIND_MS);
    const history = new SelectionHistoryRepo(db.sqlite, iso);
    expect(history.forJob(jobIds[1] as number)[0]).toMatchObject({
      selected_backend: "remote_api",
      selection_successful: 1,
    });
    expect(db.sqlite.prepare("SELECT COUNT(*) FROM backend_performance").pluck().get()).toBe(2);
    expect(db.sqlite.prepare("SELECT health_status FROM backends WHERE name = 'ollama'").pluck().get()).toBe(
      "healthy",
    );
  });
});
