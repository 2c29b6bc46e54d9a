import { afterEach, describe, expect, it } from "vitest";
import { createHttpApp } from "../../src/http/app.ts";
import { PROMETHEUS_CONTENT_TYPE } from "../../src/ops/metrics.ts";
import { WRITE_BEHIND_MS } from "../../src/store/write-batch.ts";
import { type ApiHarness, apiHarness } from "./api-harness.ts";

let h: ApiHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe("GET /api/system/health", () => {
  it("reports overall status and each component: database, queue, backends, bot, disk, memory", async () => {
    h = await apiHarness();
    await h.submit();
    const res = await h.call("GET", "/api/system/health");
    expect(res.status).toBe(200);
    const d = res.json.data;
    expect(d.status).toBe("healthy");
    expect(d.components.database).toMatchObject({ status: "ok", over_limit: false, max_size_mb: 1000 });
    expect(d.components.database.size_bytes).toBeGreaterThan(0);
    expect(d.components.queue).toMatchObject({
      status: "ok",
      depth: 1,
      limit: 100,
      by_status: { queued: 1 },
    });
    expect(d.components.backends).toEqual([expect.objectContaining({ name: "ollama", status: "healthy" })]);
    expect(d.components.bot).toEqual({ status: "off" });
    expect(d.components.disk.total_bytes).toBeGreaterThan(0);
    expect(d.components.memory.rss_bytes).toBeGreaterThan(0);
    expect(d.components.memory.heap_used_bytes).toBeGreaterThan(0);
    expect(d.active_jobs).toEqual([]);
  });

  it("is degraded when the database passes hermes.db.max_size_mb or the queue is full", async () => {
    h = await apiHarness();
    await h.config.set("hermes.web.max_queued_jobs", "1", "test");
    await h.submit();
    const res = await h.call("GET", "/api/system/health");
    expect(res.json.data.status).toBe("degraded");
    expect(res.json.data.components.queue.status).toBe("full");
    expect(res.json.data.issues).toContain("queue full (1 of 1)");
  });

  it("answers 503 (unhealthy) when the database is unusable", async () => {
    h = await apiHarness();
    h.setDatabaseUsable(false);
    const res = await h.call("GET", "/api/system/health");
    expect(res.status).toBe(503);
    expect(res.json.data.status).toBe("unhealthy");
    expect(res.json.data.components.database.status).toBe("unusable");
    h.setDatabaseUsable(true);
  });
});

describe("GET /metrics", () => {
  it("needs the token and answers Prometheus text with jobs, queue, backends, spend and questions", async () => {
    h = await apiHarness();
    expect((await h.call("GET", "/metrics", { token: null })).status).toBe(401);
    await h.submit();
    const b = await h.submit("Another idea to draft quickly");
    await h.runJobs();
    await h.scheduler.stop(0);
    h.queue.enqueue({ threadId: 1, jobType: "creation", priority: 5 });
    // Backend statistics still written behind (WriteBatch) land now, before the counters are set.
    h.clock.advance(WRITE_BEHIND_MS);
    // Each submit asked one question today (the conversation flow); this one was asked yesterday.
    await h.database.db
      .insertInto("conversations")
      .values({
        thread_id: 1,
        question_asked: "Who?",
        question_type: "context",
        asked_date: "2026-01-14T11:00:00.000Z",
      })
      .execute();
    await h.database.db
      .updateTable("backends")
      .set({ total_jobs: 4, failed_jobs: 1, average_response_time: 850 })
      .where("name", "=", "ollama")
      .execute();
    await h.database.db
      .insertInto("backend_performance")
      .values({ backend_id: 1, response_time_ms: 640, success: 1 })
      .execute();
    const res = await h.call("GET", "/metrics");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe(PROMETHEUS_CONTENT_TYPE);
    const lines = res.text.trimEnd().split("\n");
    // Every line is a HELP/TYPE comment or `name{labels} value`.
    for (const line of lines)
      expect(line).toMatch(
        /^(# (HELP|TYPE) [a-z_]+ .+|[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? -?[0-9.e+]+|[a-z_]+(\{.*\})? (NaN|[+-]Inf))$/,
      );
    const value = (series: string) => {
      const line = lines.find((l) => l.startsWith(`${series} `));
      return line === undefined ? undefined : Number(line.slice(series.length + 1));
    };
    expect(value('hermes_jobs{state="completed"}')).toBe(2);
    expect(value('hermes_jobs{state="queued"}')).toBe(1);
    expect(value('hermes_jobs{state="failed"}')).toBe(0);
    expect(value("hermes_queue_depth")).toBe(1);
    expect(value('hermes_backend_up{backend="ollama"}')).toBe(1);
    expect(value('hermes_backend_latency_avg_ms{backend="ollama"}')).toBe(850);
    expect(value('hermes_backend_latency_last_ms{backend="ollama"}')).toBe(640);
    expect(value('hermes_backend_errors_total{backend="ollama"}')).toBe(1);
    expect(value("hermes_spend_cents_today")).toBe(6); // 2 jobs × 3 cents
    expect(value("hermes_budget_daily_cents")).toBe(500);
    expect(value("hermes_questions_asked_total")).toBe(3);
    expect(value("hermes_questions_asked_today")).toBe(2);
    expect(value("process_resident_memory_bytes")).toBeGreaterThan(0);
    expect(res.text).toContain("# TYPE hermes_backend_errors_total counter");
    expect(b.thread_id).toBeTruthy();
  });
});

describe("GET /metrics over backend statistics written behind", () => {
  it("writes the held ones first: a call made a moment ago is counted", async () => {
    h = await apiHarness();
    const callsTotal = async () => {
      const res = await h?.call("GET", "/metrics");
      const line = res?.text
        .split("\n")
        .find((l) => l.startsWith('hermes_backend_calls_total{backend="ollama"} '));
      return Number(line?.split(" ").at(-1));
    };
    const before = await callsTotal();
    const result = await h.hermes.backends.execute(
      { jobId: 999_999, jobType: "research", messages: [{ role: "user", content: "Say hello" }] },
      new AbortController().signal,
    );
    expect(result.backend).toBe("ollama");
    // No job completion to ride with and the clock has not moved: held, and /metrics writes it.
    expect(await callsTotal()).toBe(before + 1);
  });
});

describe("without API dependencies", () => {
  it("keeps /health and answers /api and /metrics with 503", async () => {
    const app = createHttpApp({
      databaseUsable: () => true,
      bot: () => "off",
      backends: () => [],
      queue: () => ({}),
      startedAt: 0,
      now: () => 1000,
    });
    expect((await app.request("/health")).status).toBe(200);
    const api = await app.request("/api/system/health", {
      headers: { Authorization: "Bearer whatever-token" },
    });
    expect(api.status).toBe(503);
    expect((await app.request("/metrics")).status).toBe(503);
  });
});
