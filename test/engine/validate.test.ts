import { afterEach, describe, expect, it } from "vitest";
import { FakeOllama } from "../fakes/fake-ollama.ts";
import { FakeOpenAI } from "../fakes/fake-openai.ts";
import { startTestHermes } from "../helpers/hermes-harness.ts";

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

async function setup(ollamaText: string, otherText: string) {
  const ollama = await FakeOllama.start();
  cleanups.push(() => ollama.stop());
  ollama.setResponder(() => ({ text: ollamaText }));
  const other = await FakeOpenAI.start({ models: ["m1"] });
  cleanups.push(() => other.stop());
  other.setResponder(() => ({ text: otherText }));
  const h = await startTestHermes({ OLLAMA_HOST: ollama.url }, { "hermes.execution.k_sample_count": "2" });
  cleanups.push(() => h.stop());
  h.hermes.backends.upsert({
    name: "selfhosted",
    provider: "custom",
    type: "server_model",
    url: other.url,
    free: true,
    models: ["m1"],
    defaultModel: "m1",
    origin: "runtime",
  });
  type JobRow = { status: string; full_result: string; model_confidence: number };
  const row = (jobId: number) =>
    h.hermes.database.sqlite
      .prepare("SELECT status, full_result, model_confidence FROM jobs WHERE id = ?")
      .get(jobId) as JobRow;
  // Until the job completes, however long a busy machine takes (the limit only names a hang).
  const done = async (jobId: number): Promise<JobRow> => {
    await expect.poll(() => row(jobId).status, { timeout: 15_000, interval: 25 }).toBe("completed");
    return row(jobId);
  };
  return { h, ollama, other, done };
}

describe("validation by consensus", () => {
  it("samples on both backends; disagreement flags the draft and records the agreement", async () => {
    const { h, ollama, other, done } = await setup(
      "The capital of Australia is Canberra, chosen as a compromise.",
      "Bananas are berries while strawberries are not, botanically speaking.",
    );
    const r = await h.hermes.engine.submitIdea({
      userId: "cli",
      text: "What is the capital of Australia?",
      source: "cli",
      validate: true,
    });
    const row = await done(r.job.id);
    expect(ollama.requests.length).toBe(1);
    expect(other.requests.length).toBe(1);
    expect(row.full_result).toMatch(/^⚠ Not validated: 2 samples agreed \d+% \(needed 67%\)/);
    expect(row.model_confidence).toBeLessThan(0.67);
  });

  it("agreeing samples are not flagged", async () => {
    const same = "Canberra is the capital of Australia.";
    const { h, done } = await setup(same, same);
    const r = await h.hermes.engine.submitIdea({
      userId: "cli",
      text: "What is the capital of Australia?",
      source: "cli",
      validate: true,
    });
    const row = await done(r.job.id);
    // It says what was compared and what agreed.
    expect(row.full_result).toMatch(
      /^✅ Validated: 2 answers from (ollama\/[^,]+, selfhosted\/m1|selfhosted\/m1, ollama\/[^,]+), compared by \w+ — they agreed \d+% \(needed 67%\)\.\n\n/,
    );
    expect(row.full_result.endsWith(same)).toBe(true);
    expect(row.model_confidence).toBeGreaterThanOrEqual(0.67);
  });

  it("with one backend, three samples of the same model are called what they are", async () => {
    const ollama = await FakeOllama.start();
    cleanups.push(() => ollama.stop());
    ollama.setResponder(() => ({ text: "Canberra is the capital of Australia." }));
    const h = await startTestHermes({ OLLAMA_HOST: ollama.url }, { "hermes.execution.k_sample_count": "3" });
    cleanups.push(() => h.stop());
    const r = await h.hermes.engine.submitIdea({
      userId: "cli",
      text: "What is the capital of Australia?",
      source: "cli",
      validate: true,
    });
    const job = () =>
      h.hermes.database.sqlite.prepare("SELECT status, full_result FROM jobs WHERE id = ?").get(r.job.id) as {
        status: string;
        full_result: string | null;
      };
    await expect.poll(() => job().status, { timeout: 5000 }).toBe("completed");
    expect(ollama.requests.length).toBe(3);
    expect(job().full_result).toMatch(
      /^✅ Validated: 3 answers from the same model \(ollama\/[^)]+\), compared by \w+ — they agreed 100% \(needed \d+%\)\. Only one model was available, so this shows it answers consistently — not that independent models agree\./,
    );
  });

  it("a normal idea runs once", async () => {
    const { h, ollama, other, done } = await setup("one answer", "another answer");
    const r = await h.hermes.engine.submitIdea({ userId: "cli", text: "Name a colour", source: "cli" });
    await done(r.job.id);
    expect(ollama.requests.length + other.requests.length).toBe(1);
  });
});
