import { afterEach, describe, expect, it } from "vitest";
import type { BackendManager } from "../../src/backends/manager/manager.ts";
import { HermesError } from "../../src/errors.ts";
import { BudgetRepo } from "../../src/store/backends/budget-repo.ts";
import { BackendsRepo } from "../../src/store/backends/repo.ts";
import { SelectionHistoryRepo } from "../../src/store/backends/selection-history-repo.ts";
import type { HermesDatabase } from "../../src/store/database.ts";
import { memoryDb } from "../helpers/memory-db.ts";
import { config, FakeBackend, manager, messages, scores, seedJobs, settings, signal } from "./helpers.ts";

const order = (m: BackendManager, jobType = "research", extra: { preferBackend?: string } = {}) =>
  m.select({ jobType, messages, ...extra }).ranked.map((r) => r.name);

/** ollama (local, free), server (self-hosted, free), remote (paid, priced). */
function trio(cfg: Record<string, string | number | boolean>, learned: Parameters<typeof scores>[0] = {}) {
  const budget = {
    reserve: () => ({ ok: true as const, id: 1 }),
    settle() {},
    release() {},
    totals: () => ({ settledCents: 0, reservedCents: 0 }),
    threadCommitted: () => 0,
  };
  const { manager: m } = manager({ config: config(cfg), scores: scores(learned), budget });
  m.register(new FakeBackend("ollama"), settings({ type: "local" }));
  m.register(new FakeBackend("server"), settings({ type: "server_model" }));
  m.register(
    new FakeBackend("remote", { kind: "openai", local: false }),
    settings({ type: "remote_api", defaultModel: "openai/gpt-4o-mini" }),
  );
  return m;
}

