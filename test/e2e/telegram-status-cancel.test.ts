import { afterEach, describe, expect, it } from "vitest";
import { FakeOllama } from "../fakes/fake-ollama.ts";
import { TelegramEmulator } from "../fakes/telegram-emulator.ts";
import { OWNER_ID, startTestHermes } from "../helpers/hermes-harness.ts";

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

async function setup(config: Record<string, string> = {}) {
  const tg = await TelegramEmulator.start();
  cleanups.push(() => tg.stop());
  const ollama = await FakeOllama.start();
  cleanups.push(() => ollama.stop());
  // A stream that outlasts every test (2,000 × 30 ms): the job is still mid-stream whenever we look
  // and press Cancel, however busy the machine, and only a cancel can end it early.
  ollama.setResponder(() => ({ chunks: Array.from({ length: 2000 }, (_, i) => `t${i} `), chunkDelayMs: 30 }));
  const h = await startTestHermes(
    {
      TELEGRAM_BOT_TOKEN: tg.token,
      TELEGRAM_API_ROOT: tg.apiRoot,
      OLLAMA_HOST: ollama.url,
    },
    config,
  );
  cleanups.push(() => h.stop());
  return { tg, ollama, h };
}

type Markup = { inline_keyboard: { text: string; callback_data: string }[][] };

describe("status line and cancellation in Telegram", () => {
  it("the acknowledgement carries a Cancel button; pressing it aborts the backend request and no draft comes", async () => {
    const { tg, ollama, h } = await setup();
    const client = tg.client(OWNER_ID);
    await client.sendMessage(client.makeMessage("Draft a long essay on tides"));
    const ack = await tg.waitFor(OWNER_ID, (m) => m.text.includes("Got it"), 5000, "ack");
    const button = (ack.reply_markup as Markup).inline_keyboard[0]?.[0];
    expect(button?.text).toContain("Cancel");
    await tg.waitFor(OWNER_ID, () => ollama.inFlight() === 1, 5000, "the job to stream");
    // The status line was edited to show progress.
    await tg.waitFor(
      OWNER_ID,
      (m) => m.message_id === ack.message_id && /Drafting/.test(m.text),
      5000,
      "a status edit",
    );

    const press = client.makeCallbackQuery(button?.callback_data ?? "", {
      message: { message_id: ack.message_id, chat: { id: OWNER_ID, type: "private" } } as never,
    });
    await client.sendCallback(press);
    await tg.waitFor(
      OWNER_ID,
      (m) => m.message_id === ack.message_id && m.text.includes("Cancelled"),
      5000,
      "status: cancelled",
    );
    await tg.waitFor(OWNER_ID, () => ollama.abortedCount() === 1, 5000, "the backend request to be aborted");
    const job = h.hermes.database.sqlite.prepare("SELECT status FROM jobs").get() as { status: string };
    expect(job.status).toBe("cancelled");
    expect(tg.botMessages(OWNER_ID).some((m) => m.text.startsWith("📝 Draft"))).toBe(false);
    // Cancelling the idea closed its question: a message typed now is a new idea, not an answer.
    const open = h.hermes.database.sqlite
      .prepare(
        "SELECT count(*) AS n FROM conversations WHERE conversation_position IS NOT NULL AND responded_date IS NULL",
      )
      .get() as { n: number };
    expect(open.n).toBe(0);
    await client.sendMessage(client.makeMessage("Plan a picnic by the river"));
    await tg.waitFor(OWNER_ID, (m) => m.text.includes("Plan a picnic by the river"), 5000, "a new idea");
  });

  it("/status lists work in progress with cancel buttons; /cancel cancels the latest", async () => {
    const { tg, ollama, h } = await setup();
    const client = tg.client(OWNER_ID);
    await client.sendMessage(client.makeMessage("Outline a board game about trains"));
    await tg.waitFor(OWNER_ID, (m) => m.text.includes("Got it"), 5000, "ack");
    await tg.waitFor(OWNER_ID, () => ollama.inFlight() === 1, 5000, "the job to stream");
    await client.sendCommand(client.makeCommand("/status"));
    const line = await tg.waitFor(
      OWNER_ID,
      (m) => /draft 1 is being written now/.test(m.text),
      5000,
      "status line",
    );
    expect((line.reply_markup as Markup).inline_keyboard[0]?.[0]?.callback_data).toMatch(/^cancel:\d+$/);
    await client.sendCommand(client.makeCommand("/cancel"));
    await tg.waitFor(
      OWNER_ID,
      (m) =>
        /^✖ Cancelled “.*” \([0-9a-f]{8}\): stopped 1 unfinished draft and closed its questions\.$/.test(
          m.text,
        ),
      5000,
      "cancel confirmation",
    );
    const job = h.hermes.database.sqlite.prepare("SELECT status FROM jobs").get() as { status: string };
    expect(job.status).toBe("cancelled");
    // The idea's open question is closed with it: nothing waits for an answer any more.
    const open = h.hermes.database.sqlite
      .prepare(
        "SELECT count(*) AS n FROM conversations WHERE conversation_position IS NOT NULL AND responded_date IS NULL",
      )
      .get() as { n: number };
    expect(open.n).toBe(0);
  });

  it("a guest's /status counts only the guest's own drafts, not the owner's work", async () => {
    const { tg, ollama } = await setup({ "hermes.guests.mode": "limited" });
    const client = tg.client(OWNER_ID);
    await client.sendMessage(client.makeMessage("Outline a board game about trains"));
    await tg.waitFor(OWNER_ID, (m) => m.text.includes("Got it"), 5000, "ack");
    await tg.waitFor(OWNER_ID, () => ollama.inFlight() === 1, 5000, "the owner's job to stream");
    const guest = tg.client(5555);
    await guest.sendCommand(guest.makeCommand("/status"));
    const reply = await tg.waitFor(5555, (m) => /in progress/.test(m.text), 5000, "the guest's status");
    expect(reply.text).toBe("Nothing of yours is in progress. Send me an idea to start one.");
    // The owner sees their own draft on its way.
    await client.sendCommand(client.makeCommand("/status"));
    await tg.waitFor(
      OWNER_ID,
      (m) => m.text.startsWith("Your ideas in progress: 1 draft(s) on the way"),
      5000,
      "the owner's status",
    );
  });

  it("someone else cannot cancel the owner's job by forging a callback", async () => {
    const { tg, h } = await setup();
    const client = tg.client(OWNER_ID);
    await client.sendMessage(client.makeMessage("Plan a garden"));
    const ack = await tg.waitFor(OWNER_ID, (m) => m.text.includes("Got it"), 5000, "ack");
    const data = (ack.reply_markup as Markup).inline_keyboard[0]?.[0]?.callback_data ?? "";
    const stranger = tg.client(777);
    await stranger.sendCallback(stranger.makeCallbackQuery(data));
    // Updates are handled in order: once the stranger's next message is refused, the forged
    // callback before it has been handled too.
    await stranger.sendMessage(stranger.makeMessage("hello?"));
    await tg.waitFor(777, (m) => m.text.includes("private assistant"), 5000, "the stranger's refusal");
    const job = h.hermes.database.sqlite.prepare("SELECT status FROM jobs").get() as { status: string };
    expect(job.status).not.toBe("cancelled");
  });
});
