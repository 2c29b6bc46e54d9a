import { afterEach, describe, expect, it } from "vitest";
import { FakeOllama } from "../fakes/fake-ollama.ts";
import { type BotMessage, TelegramEmulator } from "../fakes/telegram-emulator.ts";
import { OWNER_ID, startTestHermes } from "../helpers/hermes-harness.ts";

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

type Markup = { inline_keyboard: { text: string; callback_data: string }[][] };
const buttons = (m: BotMessage) => (m.reply_markup as Markup | undefined)?.inline_keyboard.flat() ?? [];

async function setup(opts: { slowDraft1?: boolean } = {}) {
  const tg = await TelegramEmulator.start();
  cleanups.push(() => tg.stop());
  const ollama = await FakeOllama.start();
  cleanups.push(() => ollama.stop());
  // Draft 1 is held when asked until the test releases it, so questions and answers happen while it
  // runs, however fast or slow the machine.
  let releaseDraft1!: () => void;
  const draft1Released = new Promise<void>((r) => {
    releaseDraft1 = r;
  });
  ollama.setResponder(async (req) => {
    const prompt = req.messages.at(-1)?.content ?? "";
    const refined = /answers/i.test(prompt) && !/Kind of idea/.test(prompt.slice(0, 0));
    if (!refined && opts.slowDraft1) {
      await draft1Released;
      return { chunks: Array.from({ length: 40 }, (_, i) => `d1-${i} `) };
    }
    return { text: `DRAFT for prompt:\n${prompt}` };
  });
  const h = await startTestHermes({
    TELEGRAM_BOT_TOKEN: tg.token,
    TELEGRAM_API_ROOT: tg.apiRoot,
    OLLAMA_HOST: ollama.url,
  });
  cleanups.push(() => h.stop());
  const client = tg.client(OWNER_ID);
  const press = async (m: BotMessage, data: string) =>
    client.sendCallback(
      client.makeCallbackQuery(data, {
        message: { message_id: m.message_id, chat: { id: OWNER_ID } } as never,
      }),
    );
  return { tg, h, client, ollama, press, releaseDraft1 };
}

/** A draft's last part carries the rating buttons (no separate "How is this draft?" message). */
const hasRating = (m: BotMessage) => buttons(m).some((b) => b.text === "★★★★★");
const isQuestion = (n: number) => (m: BotMessage) => m.text.startsWith(`❓ ${n}.`);

/** Taps question 1's first suggestion, then "Enough" on question 2 (if one comes): one answer given. */
async function answerOnceThenEnough(
  tg: TelegramEmulator,
  press: (m: BotMessage, d: string) => Promise<unknown>,
) {
  const q1 = await tg.waitFor(OWNER_ID, isQuestion(1), 5000, "question 1");
  const suggestion = buttons(q1).find((b) => /^q:\d+:\d+:0$/.test(b.callback_data));
  await press(q1, suggestion?.callback_data ?? "");
  const q2 = await tg.waitFor(OWNER_ID, isQuestion(2), 5000, "question 2");
  await press(q2, buttons(q2).find((b) => b.text === "Enough — go ahead")?.callback_data ?? "");
  return suggestion?.text ?? "?";
}

