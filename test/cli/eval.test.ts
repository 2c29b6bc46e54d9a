import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { main } from "../../src/cli/eval/eval.ts";
import { EVAL_IDEAS } from "../../src/cli/eval/ideas.ts";
import { FakeOllama } from "../fakes/fake-ollama.ts";
import { understandingFor } from "../fakes/understanding.ts";

const stops: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0)) await s();
});

describe("npm run eval", () => {
  it("ships about 30 vague ideas of every kind", () => {
    expect(EVAL_IDEAS.length).toBeGreaterThanOrEqual(30);
    expect(new Set(EVAL_IDEAS).size).toBe(EVAL_IDEAS.length);
  });

  it("runs analysis, draft 1 and its assumptions against the model and writes a Markdown report", async () => {
    const ollama = await FakeOllama.start();
    stops.push(() => ollama.stop());
    ollama.setResponder(() => ({ text: "Assumptions: a budget under €50.\n\n# The plan\n- one\n- two" }));
    ollama.setStructuredResponder((req) => {
      const properties = (req.schema?.properties ?? {}) as Record<string, unknown>;
      if ("assumptions" in properties)
        return {
          json: { assumptions: [{ slot: "constraints", assumption: "a budget under €50", risk: 0.7 }] },
        };
      // The second idea gets garbage: the report says the heuristics stood.
      return req.messages.at(-1)?.content === EVAL_IDEAS[1]
        ? { text: "not json" }
        : { json: understandingFor("your sister's present") };
    });
    const dir = mkdtempSync(join(tmpdir(), "hermes-eval-"));
    stops.push(() => rmSync(dir, { recursive: true, force: true }));
    const out = join(dir, "report.md");
    const said: string[] = [];
    const code = await main(["--backend", ollama.url, "--ideas", "2", "--out", out], (l) => said.push(l));
    expect(code).toBe(0);
    expect(said).toEqual([`2 ideas → ${out}`]);
    const report = readFileSync(out, "utf8");
    expect(report).toContain("# Hermes eval: model-assisted understanding");
    expect(report).toContain("| 2 | 1 | 1 |");
    expect(report).toContain(`## 1. ${EVAL_IDEAS[0]}`);
    expect(report).toContain(
      "| constraints | — | the constraints | Model question about the constraints of your sister's present? |",
    );
    expect(report).toContain("no usable analysis (malformed");
    expect(report).toContain("> Assumptions: a budget under €50.");
    expect(report).toContain("I assumed a budget under €50 — right? (constraints, risk 0.70)");
  });

  it("without --backend it says how to call it", async () => {
    const said: string[] = [];
    expect(await main([], (l) => said.push(l))).toBe(2);
    expect(said[0]).toMatch(/^usage: npm run eval -- --backend <url>/);
  });
});