describe("selection criteria and policies", () => {
  it("cost_first with local-first: the local free backend, then the self-hosted one, then the paid one", () => {
    const m = trio({});
    expect(order(m)).toEqual(["ollama", "server", "remote"]);
    const d = m.select({ jobType: "research", messages });
    expect(d.reasoning).toMatch(/cost_first.*ollama \(.*local-first/);
    expect(d.confidence).toBeGreaterThan(0);
  });

  it("quality_first without prefer_free/local-first: learned quality wins, paid or not", () => {
    const m = trio(
      {
        "hermes.selection.criteria": "quality_first",
        "hermes.selection.prefer_free": false,
        "hermes.execution.local_first_enabled": false,
      },
      {
        "ollama|research": { quality: 0.55 },
        "server|research": { quality: 0.7 },
        "remote|research": { quality: 0.95 },
      },
    );
    expect(order(m)).toEqual(["remote", "server", "ollama"]);
  });

  it("speed_first: the fastest learned backend first", () => {
    const m = trio(
      { "hermes.selection.criteria": "speed_first", "hermes.execution.local_first_enabled": false },
      { "ollama|research": { speed: 0.2 }, "server|research": { speed: 0.9 } },
    );
    expect(order(m)).toEqual(["server", "ollama", "remote"]);
  });

  it("balanced: weighs cost, quality, speed and reliability equally", () => {
    const m = trio(
      {
        "hermes.selection.criteria": "balanced",
        "hermes.selection.prefer_free": false,
        "hermes.execution.local_first_enabled": false,
      },
      {
        "ollama|research": { quality: 0.6, speed: 0.3, reliability: 0.9 },
        "server|research": { quality: 0.85, speed: 0.8, reliability: 0.99 },
        "remote|research": { quality: 0.95, speed: 0.7, reliability: 0.99 },
      },
    );
    expect(order(m)).toEqual(["server", "remote", "ollama"]);
  });

  it("prefer_free keeps free backends ahead of a better paid one; off, quality decides", () => {
    const learned = { "server|research": { quality: 0.82 }, "remote|research": { quality: 0.97 } };
    const off = {
      "hermes.execution.local_first_enabled": false,
      "hermes.selection.criteria": "quality_first",
    };
    expect(order(trio({ ...off, "hermes.selection.prefer_free": true }, learned))[2]).toBe("remote");
    expect(order(trio({ ...off, "hermes.selection.prefer_free": false }, learned))[0]).toBe("remote");
  });

  it("local-first puts type=local ahead of self-hosted even when the latter scores higher", () => {
    const learned = { "server|research": { quality: 0.95, speed: 0.95 } };
    expect(order(trio({ "hermes.selection.criteria": "quality_first" }, learned))[0]).toBe("ollama");
    expect(
      order(
        trio(
          { "hermes.selection.criteria": "quality_first", "hermes.execution.local_first_enabled": false },
          learned,
        ),
      )[0],
    ).toBe("server");
  });

  it("force_remote_threshold: a local backend failing too often goes after the remote ones", () => {
    const m = trio({}, { "ollama|research": { reliability: 0.5, samples: 12 } });
    const d = m.select({ jobType: "research", messages });
    expect(d.ranked.map((r) => r.name)).toEqual(["server", "remote", "ollama"]);
    expect(d.ranked.find((r) => r.name === "ollama")?.notes.join()).toMatch(
      /success rate 0.50 < force_remote_threshold 0.8/,
    );
    // Too few samples to judge: local-first stands.
    expect(order(trio({}, { "ollama|research": { reliability: 0.5, samples: 3 } }))[0]).toBe("ollama");
  });

  it("quality_threshold: a backend rated below it for this job type is demoted (even before prefer_free), others unaffected", () => {
    const m = trio({}, { "ollama|code": { quality: 0.5, qualitySamples: 6 } });
    expect(order(m, "code")).toEqual(["server", "remote", "ollama"]);
    expect(order(m, "research")[0]).toBe("ollama");
  });

  it("preferred_for_job_types wins for that job type only", () => {
    const { manager: m } = manager();
    m.register(new FakeBackend("ollama"), settings({ type: "local" }));
    m.register(
      new FakeBackend("talos", { kind: "talos" }),
      settings({ type: "local", preferredFor: ["code"] }),
    );
    expect(order(m, "code")[0]).toBe("talos");
    expect(order(m, "research")[0]).toBe("ollama");
  });

  it("a local-only job never goes to a paid remote backend", () => {
    const m = trio({ "hermes.execution.local_first_enabled": false, "hermes.selection.prefer_free": false });
    const d = m.select({ jobType: "research", messages, localOnly: true, preferBackend: "remote" });
    expect(d.ranked.map((r) => r.name)).toEqual(["ollama", "server"]);
    expect(d.rejected).toEqual([{ name: "remote", reason: "the job is local-only" }]);
  });

  it("a job's requested backend goes first", () => {
    const m = trio({});
    expect(order(m, "research", { preferBackend: "server" })[0]).toBe("server");
  });

  it("max_cost_per_job rejects a paid backend whose worst case is over it", () => {
    const m = trio({
      "hermes.selection.max_cost_per_job": 0.1,
      "hermes.budget.default_max_output_tokens": 4000,
    });
    const d = m.select({ jobType: "research", messages });
    expect(d.ranked.map((r) => r.name)).toEqual(["ollama", "server"]);
    expect(d.rejected).toEqual([
      { name: "remote", reason: expect.stringMatching(/over max_cost_per_job 0.1¢/) },
    ]);
  });

  it("load balancing: the least busy among equally ranked backends; off, configuration order", async () => {
    for (const lb of [true, false]) {
      const { manager: m } = manager({ config: config({ "hermes.backends.load_balancing": lb }) });
      const a = new FakeBackend("a");
      const b = new FakeBackend("b");
      m.register(a, settings({ type: "local" }));
      m.register(b, settings({ type: "local" }));
      let release!: () => void;
      a.once(() => new Promise((r) => (release = () => r(undefined))));
      const busy = m.execute({ jobId: 1, jobType: "research", messages }, signal());
      await new Promise((r) => setImmediate(r));
      expect(a.running).toBe(1);
      expect(order(m)[0]).toBe(lb ? "b" : "a");
      release();
      await busy;
    }
  });

  it("disabled and open-circuit backends are rejected with their reason", () => {
    const m = trio({});
    m.setEnabled("server", false);
    const d = m.select({ jobType: "research", messages });
    expect(d.rejected).toContainEqual({ name: "server", reason: "disabled" });
  });

  it("a paid model with no known price is refused, never called, never recorded as free", async () => {
    const { manager: m } = manager({ budget: new BudgetRepo((await memoryDb()).sqlite) });
    const paid = new FakeBackend("remote", { kind: "openai", local: false });
    m.register(paid, settings({ type: "remote_api", defaultModel: "mystery/model-x" }));
    const d = m.select({ jobType: "research", messages });
    expect(d.rejected[0]?.reason).toMatch(/no price known for mystery\/model-x/);
    const err = await m
      .execute({ jobId: 1, jobType: "research", messages }, signal())
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HermesError);
    expect(err).toMatchObject({ code: "BUDGET_EXCEEDED", retryable: false });
    expect((err as HermesError).userAction).toMatch(/hermes.budget.price_table/);
    expect(paid.calls).toHaveLength(0);
  });

  it("a price from hermes.budget.price_table makes that model usable", () => {
    const m = trio({});
    const { manager: m2 } = manager({
      config: config({ "hermes.budget.price_table": '{"mystery/model-x": [100, 200]}' }),
      budget: {
        reserve: () => ({ ok: true, id: 1 }),
        settle() {},
        release() {},
        totals: () => ({ settledCents: 0, reservedCents: 0 }),
        threadCommitted: () => 0,
      },
    });
    m2.register(
      new FakeBackend("remote", { local: false }),
      settings({ type: "remote_api", defaultModel: "mystery/model-x" }),
    );
    expect(order(m2)).toEqual(["remote"]);
    expect(order(m)).toHaveLength(3);
  });
});