describe("the conversation in Telegram", () => {
  it("idea → ack → questions answered by button and by text → draft 1 and draft 2 → rating", async () => {
    const { tg, h, client, press, releaseDraft1 } = await setup({ slowDraft1: true });
    await client.sendMessage(client.makeMessage("Plan a small birthday party for my daughter"));
    await tg.waitFor(OWNER_ID, (m) => m.text.includes("Got it"), 5000, "ack");
    const q1 = await tg.waitFor(OWNER_ID, isQuestion(1), 5000, "question 1");
    // The question arrived while draft 1 was still running: nothing waited for anything.
    const draft1Status = h.hermes.database.sqlite
      .prepare("SELECT status FROM jobs WHERE job_sequence = 1")
      .pluck()
      .get();
    expect(["queued", "running"]).toContain(draft1Status);
    releaseDraft1();
    const b1 = buttons(q1);
    expect(b1.map((b) => b.text)).toEqual(expect.arrayContaining(["Skip", "Enough — go ahead"]));
    const suggestions = b1.filter((b) => /^q:\d+:\d+:\d$/.test(b.callback_data));
    expect(suggestions.length).toBeGreaterThanOrEqual(2);
    expect(suggestions.length).toBeLessThanOrEqual(4);
    const chosen = suggestions[0];
    await press(q1, chosen?.callback_data ?? "");
    // The question message shows the chosen answer.
    await tg.waitFor(
      OWNER_ID,
      (m) => m.message_id === q1.message_id && m.text.includes(`→ ${chosen?.text}`),
      5000,
      "q1 marked",
    );

    const q2 = await tg.waitFor(OWNER_ID, isQuestion(2), 5000, "question 2");
    expect(buttons(q2).length).toBeGreaterThan(2);
    await client.sendMessage(client.makeMessage("Twelve kids, in our garden, on a budget of 100 euros"));

    // Keep answering (by Skip) until the questions stop and draft 2 is queued.
    // Whichever comes first, with no time limit of its own deciding which branch is taken.
    const refining = (m: BotMessage) => m.text.includes("refining the draft");
    for (let n = 3; n <= 6; n++) {
      const next = await tg.waitFor(
        OWNER_ID,
        (m) => isQuestion(n)(m) || refining(m),
        10_000,
        `question ${n} or the refining notice`,
      );
      if (refining(next)) break;
      await press(next, buttons(next).find((b) => b.text === "Skip")?.callback_data ?? "");
    }
    await tg.waitFor(
      OWNER_ID,
      (m) => m.text.includes("refining the draft with your answers"),
      8000,
      "refining notice",
    );
    const draft1 = await tg.waitFor(OWNER_ID, (m) => m.text.startsWith("📝 Draft 1"), 10_000, "draft 1");
    const draft2 = await tg.waitFor(OWNER_ID, (m) => m.text.startsWith("📝 Draft 2"), 10_000, "draft 2");
    expect(draft1.text).not.toContain("Refined");
    expect(draft2.text).toContain("Refined with your answers: ");
    expect(draft2.text.split("\n")[1]).not.toMatch(/ — "|→/);
    // Both answers reached draft 2's prompt.
    expect(draft2.text).toContain("Twelve kids, in our garden");
    expect(draft2.text).toContain(chosen?.text ?? "?");

    const jobs = h.hermes.database.sqlite
      .prepare("SELECT id, job_sequence, parent_job_id, dependencies FROM jobs ORDER BY id")
      .all() as {
      id: number;
      job_sequence: number;
      parent_job_id: number | null;
      dependencies: string | null;
    }[];
    expect(jobs[1]).toMatchObject({ job_sequence: 2, parent_job_id: jobs[0]?.id, dependencies: null });
    const rows = h.hermes.database.sqlite
      .prepare(
        "SELECT conversation_position, question_type, user_response, response_time_seconds, responded_date FROM conversations ORDER BY id",
      )
      .all() as Record<string, unknown>[];
    expect(rows[0]).toMatchObject({ conversation_position: 1, user_response: chosen?.text });
    expect(rows[1]).toMatchObject({
      conversation_position: 2,
      user_response: "Twelve kids, in our garden, on a budget of 100 euros",
    });
    expect(rows[0]?.responded_date).toBeTruthy();

    // Rate draft 2: stored as feedback.
    await expect.poll(() => tg.botMessages(OWNER_ID).filter(hasRating).length).toBe(2);
    const lastRate = tg.botMessages(OWNER_ID).filter(hasRating).at(-1) as BotMessage;
    const five = buttons(lastRate).find((b) => b.text === "★★★★★");
    await press(lastRate, five?.callback_data ?? "");
    await expect
      .poll(
        () =>
          h.hermes.database.sqlite
            .prepare("SELECT user_feedback FROM jobs WHERE job_sequence = 2")
            .pluck()
            .get(),
        {
          timeout: 5000,
        },
      )
      .toBe(5);
  });

  it("“Enough” with nothing answered spends no model call and says draft 1 stands", async () => {
    const { tg, h, client, press, ollama } = await setup();
    await client.sendMessage(client.makeMessage("Write a short speech for a retirement party"));
    const q1 = await tg.waitFor(OWNER_ID, isQuestion(1), 5000, "question 1");
    await press(q1, buttons(q1).find((b) => b.text === "Enough — go ahead")?.callback_data ?? "");
    await tg.waitFor(OWNER_ID, (m) => m.text.includes("Draft 1 stands"), 5000, "what happens instead");
    await tg.waitFor(OWNER_ID, (m) => m.text.startsWith("📝 Draft 1"), 10_000, "draft 1");
    expect(tg.botMessages(OWNER_ID).some((m) => m.text.includes("refining the draft"))).toBe(false);
    expect(h.hermes.database.sqlite.prepare("SELECT count(*) FROM jobs").pluck().get()).toBe(1);
    expect(ollama.requests.length).toBe(1);
  });

  it("“Enough” after one answer queues the refined draft at once, built on draft 1", async () => {
    const { tg, h, client, press, ollama } = await setup();
    await client.sendMessage(client.makeMessage("Write a short speech for a retirement party"));
    const draft1 = await tg.waitFor(OWNER_ID, (m) => m.text.startsWith("📝 Draft 1"), 10_000, "draft 1");
    await answerOnceThenEnough(tg, press);
    await tg.waitFor(OWNER_ID, (m) => m.text.includes("refining the draft"), 5000, "refining notice");
    await tg.waitFor(OWNER_ID, (m) => m.text.startsWith("📝 Draft 2"), 10_000, "draft 2");
    expect(h.hermes.database.sqlite.prepare("SELECT count(*) FROM jobs").pluck().get()).toBe(2);
    // The refine prompt carries draft 1's text: draft 2 is draft 1 plus what was learned.
    const refinePrompt = ollama.requests.at(-1)?.messages.at(-1)?.content ?? "";
    expect(refinePrompt).toContain("The draft you are refining:\nDRAFT for prompt:");
    expect(draft1.text).toContain("DRAFT for prompt:");
  });

  it("a restart in the middle of the questions: the next button press carries on", async () => {
    const { tg, h, client, press } = await setup();
    await client.sendMessage(client.makeMessage("Design a weekly meal plan for two"));
    const q1 = await tg.waitFor(OWNER_ID, isQuestion(1), 5000, "question 1");
    await h.restart();
    const suggestion = buttons(q1).find((b) => /^q:\d+:\d+:0$/.test(b.callback_data));
    await press(q1, suggestion?.callback_data ?? "");
    const q2 = await tg.waitFor(OWNER_ID, isQuestion(2), 8000, "question 2 after the restart");
    await press(q2, buttons(q2).find((b) => b.text === "Enough — go ahead")?.callback_data ?? "");
    const draft2 = await tg.waitFor(OWNER_ID, (m) => m.text.startsWith("📝 Draft 2"), 10_000, "draft 2");
    expect(draft2.text).toContain(suggestion?.text ?? "?");
    // /thread shows the questions with their answers, and both drafts.
    const shortId = /thread ([0-9a-f]{8})/.exec(draft2.text)?.[1] ?? "";
    await client.sendCommand(client.makeCommand(`/thread ${shortId}`));
    const details = await tg.waitFor(OWNER_ID, (m) => m.text.startsWith(`🧵 ${shortId}`), 5000, "/thread");
    expect(details.text).toContain(`1. ${q1.text.slice(5).split("\n")[0]}`);
    expect(details.text).toContain(`→ ${suggestion?.text}`);
    expect(details.text).toMatch(/Draft 1 \(draft\) · completed/);
    expect(details.text).toMatch(/Draft 2 \(refine\) · completed/);
  });

  it("a reply to the idea after its questions adds information the same way the API does", async () => {
    const { tg, h, client, press, ollama } = await setup();
    await client.sendMessage(client.makeMessage("Write a short speech for a retirement party"));
    const ack = await tg.waitFor(OWNER_ID, (m) => m.text.includes("Got it"), 5000, "ack");
    const answer = await answerOnceThenEnough(tg, press);
    const draft2 = await tg.waitFor(OWNER_ID, (m) => m.text.startsWith("📝 Draft 2"), 10_000, "draft 2");
    await client.sendMessage(
      client.makeMessage("Mention his thirty years at the station.", {
        reply_to_message: { message_id: ack.message_id, chat: { id: OWNER_ID }, text: ack.text } as never,
      }),
    );
    await tg.waitFor(OWNER_ID, (m) => m.text.includes("Adding that and refining"), 5000, "refining notice");
    const db = h.hermes.database.sqlite;
    const jobs = db
      .prepare("SELECT id, job_sequence, parent_job_id, prompt_variables FROM jobs ORDER BY id")
      .all() as {
      id: number;
      job_sequence: number;
      parent_job_id: number | null;
      prompt_variables: string;
    }[];
    const refined = jobs.at(-1);
    // Parent: the latest completed draft; next sequence; the API's prompt format.
    expect(refined).toMatchObject({ job_sequence: 3, parent_job_id: jobs[1]?.id });
    // The whole context: the earlier answer and the added information, and the draft it refines.
    const vars = JSON.parse(refined?.prompt_variables ?? "{}");
    expect(vars.answers).toContain(`→ ${answer}`);
    expect(vars.answers).toContain(
      "- Additional information from the user: Mention his thirty years at the station.",
    );
    expect(vars.draft_job_id).toBe(jobs[1]?.id);
    await tg.waitFor(OWNER_ID, (m) => m.text.startsWith("📝 Draft 3"), 10_000, "draft 3");
    const prompt = ollama.requests.at(-1)?.messages.at(-1)?.content ?? "";
    expect(prompt).toContain(`→ ${answer}`);
    expect(prompt).toContain("Mention his thirty years at the station.");
    expect(prompt).toMatch(
      /The draft you are refining:\nDRAFT for prompt:\nYou are Hermes, a personal assistant\. You already/,
    );
    expect(draft2.text).toContain("Draft 2");
    // /thread lists the added information.
    const shortId = /thread ([0-9a-f]{8})/.exec(draft2.text)?.[1] ?? "";
    await client.sendCommand(client.makeCommand(`/thread ${shortId}`));
    const details = await tg.waitFor(OWNER_ID, (m) => m.text.startsWith(`🧵 ${shortId}`), 5000, "/thread");
    expect(details.text).toContain("Added by you:\n• Mention his thirty years at the station.");
    // Recorded in the conversation, so the history and later drafts see it.
    const entry = db
      .prepare("SELECT question_asked, user_response FROM conversations ORDER BY id DESC LIMIT 1")
      .get();
    expect(entry).toEqual({
      question_asked: "(additional information)",
      user_response: "Mention his thirty years at the station.",
    });
  });

  it("“Shorter” under a draft queues a rewrite and learns the preference", async () => {
    const { tg, h, client, press, ollama } = await setup();
    await client.sendMessage(client.makeMessage("Explain how tides work"));
    await answerOnceThenEnough(tg, press);
    await tg.waitFor(OWNER_ID, (m) => m.text.startsWith("📝 Draft 2"), 10_000, "draft 2");
    await expect.poll(() => tg.botMessages(OWNER_ID).filter(hasRating).length).toBe(2);
    const rate = tg.botMessages(OWNER_ID).filter(hasRating).at(-1) as BotMessage;
    await press(rate, buttons(rate).find((b) => b.text === "✂ Shorter")?.callback_data ?? "");
    await tg.waitFor(OWNER_ID, (m) => m.text.includes("Writing a shorter version"), 5000, "rewrite notice");
    const rewrite = await tg.waitFor(OWNER_ID, (m) => /📝 Draft 3/.test(m.text), 10_000, "the rewrite");
    // The fake model echoes its (longer) prompt: what the draft says about its length is measured.
    expect(rewrite.text).toMatch(
      /Shorter, as you asked: [\d,]+ → [\d,]+ characters|is not shorter: [\d,]+ →/,
    );
    const pref = h.hermes.database.sqlite
      .prepare("SELECT count(*) FROM user_preferences WHERE user_id = ?")
      .pluck()
      .get(String(OWNER_ID));
    expect(Number(pref)).toBeGreaterThan(0);
    // What the toast claimed is visible: in /patterns and in the next idea's draft 1 prompt.
    await client.sendCommand(client.makeCommand("/patterns"));
    const patterns = await tg.waitFor(OWNER_ID, (m) => m.text.includes("Preferences"), 5000, "/patterns");
    expect(patterns.text).toContain("Keep it short and to the point.");
    const before = ollama.requests.length;
    await client.sendCommand(client.makeCommand("/new Plan a garden for bees"));
    await expect.poll(() => ollama.requests.length, { timeout: 10_000 }).toBeGreaterThan(before);
    const draft1Prompt = ollama.requests[before]?.messages.at(-1)?.content ?? "";
    expect(draft1Prompt).toContain("Plan a garden for bees");
    expect(draft1Prompt).toContain("Their preferences:\n- Keep it short and to the point.");
  });
});
