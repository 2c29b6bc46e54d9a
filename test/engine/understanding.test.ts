import { afterEach, describe, expect, it } from "vitest";
import type { RunRequest } from "../../src/backends/backend.ts";
import { parseUnderstanding } from "../../src/engine/understanding/schema.ts";
import { understandingFor } from "../fakes/understanding.ts";
import { testHermes } from "../helpers/test-hermes.ts";

type Built = Awaited<ReturnType<typeof testHermes>>;
const running: Built[] = [];
afterEach(async () => {
  for (const b of running.splice(0)) {
    // The scheduler's grace period for the running draft is on the manual clock: move it along.
    let stopped = false;
    const stopping = b.hermes.stop().then(() => {
      stopped = true;
    });
    while (!stopped) {
      b.clock.advance(1);
      await new Promise((r) => setImmediate(r));
    }
    await stopping;
  }
});

const IDEA = "a birthday present for my sister";
const UNDERSTOOD = understandingFor("this birthday present for your sister");

/** Hermes on a manual clock whose draft jobs are recorded (and never finish) by the dispatcher. */
async function build(config: Record<string, string> = {}) {
  const drafts: number[] = [];
  const built = await testHermes({
    // The learners' randomness from a fixed seed: which question comes first repeats exactly.
    config: { "hermes.learning.random_seed": "1", ...config },
    dispatch: (ctx) => {
      drafts.push(ctx.job.id);
      // Draft 1 keeps running (the questions happen beside it) until Hermes stops it.
      return new Promise((_, reject) =>
        ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason)),
      );
    },
  });
  running.push(built);
  await built.hermes.start();
  return { ...built, drafts };
}

const submit = (b: Built) =>
  b.hermes.engine.submitIdea({ userId: "u1", chatId: "c1", text: IDEA, source: "cli" });

/** Lets pending promise callbacks and I/O run (the manual clock does not move). */
const settle = async () => {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
};

describe("model-assisted understanding of a new idea", () => {
  it("words the first question and its buttons from the model's structured answer", async () => {
    const b = await build();
    b.ollama.structured = () => ({ text: JSON.stringify(UNDERSTOOD) });
    const { question } = await submit(b);
    expect(question).toBeDefined();
    const slot = question?.slot ?? "intent";
    expect(question?.text).toBe(`Model question about the ${slot} of this birthday present for your sister?`);
    expect(question?.suggestions).toEqual([`${slot} answer A`, `${slot} answer B`, `${slot} answer C`]);
    // The learner still keys what it learns by slot and template family.
    expect(question?.templateId).not.toBeNull();
    const call = b.ollama.structuredCalls[0] as RunRequest;
    expect(call.model).toBe("llama3.1:8b");
    expect(call.responseFormat?.name).toBe("idea_understanding");
    expect(call.messages.at(-1)?.content).toBe(IDEA);
    expect(b.hermes.understanding.snapshot()).toMatchObject({ model: 1, timeout: 0, malformed: 0 });
  });

  it("past the deadline a template question arrives, and draft 1 was queued and dispatched before", async () => {
    const b = await build({ "hermes.classification.deadline_ms": "1500" });
    let draftQueuedAtCall = -1;
    let aborted = false;
    b.ollama.structured = (_req, signal) => {
      draftQueuedAtCall = b.drafts.length + countDraftJobs(b);
      return new Promise(() => {
        signal.addEventListener("abort", () => {
          aborted = true;
        });
      });
    };
    let question: Awaited<ReturnType<typeof submit>>["question"] | "pending" = "pending";
    const submitted = submit(b).then((r) => {
      question = r.question;
    });
    await settle();
    expect(question).toBe("pending");
    expect(draftQueuedAtCall).toBeGreaterThan(0);
    expect(b.drafts).toHaveLength(1); // draft 1 runs while the analysis hangs
    b.clock.advance(1499);
    await settle();
    expect(question).toBe("pending");
    b.clock.advance(1);
    await submitted;
    const asked = question as unknown as { text: string; suggestions: string[] } | undefined;
    expect(asked?.text).not.toMatch(/^Model question/);
    expect(asked?.suggestions.length).toBeGreaterThanOrEqual(2);
    await settle();
    expect(aborted).toBe(true);
    expect(b.hermes.understanding.snapshot()).toMatchObject({ model: 0, timeout: 1 });
  });

  it("malformed output falls back to the template and is counted", async () => {
    const b = await build();
    b.ollama.structured = () => ({ text: '{"idea_type": "creation", "complexity": 3, "title": "Pres' });
    const { question } = await submit(b);
    expect(question?.text).not.toMatch(/^Model question/);
    expect(b.hermes.understanding.snapshot()).toMatchObject({ model: 0, malformed: 1 });
  });

  it("with hermes.classification.enable_llm off no model is asked", async () => {
    const b = await build({ "hermes.classification.enable_llm": "false" });
    const { question } = await submit(b);
    expect(question).toBeDefined();
    expect(b.ollama.structuredCalls).toHaveLength(0);
    expect(b.hermes.understanding.snapshot()).toMatchObject({ disabled: 1 });
  });

  it("a slot the model reads as answered is not asked about", async () => {
    const b = await build();
    const says = { says: "for my sister's 30th", missing: "" };
    const all = understandingFor("it", { intent: says, constraints: says, success: says, context: says });
    b.ollama.structured = () => ({ text: JSON.stringify(all) });
    const { question } = await submit(b);
    expect(question?.slot).toBe("scope");
  });
});

describe("parseUnderstanding", () => {
  it("takes the schema's JSON (also inside a code fence) and refuses anything else", () => {
    expect(parseUnderstanding(JSON.stringify(UNDERSTOOD))?.topic).toBe(UNDERSTOOD.topic);
    expect(parseUnderstanding(`\`\`\`json\n${JSON.stringify(UNDERSTOOD)}\n\`\`\``)).toBeDefined();
    expect(parseUnderstanding("{}")).toBeUndefined();
    expect(parseUnderstanding("Sure! Here is the analysis")).toBeUndefined();
    const oneAnswer = structuredClone(UNDERSTOOD);
    oneAnswer.slots.intent = { ...oneAnswer.slots.intent, answers: ["only one"] } as never;
    expect(parseUnderstanding(JSON.stringify(oneAnswer))).toBeUndefined();
  });
});

function countDraftJobs(b: Built): number {
  const row = b.hermes.database.sqlite
    .prepare("SELECT COUNT(*) AS n FROM jobs WHERE job_sequence = 1")
    .get() as { n: number };
  return row.n;
}
