import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { HermesError } from "../../src/errors.ts";
import { BudgetRepo } from "../../src/store/backends/budget-repo.ts";
import type { HermesDatabase } from "../../src/store/database.ts";
import { config, errors, FakeBackend, fileDb, manager, messages, settings, signal } from "./helpers.ts";

/** 1 cent per output token, input free: a call's reservation is exactly its max tokens in cents. */
const PRICE = '{"test/paid": [0, 1000000]}';
const job = (jobId: number, extra: Record<string, unknown> = {}) => ({
  jobId,
  jobType: "research",
  messages,
  ...extra,
});

describe("budget", () => {
  let db: HermesDatabase;
  let cleanup: () => Promise<void>;
  let ledger: BudgetRepo;
  beforeEach(async () => {
    ({ db, cleanup } = await fileDb());
    ledger = new BudgetRepo(db.sqlite);
  });
  afterEach(async () => {
    await cleanup();
  });

  const committed = () =>
    Number(
      db.sqlite
        .prepare(
          "SELECT COALESCE(SUM(CASE state WHEN 'settled' THEN actual_cents WHEN 'reserved' THEN reserved_cents END), 0) FROM budget_ledger",
        )
        .pluck()
        .get(),
    );
  const spent = () =>
    Number(
      db.sqlite
        .prepare("SELECT COALESCE(SUM(actual_cents), 0) FROM budget_ledger WHERE state = 'settled'")
        .pluck()
        .get(),
    );

  function paidManager(cfg: Record<string, string | number | boolean>, extra = {}) {
    const { manager: m, clock } = manager({
      config: config({ "hermes.budget.price_table": PRICE, ...cfg }),
      budget: ledger,
      ...extra,
    });
    return { m, clock };
  }

  it("50 simultaneous paid jobs never take spend above the daily budget", async () => {
    const { m } = paidManager({ "hermes.budget.daily_budget_cents": 100 });
    const paid = new FakeBackend("remote", { kind: "openai", local: false, delayMs: 15 });
    let maxCommitted = 0;
    paid.respond(() => {
      maxCommitted = Math.max(maxCommitted, committed());
      return { usage: { inputTokens: 40, outputTokens: 6 } }; // 6¢ actual of a 10¢ reservation
    });
    m.register(paid, settings({ type: "remote_api", defaultModel: "test/paid", concurrency: 50 }));

    let pending = Array.from({ length: 50 }, (_, i) => i + 1);
    let succeeded = 0;
    // The queue retries what was refused for money still reserved; it stops on a final refusal.
    for (let round = 0; round < 20 && pending.length > 0; round++) {
      const results = await Promise.allSettled(
        pending.map((id) => m.execute(job(id, { maxTokens: 10 }), signal())),
      );
      const next: number[] = [];
      results.forEach((r, i) => {
        if (r.status === "fulfilled") succeeded++;
        else {
          expect(r.reason).toBeInstanceOf(HermesError);
          expect((r.reason as HermesError).code).toBe("BUDGET_EXCEEDED");
          if ((r.reason as HermesError).retryable) next.push(pending[i] as number);
        }
      });
      expect(committed()).toBeLessThanOrEqual(100);
      pending = next;
    }
    expect(paid.maxRunning).toBeGreaterThan(1);
    expect(maxCommitted).toBeLessThanOrEqual(100);
    expect(spent()).toBeLessThanOrEqual(100);
    // The budget was used, not just refused: 16 × 6¢ = 96¢, and a 17th (10¢ reservation) does not fit.
    expect(succeeded).toBe(16);
    expect(spent()).toBeCloseTo(96, 6);
    expect(pending).toEqual([]);
    expect(m.budgetSummary()).toMatchObject({
      spentCents: 96,
      reservedCents: 0,
      dailyLimitCents: 100,
      remainingCents: 4,
    });
  });

  it("settles to the provider-reported cost, else to usage × price; the job gets the actual cost", async () => {
    const { m } = paidManager({
      "hermes.budget.price_table": '{"test/paid": [100000, 1000000]}',
      "hermes.budget.daily_budget_cents": 5000,
      "hermes.selection.max_cost_per_job": 2000,
    });
    const paid = new FakeBackend("remote", { local: false });
    paid.once(() => ({ costCents: 0.42 }));
    paid.once(() => ({ usage: { inputTokens: 20, outputTokens: 3 } })); // 20 × 0.1 + 3 × 1 = 5¢
    m.register(paid, settings({ type: "remote_api", defaultModel: "test/paid" }));
    expect((await m.execute(job(1, { maxTokens: 50 }), signal())).costCents).toBeCloseTo(0.42);
    expect((await m.execute(job(2, { maxTokens: 50 }), signal())).costCents).toBeCloseTo(5);
    const rows = db.sqlite
      .prepare("SELECT state, reserved_cents, actual_cents FROM budget_ledger ORDER BY id")
      .all();
    expect(rows).toEqual([
      { state: "settled", reserved_cents: expect.any(Number), actual_cents: 0.42 },
      { state: "settled", reserved_cents: expect.any(Number), actual_cents: 5 },
    ]);
    // The reservation covered the worst case: all prompt tokens (over-estimated) + 50 output tokens.
    for (const r of rows as { reserved_cents: number }[]) expect(r.reserved_cents).toBeGreaterThan(50);
    // A paid call without maxTokens is capped (and reserved) at the default.
    await m.execute(job(3), signal());
    expect(paid.calls[2]?.maxTokens).toBe(1000);
  });

  it("releases the reservation when the paid call fails", async () => {
    const { m } = paidManager({});
    const paid = new FakeBackend("remote", { local: false }).failWith(() => errors.http500("remote"));
    m.register(paid, settings({ type: "remote_api", defaultModel: "test/paid" }));
    await expect(m.execute(job(1, { maxTokens: 10 }), signal())).rejects.toMatchObject({ retryable: true });
    expect(db.sqlite.prepare("SELECT state, actual_cents FROM budget_ledger").all()).toEqual([
      { state: "released", actual_cents: 0 },
    ]);
    expect(m.budgetSummary()).toMatchObject({ spentCents: 0, reservedCents: 0 });
  });

  it("alerts at 80 % and at 100 % of the daily budget, once each", async () => {
    const onBudgetAlert = vi.fn();
    const { m } = paidManager({ "hermes.budget.daily_budget_cents": 100 }, { onBudgetAlert });
    const paid = new FakeBackend("remote", { local: false }).respond(() => ({ costCents: 30 }));
    m.register(paid, settings({ type: "remote_api", defaultModel: "test/paid" }));
    for (let i = 1; i <= 3; i++) await m.execute(job(i, { maxTokens: 40 }), signal());
    expect(onBudgetAlert.mock.calls).toEqual([[80, 90, 100]]);
    for (let i = 4; i <= 6; i++) {
      await expect(m.execute(job(i, { maxTokens: 40 }), signal())).rejects.toMatchObject({
        code: "BUDGET_EXCEEDED",
        retryable: false,
      });
    }
    expect(onBudgetAlert.mock.calls).toEqual([
      [80, 90, 100],
      [100, 90, 100],
    ]);
    expect(paid.calls).toHaveLength(3);
    expect(m.budgetSummary().alertsSent).toEqual([80, 100]);
  });

  it("local backends cost nothing and are never blocked; an exhausted budget sends paid work to them", async () => {
    const { m } = paidManager({
      "hermes.budget.daily_budget_cents": 0,
      "hermes.execution.local_first_enabled": false,
      "hermes.selection.prefer_free": false,
      "hermes.selection.criteria": "quality_first",
    });
    const paid = new FakeBackend("remote", { local: false });
    const local = new FakeBackend("ollama");
    m.register(paid, settings({ type: "remote_api", defaultModel: "test/paid" }));
    m.register(local, settings({ type: "local" }));
    const result = await m.execute(job(1), signal());
    expect(result).toMatchObject({ backend: "ollama", costCents: 0 });
    expect(paid.calls).toHaveLength(0);
    expect(db.sqlite.prepare("SELECT COUNT(*) FROM budget_ledger").pluck().get()).toBe(0);
  });

  it("the project budget is per thread; min_remote_budget_cents keeps a margin", async () => {
    const { m } = paidManager({
      "hermes.budget.daily_budget_cents": 1000,
      "hermes.budget.project_budget_cents": 50,
    });
    const paid = new FakeBackend("remote", { local: false }).respond(() => ({ costCents: 30 }));
    m.register(paid, settings({ type: "remote_api", defaultModel: "test/paid" }));
    await m.execute(job(1, { threadId: 7, maxTokens: 40 }), signal());
    const err = await m.execute(job(2, { threadId: 7, maxTokens: 40 }), signal()).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "BUDGET_EXCEEDED" });
    expect((err as HermesError).message).toMatch(/project budget/);
    await m.execute(job(3, { threadId: 8, maxTokens: 40 }), signal());

    const { m: m2 } = paidManager({
      "hermes.budget.daily_budget_cents": 100,
      "hermes.projects.min_remote_budget_cents": 50,
    });
    m2.register(paid, settings({ type: "remote_api", defaultModel: "test/paid" }));
    // 60¢ spent today: 40¢ remain, less than the 50¢ minimum, though the call needs only 10¢.
    const err2 = await m2.execute(job(4, { maxTokens: 10 }), signal()).catch((e: unknown) => e);
    expect(err2).toMatchObject({ code: "BUDGET_EXCEEDED" });
    expect((err2 as HermesError).message).toMatch(/daily budget: 40¢ of 100¢ left, needs 50¢/);
  });

  it("reservations left by a crash are counted in full at the next start", () => {
    const r = ledger.reserve({
      day: "2026-01-01",
      threadId: undefined,
      jobId: 1,
      backend: "remote",
      model: "test/paid",
      cents: 12,
      dailyLimitCents: 100,
      threadLimitCents: undefined,
      minRemainingCents: 0,
    });
    expect(r.ok).toBe(true);
    paidManager({}); // a new manager (a restart) recovers the ledger
    expect(db.sqlite.prepare("SELECT state, actual_cents FROM budget_ledger").get()).toEqual({
      state: "settled",
      actual_cents: 12,
    });
  });

  it("without a ledger no paid backend is called", async () => {
    const { manager: m } = manager({ config: config({ "hermes.budget.price_table": PRICE }) });
    const paid = new FakeBackend("remote", { local: false });
    m.register(paid, settings({ type: "remote_api", defaultModel: "test/paid" }));
    await expect(m.execute(job(1), signal())).rejects.toMatchObject({ code: "BUDGET_EXCEEDED" });
    expect(paid.calls).toHaveLength(0);
  });
});
