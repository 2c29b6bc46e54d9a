import { afterEach, describe, expect, it } from "vitest";
import { FakeOllama } from "../fakes/fake-ollama.ts";
import { freePort, TelegramEmulator } from "../fakes/telegram-emulator.ts";
import { OWNER_ID, startTestHermes } from "../helpers/hermes-harness.ts";

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

async function setup(opts: { ollamaUp: boolean }) {
  const tg = await TelegramEmulator.start();
  cleanups.push(() => tg.stop());
  const ollamaPort = await freePort();
  let ollama: FakeOllama | undefined;
  if (opts.ollamaUp) {
    ollama = await FakeOllama.start({ port: ollamaPort });
    cleanups.push(() => ollama?.stop() ?? Promise.resolve());
  }
  const h = await startTestHermes(
    {
      TELEGRAM_BOT_TOKEN: tg.token,
      TELEGRAM_API_ROOT: tg.apiRoot,
      OLLAMA_HOST: `http://127.0.0.1:${ollamaPort}`,
    },
    // Short backoff cap so "Ollama comes back" is seen within a second or two.
    { "talos.execution.retry_interval": "1", "hermes.talos.health_check_interval": "1" },
  );
  cleanups.push(() => h.stop());
  return { tg, h, ollamaPort, ollama };
}

