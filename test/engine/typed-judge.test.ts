import { describe, expect, it } from "vitest";
import type { ExecuteRequest } from "../../src/backends/manager/types.ts";
import { ManualClock } from "../../src/clock.ts";
import type { QuestionView } from "../../src/engine/conversation/types.ts";
import { modelTypedJudge } from "../../src/engine/understanding/typed-judge.ts";
import { type UnderstandDeps, UnderstandingCounters } from "../../src/engine/understanding/understand.ts";

const question: QuestionView = {
  id: 1,
  threadId: 7,
  position: 1,
  slot: "context",
  text: "Who is this weekly newsletter for?",
  suggestions: ["My customers", "My team"],
  templateId: 4,
  idea: { shortId: "0e93c7aa", title: "Write a weekly newsletter" },
};

/** A judge over a scripted model: `answer` is the structured call's text, or "hang". */
function judgeWith(answer: string | "hang", enabled = true) {
  const clock = new ManualClock();
  const calls: ExecuteRequest[] = [];
  const counters = new UnderstandingCounters();
  const settings: Record<string, unknown> = {
    "hermes.classification.enable_llm": enabled,
    "hermes.classification.local_only": true,
    "hermes.classification.deadline_ms": 1500,
    "hermes.classification.model": "llama3.1:8b",
  };
  const deps: UnderstandDeps = {
    clock,
    counters,
    config: {
      bool: (k: string) => settings[k] === true,
      number: (k: string) => Number(settings[k]),
      get: ((k: string) => settings[k]) as UnderstandDeps["config"]["get"],
    },
    backends: {
      execute: async (req) => {
        calls.push(req);
        if (answer === "hang") return new Promise(() => {});
        return { text: answer } as Awaited<ReturnType<UnderstandDeps["backends"]["execute"]>>;
      },
    },
  };
  return { judge: modelTypedJudge(deps), calls, counters, clock };
}

describe("typed text: answer or new idea, with the model's help", () => {
  it("asks no model where the rule is sure: a short reply, or a message that says it is new", async () => {
    const { judge, calls } = judgeWith('{"route":"new_idea"}');
    expect(await judge("My customers", question)).toEqual({ route: "answer" });
    expect((await judge("Different thing: a podcast about bees", question)).route).toBe("new_idea");
    expect(calls).toHaveLength(0);
  });

  it("in between, the model decides: a long reply it reads as a new request becomes a new idea", async () => {
    const { judge, calls, counters } = judgeWith('{"route":"new_idea"}');
    const verdict = await judge("Find a cheap flight to Lisbon for the first week of May", question);
    expect(verdict).toEqual({ route: "new_idea", reason: "the model read it as a new request" });
    expect(calls[0]?.responseFormat?.name).toBe("typed_text_verdict");
    expect(calls[0]?.localOnly).toBe(true);
    expect(calls[0]?.beside).toBe(true);
    expect(calls[0]?.messages.at(-1)?.content).toContain("Who is this weekly newsletter for?");
    expect(counters.snapshot().model).toBe(1);
  });

  it("a question-shaped answer the rule would take as new stays an answer when the model says so", async () => {
    const { judge } = judgeWith('{"route":"answer"}');
    expect(await judge("Mostly retired neighbours, does that matter?", question)).toEqual({
      route: "answer",
    });
  });

  it("late or malformed, the rule's verdict stands and the fallback is counted", async () => {
    const late = judgeWith("hang");
    let verdict: unknown;
    const judging = late.judge("Can you explain how tides work in the North Sea?", question).then((v) => {
      verdict = v;
    });
    await Promise.resolve();
    expect(verdict).toBeUndefined();
    late.clock.advance(1500);
    await judging;
    expect(verdict).toEqual({ route: "new_idea", reason: "it asks a question of its own" });
    expect(late.counters.snapshot().timeout).toBe(1);

    const garbage = judgeWith("route: answer");
    expect((await garbage.judge("Can you explain how tides work in the North Sea?", question)).route).toBe(
      "new_idea",
    );
    expect(garbage.counters.snapshot().malformed).toBe(1);
  });

  it("with hermes.classification.enable_llm off the rule decides alone", async () => {
    const { judge, calls, counters } = judgeWith('{"route":"answer"}', false);
    expect((await judge("Can you explain how tides work in the North Sea?", question)).route).toBe(
      "new_idea",
    );
    expect(calls).toHaveLength(0);
    expect(counters.snapshot().disabled).toBe(1);
  });
});
