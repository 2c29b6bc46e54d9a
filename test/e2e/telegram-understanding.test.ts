import { afterEach, describe, expect, it } from "vitest";
import { type FakeChatRequest, FakeOllama, type StructuredReply, waitUntil } from "../fakes/fake-ollama.ts";
import { TelegramEmulator } from "../fakes/telegram-emulator.ts";
import { understandingFor } from "../fakes/understanding.ts";
import { OWNER_ID, startTestHermes } from "../helpers/hermes-harness.ts";
import { buttons, type Cleanups, stopAll } from "./chat-setup.ts";

// Issue 15's proof, through the Telegram emulator: the model (a fake Ollama answering structured
// calls) words the first question and its buttons; when it hangs or answers garbage, a template
// question still comes, draft 1 still runs, and the fallback shows in /metrics.
const cleanups: Cleanups = [];
afterEach(() => stopAll(cleanups));

const ADMIN = "admin-token-for-understanding-tests";
const isQuestion1 = (m: { text: string }) => m.text.startsWith("❓ 1.");
const isDraft1 = (m: { text: string }) => m.text.startsWith("📝 Draft 1");

async function setup(
  structured: (req: FakeChatRequest) => StructuredReply | Promise<StructuredReply>,
  config: Record<string, string> = {},
) {
  const tg = await TelegramEmulator.start();
  cleanups.push(() => tg.stop());
  const ollama = await FakeOllama.start();
  cleanups.push(() => ollama.stop());
  ollama.setStructuredResponder(structured);
  ollama.setResponder(() => ({ text: "A first draft of the party plan." }));
  const h = await startTestHermes(
    {
      TELEGRAM_BOT_TOKEN: tg.token,
      TELEGRAM_API_ROOT: tg.apiRoot,
      OLLAMA_HOST: ollama.url,
      HERMES_ADMIN_TOKEN: ADMIN,
    },
    config,
  );
  cleanups.push(() => h.stop());
  const client = tg.client(OWNER_ID);
  const metrics = async () => {
    const res = await fetch(`http://127.0.0.1:${h.hermes.httpPort}/metrics`, {
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    return res.text();
  };
  return { tg, ollama, client, metrics, h };
}

describe("the model helps understand the idea (Telegram)", () => {
  it("the first question and its buttons are the model's, written for this idea", async () => {
    const topic = "your daughter's garden party";
    const { tg, ollama, client, metrics } = await setup(() => ({
      json: understandingFor(topic),
      delayMs: 20,
    }));
    await client.sendMessage(client.makeMessage("Plan a small birthday party for my daughter"));
    const q1 = await tg.waitFor(OWNER_ID, isQuestion1, 5000, "question 1");
    const slot = /about the (\w+) of/.exec(q1.text)?.[1];
    expect(q1.text).toContain(`Model question about the ${slot} of ${topic}?`);
    const offered = buttons(q1)
      .filter((b) => /^q:\d+:\d+:\d$/.test(b.callback_data))
      .map((b) => b.text);
    expect(offered).toEqual([`${slot} answer A`, `${slot} answer B`, `${slot} answer C`]);
    expect(ollama.structuredRequests[0]?.schema).toMatchObject({ type: "object" });
    await tg.waitFor(OWNER_ID, isDraft1, 10_000, "draft 1");
    expect(await metrics()).toContain('hermes_idea_analysis_total{outcome="model"} 1');
  });

  it("a model that never answers: a template question within the deadline, and draft 1 still runs", async () => {
    const { tg, client, metrics } = await setup(() => ({ fault: "hang" }), {
      "hermes.classification.deadline_ms": "300",
    });
    await client.sendMessage(client.makeMessage("Plan a small birthday party for my daughter"));
    const q1 = await tg.waitFor(OWNER_ID, isQuestion1, 5000, "question 1");
    expect(q1.text).not.toContain("Model question");
    expect(buttons(q1).filter((b) => /^q:\d+:\d+:\d$/.test(b.callback_data)).length).toBeGreaterThanOrEqual(
      2,
    );
    await tg.waitFor(OWNER_ID, isDraft1, 10_000, "draft 1");
    expect(await metrics()).toContain('hermes_idea_analysis_total{outcome="timeout"} 1');
  });

  it("malformed JSON falls back to the template question and is counted in /metrics", async () => {
    const { tg, client, metrics } = await setup(() => ({ text: '{"idea_type": "creation", "slots": {' }));
    await client.sendMessage(client.makeMessage("Plan a small birthday party for my daughter"));
    const q1 = await tg.waitFor(OWNER_ID, isQuestion1, 5000, "question 1");
    expect(q1.text).not.toContain("Model question");
    const text = await metrics();
    expect(text).toContain('hermes_idea_analysis_total{outcome="malformed"} 1');
    expect(text).toContain("hermes_idea_analysis_fallbacks_total 1");
  });

  it("draft 1 finishes before the analysis answers: the first question is still sent, once", async () => {
    let draftDone: () => boolean = () => false;
    const { tg, client, metrics, h } = await setup(
      async (req) => {
        const analysis = req.messages[0]?.content.startsWith("You help Hermes understand") ?? false;
        if (!analysis) return { json: { assumptions: [] } };
        // The analysis answers only once draft 1 is finished (well within the deadline).
        await waitUntil(() => draftDone(), 8000);
        return { json: understandingFor("your daughter's garden party") };
      },
      { "hermes.classification.deadline_ms": "10000" },
    );
    draftDone = () =>
      h.hermes.database.sqlite
        .prepare("SELECT count(*) FROM jobs WHERE status = 'completed'")
        .pluck()
        .get() === 1;
    await client.sendMessage(client.makeMessage("Plan a small birthday party for my daughter"));
    const q1 = await tg.waitFor(OWNER_ID, isQuestion1, 10_000, "question 1");
    expect(q1.text).toContain("Model question about the");
    await tg.waitFor(OWNER_ID, isDraft1, 10_000, "draft 1");
    // The draft waited for the acknowledgement and the question (one turn per chat).
    const sent = tg.botMessages(OWNER_ID);
    expect(sent.findIndex(isDraft1)).toBeGreaterThan(sent.findIndex(isQuestion1));
    expect(tg.botMessages(OWNER_ID).filter(isQuestion1)).toHaveLength(1);
    expect(tg.botMessages(OWNER_ID).filter(isDraft1)).toHaveLength(1);
    expect(await metrics()).toContain('hermes_idea_analysis_total{outcome="model"} 1');
  });

  it("no first question because the idea says enough: the acknowledgement says so, draft 1 follows", async () => {
    const says = { says: "for my daughter's 6th, at home, 10 kids", missing: "" };
    const all = { intent: says, constraints: says, success: says, context: says, scope: says };
    const { tg, client } = await setup((req) =>
      req.messages[0]?.content.startsWith("You help Hermes understand")
        ? { json: understandingFor("it", all) }
        : { json: { assumptions: [] } },
    );
    await client.sendMessage(client.makeMessage("Plan a small birthday party for my daughter"));
    const ack = await tg.waitFor(
      OWNER_ID,
      (m) => m.text.startsWith("💡 Got it"),
      5000,
      "the acknowledgement",
    );
    expect(ack.text).toContain("No questions needed: the idea says enough for the draft.");
    await tg.waitFor(OWNER_ID, isDraft1, 10_000, "draft 1");
    expect(tg.botMessages(OWNER_ID).filter(isQuestion1)).toHaveLength(0);
  });
});