describe("Telegram walking skeleton", () => {
  it("idea → acknowledgement naming the thread and backend → draft from Ollama, all stored", async () => {
    const { tg, h, ollama } = await setup({ ollamaUp: true });
    // The backend answers only once the acknowledgement is out: the ack must not wait for the draft.
    let ackSeen!: () => void;
    const acked = new Promise<void>((r) => {
      ackSeen = r;
    });
    ollama?.setResponder(async (req) => {
      await acked;
      return { text: `Here is a plan for: ${req.messages.at(-1)?.content.split("Idea:\n")[1]}` };
    });
    const client = tg.client(OWNER_ID);
    await client.sendMessage(client.makeMessage("Plan a weekend trip to Lisbon"));

    const ack = await tg.waitFor(OWNER_ID, (m) => m.text.includes("Got it"), 5000, "the acknowledgement");
    ackSeen();
    const shortId = /thread ([0-9a-f]{8})/.exec(ack.text)?.[1];
    expect(shortId).toBeDefined();
    expect(ack.text).toMatch(/ollama · llama3\.1:8b/);

    const draft = await tg.waitFor(OWNER_ID, (m) => m.text.startsWith("📝 Draft 1"), 10_000, "the draft");
    expect(draft.text).toContain(`thread ${shortId}`);
    expect(draft.text).toContain("Here is a plan for: Plan a weekend trip to Lisbon");

    const thread = h.hermes.database.sqlite.prepare("SELECT * FROM idea_threads").get() as Record<
      string,
      unknown
    >;
    expect(thread.original_request).toBe("Plan a weekend trip to Lisbon");
    expect(String(thread.uuid).startsWith(shortId ?? "?")).toBe(true);
    expect(thread.user_id).toBe(String(OWNER_ID));
    expect(thread.draft_count).toBe(1);
    const job = h.hermes.database.sqlite.prepare("SELECT * FROM jobs").get() as Record<string, unknown>;
    expect(job).toMatchObject({
      status: "completed",
      job_sequence: 1,
      model_used: "llama3.1:8b",
      backend_used: "ollama",
    });
    expect(String(job.full_result)).toContain("Lisbon");
    expect(job.result_summary).toBeTruthy();
    expect(Number(job.execution_time_seconds)).toBeGreaterThanOrEqual(0);
    expect(job.completed_date).toBeTruthy();
  });

  it("refuses a non-owner politely and stores nothing", async () => {
    const { tg, h } = await setup({ ollamaUp: true });
    const stranger = tg.client(4242);
    await stranger.sendMessage(stranger.makeMessage("give me your secrets"));
    const reply = await tg.waitFor(4242, () => true, 5000, "the refusal");
    expect(reply.text).toMatch(/only answers its owner/);
    expect(reply.text).toMatch(/Nothing you send here is stored/);
    const n = h.hermes.database.sqlite.prepare("SELECT count(*) FROM idea_threads").pluck().get();
    const jobs = h.hermes.database.sqlite.prepare("SELECT count(*) FROM jobs").pluck().get();
    expect(n).toBe(0);
    expect(jobs).toBe(0);
  });

  it("Ollama down: the user is told it is queued, and the draft arrives once Ollama is up", async () => {
    const { tg, ollamaPort } = await setup({ ollamaUp: false });
    const client = tg.client(OWNER_ID);
    await client.sendMessage(client.makeMessage("Write a haiku about queues"));
    await tg.waitFor(OWNER_ID, (m) => m.text.includes("Got it"), 5000, "the acknowledgement");
    const notice = await tg.waitFor(
      OWNER_ID,
      (m) => m.text.includes("queued, not lost"),
      8000,
      "the queued notice",
    );
    expect(notice.text).toContain(`127.0.0.1:${ollamaPort}`);
    expect(notice.text).toMatch(/ollama serve|OLLAMA_HOST/);
    // Hermes' own `commands` arrive as code entities, not literal backticks.
    expect(notice.text).not.toContain("`");
    const code = notice.entities?.find((e) => e.type === "code");
    expect(code && notice.text.slice(code.offset, code.offset + code.length)).toBe("ollama serve");

    const ollama = await FakeOllama.start({ port: ollamaPort });
    cleanups.push(() => ollama.stop());
    const draft = await tg.waitFor(
      OWNER_ID,
      (m) => m.text.startsWith("📝 Draft 1"),
      15_000,
      "the draft after recovery",
    );
    expect(draft.text).toContain("haiku about queues");
    // One notice, not one per retry.
    expect(tg.botMessages(OWNER_ID).filter((m) => m.text.includes("queued, not lost"))).toHaveLength(1);
  });

  it("/help lists the commands; optional Telegram calls failing never break the flow", async () => {
    const { tg } = await setup({ ollamaUp: true });
    const client = tg.client(OWNER_ID);
    await client.sendCommand(client.makeCommand("/help"));
    const help = await tg.waitFor(OWNER_ID, (m) => m.text.includes("Ideas and threads"), 5000, "help");
    for (const cmd of ["/start", "/help", "/threads", "/cancel", "/health"]) expect(help.text).toContain(cmd);
    // setMyCommands and sendChatAction are not supported by the emulator: they failed and Hermes went on.
    await client.sendMessage(client.makeMessage("Summarise the benefits of walking"));
    await tg.waitFor(OWNER_ID, (m) => m.text.startsWith("📝 Draft 1"), 10_000, "the draft");
    expect(tg.calls.some((c) => c.method === "setMyCommands" && !c.ok)).toBe(true);
  });

  it("a job that cannot succeed fails at once with a clear message, and the owner gets one job_failure alert", async () => {
    const { tg, h, ollama } = await setup({ ollamaUp: true });
    await h.hermes.config.set("talos.models.default_model", "no-such-model:1b", "test");
    ollama?.setModels(["no-such-model:1b"]);
    // The model vanished between the model list and the call: Ollama answers 404.
    ollama?.setModels([]);
    const client = tg.client(OWNER_ID);
    await client.sendMessage(client.makeMessage("Write a limerick"));
    const failed = await tg.waitFor(OWNER_ID, (m) => m.text.includes("failed."), 8000, "the failure message");
    expect(failed.text).toMatch(/ollama pull/);
    const alert = await tg.waitFor(
      OWNER_ID,
      (m) => m.text.includes("Hermes alert (job failure)"),
      5000,
      "the alert",
    );
    expect(alert.text).toContain("failed");
    const job = h.hermes.database.sqlite.prepare("SELECT status, retry_count FROM jobs").get() as Record<
      string,
      unknown
    >;
    expect(job).toEqual({ status: "failed", retry_count: 0 });
  });
});
