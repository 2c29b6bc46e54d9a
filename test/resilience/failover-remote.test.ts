import { afterEach, describe, expect, it } from "vitest";
import { HEALTH_INTERVAL_S, resilienceHermes } from "./harness.ts";

type H = Awaited<ReturnType<typeof resilienceHermes>>;
let h: H | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe("issue 16 item 0: an ordinary idea fails over to the remote backend, on the remote's model", () => {
  it("Ollama answers 500, gpt5 is switched on at runtime: the draft comes from gpt5 (gpt-5) within one health interval", async () => {
    // The remote is a gateway that lists the local models (its own routes) and serves gpt-5: the
    // list must not make Hermes ask it for llama3.1:8b, which has no price there.
    h = await resilienceHermes({
      remote: { models: ["gpt-5"], listed: ["llama3.1:8b", "qwen2.5-coder:7b"] },
    });
    const t = h;
    t.ollama.setResponder(() => ({ fault: "http500" }));
    t.remote.setResponder(() => ({ text: "# Bees in the city\n\nA draft from the remote backend." }));
    const on = await t.call("PUT", "/api/backends/gpt5", { enabled: true });
    expect(on.status).toBe(200);
    // Both health checks have run: gpt5's model list is the gateway's (llama3.1:8b first).
    await t.until(() => t.backend("gpt5")?.health === "healthy", "gpt5 healthy");
    await t.until(() => t.backend("gpt5")?.availableModels[0] === "llama3.1:8b", "gpt5 model list");

    const { job_id } = await t.submit();
    const took = await t.advanceUntil(() => t.job(job_id).status === "completed", HEALTH_INTERVAL_S * 1000);

    expect(t.job(job_id)).toMatchObject({ status: "completed", backend_used: "gpt5", model_used: "gpt-5" });
    expect(took).toBeLessThanOrEqual(HEALTH_INTERVAL_S * 1000);
    expect(t.ollama.requests.length).toBeGreaterThan(0);
    expect(t.remote.requests.map((r) => r.model)).toEqual(["gpt-5"]);
    const history = t.hermes.database.sqlite
      .prepare("SELECT rejection_reasons FROM backend_selection_history WHERE job_id = ?")
      .all(job_id) as { rejection_reasons: string }[];
    expect(history.map((r) => r.rejection_reasons).join()).not.toContain("no price known");
  });

  it("a backend's model for the kind of work (backend.gpt5.work_models) is what it runs for that work", async () => {
    h = await resilienceHermes({
      remote: { models: ["gpt-5", "gpt-5-mini"] },
      config: { "backend.gpt5.work_models": "draft=gpt-5-mini" },
    });
    const t = h;
    t.ollama.setResponder(() => ({ fault: "http500" }));
    t.remote.setResponder(() => ({ text: "A draft from the remote's draft model." }));
    expect((await t.call("PUT", "/api/backends/gpt5", { enabled: true })).status).toBe(200);
    await t.until(() => t.backend("gpt5")?.health === "healthy", "gpt5 healthy");

    const { job_id } = await t.submit();
    await t.advanceUntil(() => t.job(job_id).status === "completed", HEALTH_INTERVAL_S * 1000);

    expect(t.job(job_id)).toMatchObject({
      status: "completed",
      backend_used: "gpt5",
      model_used: "gpt-5-mini",
    });
    expect(t.remote.requests.map((r) => r.model)).toEqual(["gpt-5-mini"]);
    // Ollama still ran its own model for the same job.
    expect(new Set(t.ollama.requests.map((r) => r.model))).toEqual(new Set(["llama3.1:8b"]));
  });

  it("switched on while the job is already retrying on a failing Ollama: the draft follows within one health interval", async () => {
    h = await resilienceHermes({ remote: { models: ["gpt-5"], listed: ["llama3.1:8b"] } });
    const t = h;
    t.ollama.setResponder(() => ({ fault: "http500" }));
    t.remote.setResponder(() => ({ text: "A draft from the remote backend." }));
    const { job_id } = await t.submit();
    // A while on Ollama alone: every retry fails there.
    await t.advanceUntil(() => t.job(job_id).retry_count >= 3, 5 * 60_000);
    expect(t.job(job_id).status).toBe("retrying");

    expect((await t.call("PUT", "/api/backends/gpt5", { enabled: true })).status).toBe(200);
    const took = await t.advanceUntil(() => t.job(job_id).status === "completed", HEALTH_INTERVAL_S * 1000);
    expect(t.job(job_id)).toMatchObject({ status: "completed", backend_used: "gpt5", model_used: "gpt-5" });
    expect(took).toBeLessThanOrEqual(HEALTH_INTERVAL_S * 1000);
  });
});