describe("selection history", () => {
  let db: HermesDatabase;
  afterEach(async () => {
    await db?.close();
  });

  it("writes one row per decision: available, rejected with reasons, reasoning, confidence, outcome", async () => {
    db = await memoryDb();
    const repo = new BackendsRepo(db.sqlite);
    for (const name of ["ollama", "server", "remote"])
      repo.register(
        { name, type: "local", enabled: true, primary: false, config: {}, local: true },
        "2026-01-01T00:00:00Z",
      );
    const history = new SelectionHistoryRepo(db.sqlite);
    const { jobIds } = seedJobs(db, 2);
    const { manager: m } = manager({ history });
    const ollama = new FakeBackend("ollama");
    m.register(ollama, settings({ type: "local" }));
    m.register(new FakeBackend("server"), settings({ type: "server_model" }));
    m.register(
      new FakeBackend("remote", { local: false }),
      settings({ type: "remote_api", defaultModel: "unknown/x" }),
    );

    await m.execute({ jobId: jobIds[0] as number, jobType: "research", messages }, signal());
    const [row] = history.forJob(jobIds[0] as number);
    expect(row).toMatchObject({
      selection_criteria: "cost_first",
      selected_backend: "ollama",
      final_backend: "ollama",
      selection_successful: 1,
      fallback_used: 0,
    });
    expect(JSON.parse(row?.available_backends ?? "{}").ranked.map((r: { name: string }) => r.name)).toEqual([
      "ollama",
      "server",
    ]);
    expect(JSON.parse(row?.rejected_backends ?? "[]")).toEqual(["remote"]);
    expect(JSON.parse(row?.rejection_reasons ?? "{}").remote).toMatch(/no price known/);
    expect(row?.selection_reasoning).toMatch(/ollama/);
    expect(row?.confidence_score).toBeGreaterThan(0);

    ollama.once(() => {
      throw new HermesError("BACKEND_ERROR", "boom", { retryable: true });
    });
    await m.execute({ jobId: jobIds[1] as number, jobType: "research", messages }, signal());
    expect(history.forJob(jobIds[1] as number)[0]).toMatchObject({
      selected_backend: "ollama",
      final_backend: "server",
      fallback_used: 1,
      selection_successful: 1,
    });
  });
});

// How fast a decision is (p99 ≤ 1 ms over five backends) is measured by `npm run bench`
// (bench/manager.ts, "selection decision"); here only what a run of decisions must do.
describe("many decisions in a row", () => {
  it("five backends, 2,000 decisions: each one the same as the first for its job type", () => {
    const m = trio({}, { "ollama|research": { quality: 0.7 }, "remote|*": { quality: 0.9 } });
    m.register(
      new FakeBackend("talos", { kind: "talos" }),
      settings({ type: "local", preferredFor: ["code"] }),
    );
    m.register(
      new FakeBackend("gpt5", { local: false }),
      settings({ type: "remote_api", defaultModel: "gpt-5" }),
    );
    const first = { code: order(m, "code"), research: order(m, "research") };
    expect(first.code[0]).toBe("talos");
    for (const list of Object.values(first))
      expect([...list].sort()).toEqual(["gpt5", "ollama", "remote", "server", "talos"].sort());
    for (let i = 0; i < 2000; i++) {
      const jobType = i % 2 ? "code" : "research";
      expect(order(m, jobType)).toEqual(first[jobType]);
    }
  });
});
