import { afterEach, describe, expect, it } from "vitest";
import { HEALTH_INTERVAL_S, resilienceHermes } from "./harness.ts";

/**
 * Issue 16 item 12: a backend that accepts a call and then sends nothing (before the first token,
 * or in the middle of its answer) is a TIMEOUT after the stall limit — failed over or retried at
 * once — and counts against its health, which its (still answering) health probe cannot clear.
 */
type H = Awaited<ReturnType<typeof resilienceHermes>>;
let h: H | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const FIRST_S = 30;
const BETWEEN_S = 60;
const STALLS = {
  "hermes.execution.stall_first_token_seconds": String(FIRST_S),
  "hermes.execution.stall_between_tokens_seconds": String(BETWEEN_S),
  // Only the draft's stream is under test: the model's structured calls (analysis, assumptions)
  // would answer on the same fake Ollama and count as the backend answering again.
  "hermes.classification.enable_llm": "false",
};
/** Far beyond any stall limit: without the watchdog the job is still held when this has passed. */
const PATIENCE_MS = 4 * 60_000;
/** A pause between chunks that never ends within a test: the stream stops without closing. */
const FOREVER_MS = 10 * 60_000;

describe("issue 16 item 12: a stalled stream is a TIMEOUT, failed over or retried at once", () => {
  it("Ollama accepts the call and never sends a token: after 30 s the draft comes from gpt5", async () => {
    h = await resilienceHermes({ config: STALLS });
    const t = h;
    t.ollama.setResponder(() => ({ fault: "hang" }));
    t.remote.setResponder(() => ({ text: "A draft from the remote backend." }));
    expect((await t.call("PUT", "/api/backends/gpt5", { enabled: true })).status).toBe(200);
    await t.until(() => t.backend("gpt5")?.health === "healthy", "gpt5 healthy");
    await t.until(() => t.backend("ollama")?.health === "healthy", "ollama healthy");

    const { job_id } = await t.submit();
    await t.until(() => t.ollama.inFlight() === 1, "the call on Ollama");
    const took = await t.advanceUntil(() => t.job(job_id).status === "completed", PATIENCE_MS);

    expect(t.job(job_id)).toMatchObject({ status: "completed", backend_used: "gpt5", model_used: "gpt-5" });
    expect(took).toBeGreaterThanOrEqual(FIRST_S * 1000);
    expect(took).toBeLessThanOrEqual((FIRST_S + 2) * 1000);
    // The hung call was closed, not left holding Ollama's only slot.
    await t.until(() => t.ollama.inFlight() === 0, "the hung call to close");
    const ollama = t.backend("ollama");
    expect(ollama).toMatchObject({ health: "degraded", consecutiveFailures: 1 });
    expect(ollama?.lastError).toContain("sent nothing for 30 s");
    // Its health probe still answers, and that does not make it healthy again.
    await t.advanceUntil(() => false, HEALTH_INTERVAL_S * 1000 + 1000, 5000);
    expect(t.backend("ollama")).toMatchObject({ health: "degraded", consecutiveFailures: 1 });
  });

  it("Ollama stops in the middle of its answer: after 60 s of silence the job is retried, and runs again", async () => {
    h = await resilienceHermes({ config: STALLS });
    const t = h;
    let stall = true;
    t.ollama.setResponder(() =>
      stall
        ? { chunks: ["# A draft that ", "never ends"], chunkDelayMs: FOREVER_MS }
        : { text: "# A whole draft\n\nThat arrives this time." },
    );
    await t.until(() => t.backend("ollama")?.health === "healthy", "ollama healthy");

    const { job_id } = await t.submit();
    await t.until(() => t.ollama.inFlight() === 1, "the call on Ollama");
    const took = await t.advanceUntil(() => t.job(job_id).status === "retrying", PATIENCE_MS);

    expect(took).toBeGreaterThanOrEqual(BETWEEN_S * 1000);
    expect(took).toBeLessThanOrEqual((BETWEEN_S + 2) * 1000);
    expect(t.job(job_id).error_message).toContain("stopped sending in the middle of its answer");
    expect(t.backend("ollama")).toMatchObject({ health: "degraded", consecutiveFailures: 1 });
    await t.until(() => t.ollama.inFlight() === 0, "the stalled call to close");

    stall = false;
    await t.advanceUntil(() => t.job(job_id).status === "completed", PATIENCE_MS);
    expect(t.job(job_id)).toMatchObject({ status: "completed", backend_used: "ollama", retry_count: 1 });
    // A real call that answered clears the stall.
    expect(t.backend("ollama")).toMatchObject({ health: "healthy", consecutiveFailures: 0 });
  });

  it("the same watchdog guards an OpenAI-compatible backend: a hung gpt5 is a TIMEOUT counted against it", async () => {
    h = await resilienceHermes({ config: STALLS });
    const t = h;
    t.ollama.setResponder(() => ({ fault: "http500" }));
    t.remote.setResponder(() => ({ fault: "hang" }));
    expect((await t.call("PUT", "/api/backends/gpt5", { enabled: true })).status).toBe(200);
    await t.until(() => t.backend("gpt5")?.health === "healthy", "gpt5 healthy");

    const { job_id } = await t.submit();
    await t.until(() => t.remote.inFlight() === 1, "the call on gpt5");
    const took = await t.advanceUntil(() => t.job(job_id).status === "retrying", PATIENCE_MS);

    expect(took).toBeLessThanOrEqual((FIRST_S + 2) * 1000);
    expect(t.job(job_id).error_message).toContain("gpt5 accepted the call but sent nothing for 30 s");
    expect(t.backend("gpt5")).toMatchObject({ health: "degraded", consecutiveFailures: 1 });
    await t.until(() => t.remote.inFlight() === 0, "the hung call to close");
  });

  it("a backend that keeps stalling opens its circuit; its health probe does not close it, and the job says why", async () => {
    h = await resilienceHermes({ config: STALLS });
    const t = h;
    t.ollama.setResponder(() => ({ fault: "hang" }));
    await t.until(() => t.backend("ollama")?.health === "healthy", "ollama healthy");

    const { job_id } = await t.submit();
    await t.advanceUntil(() => t.backend("ollama")?.circuit === "open", 10 * PATIENCE_MS);
    expect(t.backend("ollama")).toMatchObject({
      health: "unhealthy",
      circuit: "open",
      consecutiveFailures: 3,
    });
    expect(t.ollama.requests.length).toBe(3);
    // Probes answer for a health interval and more: the circuit stays open, no new call is sent.
    await t.until(() => t.ollama.inFlight() === 0, "the hung calls to close");
    const calls = t.ollama.requests.length;
    const before = t.job(job_id).retry_count;
    await t.advanceUntil(() => t.job(job_id).retry_count > before, 10 * PATIENCE_MS);
    expect(t.job(job_id).error_message).toContain("calls are accepted but nothing comes back");
    expect(t.job(job_id).error_message).not.toContain("Cannot reach");
    expect(t.ollama.requests.length).toBeLessThanOrEqual(calls + 1); // at most the half-open probe
  });
});
