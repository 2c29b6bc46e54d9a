import { describe, expect, it } from "vitest";
import { jaccard, measureAgreement, structuredForm, tokenSet } from "../../src/backends/manager/consensus.ts";
import { config, FakeBackend, manager, messages, settings, signal } from "./helpers.ts";

describe("agreement", () => {
  it("structured answers compare exactly after canonicalisation (key order, code fences)", () => {
    expect(structuredForm('```json\n{"b": 2, "a": [1, {"y": 1, "x": 0}]}\n```')).toBe(
      structuredForm('{"a":[1,{"x":0,"y":1}],"b":2}'),
    );
    const m = measureAgreement(['{"answer": 42}', '```json\n{ "answer": 42 }\n```', '{"answer": 41}'], 3);
    expect(m).toMatchObject({ method: "exact", chosen: 0, agreement: 0.67, similarities: [1, 1, 0] });
    expect(measureAgreement(['{"a":1}', '{"a":2}', '{"a":3}'], 3).agreement).toBe(0.33);
  });

  it("text answers compare by normalised token-set similarity", () => {
    expect(jaccard(tokenSet("The capital is Paris."), tokenSet("the CAPITAL is paris"))).toBe(1);
    const m = measureAgreement(
      ["Paris is the capital of France.", "The capital of France is Paris!", "Berlin, obviously."],
      3,
    );
    expect(m.method).toBe("similarity");
    expect([0, 1]).toContain(m.chosen);
    expect(m.agreement).toBe(0.67);
  });

  it("failed samples count as disagreement", () => {
    expect(measureAgreement(["yes", "yes"], 3).agreement).toBe(0.67);
    expect(measureAgreement([], 3).agreement).toBe(0);
  });
});

describe("executeWithConsensus", () => {
  function three(answers: string[]) {
    const { manager: m } = manager({ config: config({ "hermes.execution.k_sample_count": 3 }) });
    const fakes = ["a", "b", "c"].map((n, i) =>
      new FakeBackend(n).respond(() => ({ text: answers[i] ?? "" })),
    );
    for (const f of fakes) m.register(f, settings({ type: "local" }));
    return { m, fakes };
  }

  it("spreads k samples across backends and returns the agreed answer", async () => {
    const { m, fakes } = three(['{"verdict":"ship"}', '{"verdict": "ship"}', '{"verdict":"wait"}']);
    const r = await m.executeWithConsensus(
      { jobId: 1, jobType: "validation", messages, structured: true },
      signal(),
    );
    expect(fakes.map((f) => f.calls.length)).toEqual([1, 1, 1]);
    expect(r.text).toBe('{"verdict":"ship"}');
    expect(r.consensus).toMatchObject({
      k: 3,
      succeeded: 3,
      method: "exact",
      agreement: 0.67,
      reached: true,
      flagged: false,
    });
    expect(r.consensus.samples.map((s) => s.backend)).toEqual(["a", "b", "c"]);
  });

  it("flags an answer below hermes.execution.consensus_threshold", async () => {
    const { m } = three([
      "Ship it on Monday.",
      "Wait for the audit results.",
      "Cancel the project entirely.",
    ]);
    const r = await m.executeWithConsensus({ jobId: 1, jobType: "validation", messages }, signal());
    expect(r.consensus.reached).toBe(false);
    expect(r.consensus.flagged).toBe(true);
    expect(r.consensus.agreement).toBeLessThan(0.67);
  });

  it("with one backend, all k samples run on it; cost is the sum of the samples", async () => {
    const { manager: m } = manager();
    const only = new FakeBackend("solo").respond(() => ({ text: "same", costCents: 0 }));
    m.register(only, settings({ type: "local" }));
    const r = await m.executeWithConsensus(
      { jobId: 1, jobType: "validation", messages, samples: 2 },
      signal(),
    );
    expect(only.calls).toHaveLength(2);
    expect(r.consensus).toMatchObject({ k: 2, agreement: 1, reached: true });
    expect(r.costCents).toBe(0);
  });
});
