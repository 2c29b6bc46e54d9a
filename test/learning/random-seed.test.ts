import { afterEach, describe, expect, it } from "vitest";
import { ManualClock } from "../../src/clock.ts";
import { CONFIG_KEYS } from "../../src/config/keys.ts";
import { quickAnalyze } from "../../src/learning/quick-analysis.ts";
import { configuredRandom } from "../../src/learning/random.ts";
import { testHermes } from "../helpers/test-hermes.ts";

type Built = Awaited<ReturnType<typeof testHermes>>;
const open: Built[] = [];
afterEach(async () => {
  for (const b of open.splice(0)) await b.hermes.stop();
});

const IDEAS = [
  "Plan a trip to Lisbon",
  "Write a talk about remote work",
  "Research heat pumps for old houses",
  "Should I buy or rent a flat?",
  "Analyze my monthly spending",
  "Learn to play the ukulele",
];

/** The questions a Hermes asks over a few ideas (every answer "don't know", so each slot is tried). */
async function questionsAsked(startMs: number, config: Record<string, string>): Promise<string[]> {
  // No `random` option: the flow's randomness comes from how createHermes seeds it.
  const built = await testHermes({
    clock: new ManualClock(startMs),
    config,
    dispatch: async () => ({
      text: "echo",
      summary: "echo",
      backend: "fake",
      model: "echo",
      costCents: 0,
      executionMs: 1,
    }),
  });
  open.push(built);
  const { hermes, clock } = built;
  const asked: string[] = [];
  for (const [i, text] of IDEAS.entries()) {
    const a = quickAnalyze(text);
    const thread = await hermes.threads.create({
      // Fixed ids: which question order a thread gets is drawn from its id (order-arms.ts).
      uuid: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
      title: a.title,
      originalRequest: text,
      ideaType: a.ideaType,
      complexity: a.complexity,
      priority: 5,
      initialClarity: a.clarity,
      userId: `u${i % 2}`,
      chatId: null,
      source: "cli",
      now: new Date(clock.now()).toISOString(),
    });
    let q = await hermes.flow.start(thread.id, `u${i % 2}`);
    while (q) {
      asked.push(`${q.slot}:${q.templateId}:${q.suggestions.join("|")}`);
      q = (await hermes.flow.answer(thread.id, q.id, { kind: "suggestion", index: 1 }, `u${i % 2}`)).next;
    }
  }
  return asked;
}

describe("the learners' randomness comes from configuration", () => {
  it("has a typed key, 0 (a fresh seed per start) by default", () => {
    expect(CONFIG_KEYS["hermes.learning.random_seed"].default).toBe(0);
  });

  it("a configured seed repeats a run exactly, whatever the clock says", async () => {
    // The model-assisted analysis is off: only the learners' own randomness is under test.
    const seed = { "hermes.learning.random_seed": "4242", "hermes.classification.enable_llm": "false" };
    const first = await questionsAsked(Date.UTC(2026, 0, 1), seed);
    const second = await questionsAsked(Date.UTC(2026, 5, 17, 3, 21, 7), seed);
    expect(first.length).toBeGreaterThan(IDEAS.length);
    expect(second).toEqual(first);
  });

  it("seed 0 draws a fresh seed; any other seed is used as given", () => {
    const a = configuredRandom(7, () => 0.5);
    const b = configuredRandom(7, () => 0.9);
    expect([a(), a(), a()]).toEqual([b(), b(), b()]);
    const c = configuredRandom(0, () => 0.25);
    const d = configuredRandom(0, () => 0.75);
    expect(c()).not.toBe(d());
  });
});
