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
  const h = await startTestHermes(
    { TELEGRAM_BOT_TOKEN: tg.token, TELEGRAM_API_ROOT: tg.apiRoot, OLLAMA_HOST: ollama.url },
    config,
  );
  cleanups.push(() => h.stop());
  return { tg, ollama, h, client: tg.client(OWNER_ID) };
}

const count = (h: Awaited<ReturnType<typeof setup>>["h"], table: string) =>
  Number(h.hermes.database.sqlite.prepare(`SELECT count(*) FROM ${table}`).pluck().get());

describe("Telegram commands and robustness", () => {
  it("/config <key> asks for the value, validates it, survives a restart in between, and saves", async () => {
    const { tg, h, client } = await setup();
    await client.sendCommand(client.makeCommand("/config hermes.learning.max_questions_per_conversation"));
    await tg.waitFor(OWNER_ID, (m) => m.text.includes("Send the new value"), 5000, "the prompt");
    await h.restart();
    await client.sendMessage(client.makeMessage("lots"));
    await tg.waitFor(OWNER_ID, (m) => m.text.includes("must be a number"), 5000, "the validation error");
    await client.sendMessage(client.makeMessage("3"));
    await tg.waitFor(
      OWNER_ID,
      (m) => m.text.includes("✅ hermes.learning.max_questions_per_conversation updated"),
      5000,
      "saved",
    );
    expect(h.hermes.config.number("hermes.learning.max_questions_per_conversation")).toBe(3);
    const row = h.hermes.database.sqlite
      .prepare("SELECT config_value, updated_by FROM system_config WHERE config_key = ?")
      .get("hermes.learning.max_questions_per_conversation");
    expect(row).toEqual({ config_value: "3", updated_by: `telegram:${OWNER_ID}` });
  });

  it("/config <key> <value> refuses a value out of range and a fixed key; masks secrets", async () => {
    const { tg, client } = await setup();
    await client.sendCommand(client.makeCommand("/config hermes.web.max_queued_jobs -4"));
    await tg.waitFor(OWNER_ID, (m) => /must be at least/.test(m.text), 5000, "range error");
    await client.sendCommand(client.makeCommand("/config hermes.web.port 8080"));
    await tg.waitFor(OWNER_ID, (m) => /cannot be changed at runtime/.test(m.text), 5000, "fixed key");
    await client.sendCommand(client.makeCommand("/config backend.remote_api.key sk-or-v1-abcdefghijklmnop"));
    const saved = await tg.waitFor(
      OWNER_ID,
      (m) => m.text.includes("backend.remote_api.key"),
      5000,
      "saved key",
    );
    expect(saved.text).not.toContain("abcdefghijklmnop");
  });

  it("an oversized idea gets a clear message with the limit, and nothing is stored", async () => {
    const { tg, h, client } = await setup({ "hermes.web.max_input_length": "100" });
    await client.sendMessage(client.makeMessage("x".repeat(101)));
    const reply = await tg.waitFor(OWNER_ID, (m) => m.text.includes("limit"), 5000, "the limit message");
    expect(reply.text).toContain("101 characters long; the limit is 100");
    expect(count(h, "idea_threads")).toBe(0);
  });

  it("rate limits a user who floods ideas, saying how long to wait", async () => {
    const { tg, h, client } = await setup({ "hermes.web.ideas_per_minute": "2" });
    // /new: a plain message would answer the first idea's open question.
    for (const idea of ["first idea", "second idea", "third idea"]) {
      await client.sendCommand(client.makeCommand(`/new ${idea}`));
    }
    const reply = await tg.waitFor(
      OWNER_ID,
      (m) => m.text.includes("faster than Hermes takes them"),
      8000,
      "rate limit",
    );
    expect(reply.text).toMatch(/Wait \d+ s/);
    expect(count(h, "idea_threads")).toBe(2);
  });

  it("model output full of formatting characters arrives, formatted by entities (nothing to escape)", async () => {
    const { tg, ollama, client } = await setup();
    const nasty = "*bold* _it_ [link](http://x) `code` <b>html</b> & \\ ~~strike~~ ||spoiler|| # > - 1. **";
    ollama.setResponder(() => ({ text: nasty }));
    await client.sendMessage(client.makeMessage("Format stress test"));
    const draft = await tg.waitFor(OWNER_ID, (m) => m.text.startsWith("📝 Draft 1"), 10_000, "the draft");
    expect(draft.text).toContain("bold it link code <b>html</b> & \\ strike ||spoiler||");
    expect((draft as { parse_mode?: string }).parse_mode).toBeUndefined();
    expect(draft.entities?.map((e) => e.type)).toEqual(
      expect.arrayContaining(["bold", "italic", "text_link", "code", "strikethrough"]),
    );
  });

  it("a long draft is split on paragraph boundaries under 4096 characters, nothing lost", async () => {
    const { tg, ollama, client } = await setup();
    const paragraphs = Array.from({ length: 12 }, (_, i) => `Paragraph ${i}: ${"word ".repeat(120).trim()}.`);
    ollama.setResponder(() => ({ text: paragraphs.join("\n\n") }));
    await client.sendMessage(client.makeMessage("Write a long report"));
    await tg.waitFor(
      OWNER_ID,
      (m) => JSON.stringify(m.reply_markup ?? "").includes("★★★★★"),
      10_000,
      "the rated draft",
    );
    const parts = tg.botMessages(OWNER_ID).filter((m) => /Paragraph \d+:/.test(m.text));
    expect(parts.length).toBeGreaterThan(1);
    for (const p of parts) expect(p.text.length).toBeLessThanOrEqual(4096);
    const joined = parts.map((p) => p.text).join("\n\n");
    for (const para of paragraphs) expect(joined).toContain(para);
  });

  it("/export sends all the user's data (as text when files are refused); /forget deletes it after confirmation", async () => {
    const { tg, h, client } = await setup();
    await client.sendMessage(client.makeMessage("Remember this idea about owls"));
    await tg.waitFor(OWNER_ID, (m) => m.text.startsWith("📝 Draft 1"), 10_000, "the draft");
    await client.sendCommand(client.makeCommand("/export"));
    const exported = await tg.waitFor(
      OWNER_ID,
      (m) => m.text.includes("Your data: 1 thread(s)"),
      5000,
      "the export",
    );
    expect(
      tg
        .botMessages(OWNER_ID)
        .some((m) => m.text.includes('"original_request": "Remember this idea about owls"')),
    ).toBe(true);
    expect(exported.text).toContain("1 job(s)");

    await client.sendCommand(client.makeCommand("/forget"));
    const ask = await tg.waitFor(
      OWNER_ID,
      (m) => m.text.includes("cannot be undone"),
      5000,
      "the confirmation",
    );
    expect(count(h, "idea_threads")).toBe(1);
    await client.sendCallback(
      client.makeCallbackQuery("forget:yes", {
        message: { message_id: ask.message_id, chat: { id: OWNER_ID } } as never,
      }),
    );
    await tg.waitFor(OWNER_ID, (m) => m.text.includes("no longer has any of your data"), 5000, "deleted");
    expect(count(h, "idea_threads")).toBe(0);
    expect(count(h, "jobs")).toBe(0);
  });

  it("a guest in limited mode gets local drafts up to the daily quota and never /config", async () => {
    const { tg, h } = await setup({ "hermes.guests.mode": "limited", "hermes.guests.daily_quota": "1" });
    const guest = tg.client(5555);
    await guest.sendMessage(guest.makeMessage("Guest idea one"));
    await tg.waitFor(5555, (m) => m.text.startsWith("📝 Draft 1"), 10_000, "the guest's draft");
    await guest.sendCommand(guest.makeCommand("/new Guest idea two"));
    await tg.waitFor(5555, (m) => /Guests may send 1 idea/.test(m.text), 5000, "the quota message");
    await guest.sendCommand(guest.makeCommand("/config"));
    await tg.waitFor(5555, (m) => /Guests can't use that command/.test(m.text), 5000, "config refused");
    const job = h.hermes.database.sqlite.prepare("SELECT requested_backend, backend_used FROM jobs").get();
    expect(job).toEqual({ requested_backend: "@local", backend_used: "ollama" });
  });

  it("/backends lists backends and disables one for the owner; guests cannot", async () => {
    const { tg, h, client } = await setup({ "hermes.guests.mode": "limited" });
    await client.sendCommand(client.makeCommand("/backends disable ollama"));
    await tg.waitFor(OWNER_ID, (m) => m.text === "ollama is now disabled.", 5000, "disabled");
    expect(h.hermes.backends.status().find((b) => b.name === "ollama")?.enabled).toBe(false);
    await client.sendCommand(client.makeCommand("/backends"));
    await tg.waitFor(OWNER_ID, (m) => /⏸ disabled ollama/.test(m.text), 5000, "the list");
    await client.sendCommand(client.makeCommand("/backends enable nope"));
    await tg.waitFor(OWNER_ID, (m) => /no backend called nope/.test(m.text), 5000, "unknown");
    const guest = tg.client(6666);
    await guest.sendCommand(guest.makeCommand("/backends enable ollama"));
    await tg.waitFor(6666, (m) => /Guests can't use that command/.test(m.text), 5000, "guest refused");
    expect(h.hermes.backends.status().find((b) => b.name === "ollama")?.enabled).toBe(false);
  });
});
