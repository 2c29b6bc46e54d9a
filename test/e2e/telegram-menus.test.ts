import { afterEach, describe, expect, it } from "vitest";
import { EXAMPLE_IDEA } from "../../bot/features/commands.ts";
import type { BotMessage, TelegramEmulator } from "../fakes/telegram-emulator.ts";
import { OWNER_ID } from "../helpers/hermes-harness.ts";
import { buttons, type Cleanups, startChat, stopAll } from "./chat-setup.ts";

const cleanups: Cleanups = [];
afterEach(() => stopAll(cleanups));

const GUEST = 5151;
const OWNER_COMMANDS = ["/config", "/backends", "/health", "/budget", "/validate", "/patterns"];
const LIMITED = { "hermes.guests.mode": "limited", "hermes.guests.daily_quota": "2" };

/** Taps a button of `m` as `userId` and waits for the message to show `expected`. */
async function tap(
  tg: TelegramEmulator,
  userId: number,
  m: BotMessage,
  data: string,
  expected: (m: BotMessage) => boolean,
  what: string,
): Promise<BotMessage> {
  const client = tg.client(userId);
  await client.sendCallback(
    client.makeCallbackQuery(data, {
      message: { message_id: m.message_id, chat: { id: userId } } as never,
    }),
  );
  return tg.waitFor(userId, (x) => x.message_id === m.message_id && expected(x), 5000, what);
}

const button = (m: BotMessage, label: string | RegExp) => {
  const b = buttons(m).find((x) => (typeof label === "string" ? x.text === label : label.test(x.text)));
  if (!b) throw new Error(`no button ${label} in ${JSON.stringify(buttons(m).map((x) => x.text))}`);
  return b.callback_data;
};

describe("first contact: /start and /help", () => {
  it("/start welcomes a guest with one example and what happens, and names no owner command", async () => {
    const { tg } = await startChat(cleanups, LIMITED);
    const guest = tg.client(GUEST);
    await guest.sendCommand(guest.makeCommand("/start"));
    const hi = await tg.waitFor(GUEST, (m) => m.text.includes("For example"), 5000, "the welcome");
    expect(hi.text).toContain(EXAMPLE_IDEA);
    expect(hi.text).toContain("I start a first draft at once");
    expect(hi.text).toMatch(/questions with answer buttons/);
    expect(hi.text).toContain("refined draft");
    expect(hi.text).toContain("As a guest you may send 2 idea(s) a day");
    for (const c of OWNER_COMMANDS) expect(hi.text).not.toContain(c);
    expect(hi.text.length).toBeLessThan(1000);
  });

  it("/help is grouped for the owner; a guest's lacks every owner command", async () => {
    const { tg, client } = await startChat(cleanups, LIMITED);
    await client.sendCommand(client.makeCommand("/help"));
    const help = await tg.waitFor(OWNER_ID, (m) => m.text.includes("Ideas and threads"), 5000, "owner help");
    const order = ["Ideas and threads", "Feedback", "Your data", "Owner only"].map((g) =>
      help.text.indexOf(g),
    );
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    const ownerPart = help.text.slice(help.text.indexOf("Owner only"));
    for (const c of ["/config", "/backends", "/health", "/budget"]) expect(ownerPart).toContain(c);

    const guest = tg.client(GUEST);
    await guest.sendCommand(guest.makeCommand("/help"));
    const guestHelp = await tg.waitFor(
      GUEST,
      (m) => m.text.includes("Ideas and threads"),
      5000,
      "guest help",
    );
    for (const c of ["/new", "/status", "/threads", "/cancel", "/export", "/forget"]) {
      expect(guestHelp.text).toContain(c);
    }
    expect(guestHelp.text).not.toContain("Owner only");
    for (const c of OWNER_COMMANDS) expect(guestHelp.text).not.toContain(c);
  });

  it("command menus are scoped (guest commands by default, all in the owner's chat); a refusal is survived", async () => {
    const { tg, client } = await startChat(cleanups);
    const calls = tg.calls.filter((c) => c.method === "setMyCommands");
    type Params = { commands: { command: string }[]; scope: { type: string; chat_id?: number } };
    const sent = tg.requests.filter((r) => r.method === "setMyCommands").map((r) => r.params as Params);
    const byScope = (type: string) => sent.find((p) => p.scope?.type === type);
    expect(sent).toHaveLength(2);
    const everyone = byScope("default")?.commands.map((c) => c.command);
    expect(everyone).toEqual(expect.arrayContaining(["start", "help", "new", "status", "export", "forget"]));
    for (const c of OWNER_COMMANDS) expect(everyone).not.toContain(c.slice(1));
    const owner = byScope("chat");
    expect(owner?.scope.chat_id).toBe(OWNER_ID);
    expect(owner?.commands.map((c) => c.command)).toEqual(
      expect.arrayContaining([...(everyone ?? []), "config", "backends", "health", "budget"]),
    );
    // The emulator does not know setMyCommands: both were refused, and the bot answers anyway.
    expect(calls.map((c) => c.ok)).toEqual([false, false]);
    await client.sendCommand(client.makeCommand("/start"));
    await tg.waitFor(OWNER_ID, (m) => m.text.includes(EXAMPLE_IDEA), 5000, "the welcome");
  });
});

describe("/config: settings by category, values in effect", () => {
  it("shows categories as buttons; a category lists values in effect; a setting says why and how to change it", async () => {
    const { tg, client } = await startChat(cleanups);
    await client.sendCommand(client.makeCommand("/config"));
    const menu = await tg.waitFor(OWNER_ID, (m) => m.text.includes("pick a category"), 5000, "the menu");
    expect(buttons(menu).map((b) => b.text)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^Backend choice \(\d+\)$/),
        expect.stringMatching(/^Budget/),
      ]),
    );

    // Only Ollama runs here: the seeded primary (talos) is shown as not in effect, with the reason.
    const choice = await tap(
      tg,
      OWNER_ID,
      menu,
      button(menu, /^Backend choice/),
      (m) => m.text.includes("⚙️ Backend choice"),
      "the category",
    );
    expect(choice.text).toContain("hermes.backends.primary = talos ⚠ not in effect");
    const primary = await tap(
      tg,
      OWNER_ID,
      choice,
      button(choice, "primary"),
      (m) => m.text.startsWith("⚙️ hermes.backends.primary"),
      "the setting",
    );
    expect(primary.text).toContain(
      "Not in effect: talos is not set up (TALOS_URL is not set), so no backend is the primary.",
    );
    expect(primary.text).toContain("/config hermes.backends.primary <value>");
    expect(buttons(primary).map((b) => b.text)).toEqual(["✏️ Change", "‹ Back"]);

    const back = await tap(
      tg,
      OWNER_ID,
      primary,
      button(primary, "‹ Back"),
      (m) => m.text.includes("⚙️ Backend choice"),
      "back",
    );
    const list = await tap(
      tg,
      OWNER_ID,
      back,
      button(back, "⬆ Categories"),
      (m) => m.text.includes("pick a category"),
      "the list",
    );
    expect(tg.botMessages(OWNER_ID).filter((m) => m.text.includes("⚙️"))).toHaveLength(1); // edited in place
    expect(list.message_id).toBe(menu.message_id);
  });

  it("every category and page stays well under Telegram's limit, and secrets are masked", async () => {
    const { tg, h, client } = await startChat(cleanups);
    await h.hermes.config.set("backend.remote_api.key", "sk-or-v1-abcdefghijklmnop", "test");
    await client.sendCommand(client.makeCommand("/config"));
    const menu = await tg.waitFor(OWNER_ID, (m) => m.text.includes("pick a category"), 5000, "the menu");
    let current = menu;
    let pages = 0;
    for (const category of buttons(menu)) {
      let data: string | undefined = category.callback_data;
      while (data) {
        const before = current.text;
        current = await tap(
          tg,
          OWNER_ID,
          current,
          data,
          (m) => m.text !== before && m.text.startsWith("⚙️"),
          category.text,
        );
        pages++;
        expect(current.text.length).toBeLessThan(2500);
        expect(current.text).not.toContain("abcdefghijklmnop");
        data = buttons(current).find((b) => b.text === "Next ›")?.callback_data;
      }
    }
    expect(pages).toBeGreaterThan(buttons(menu).length - 1);
    const remote = await tap(
      tg,
      OWNER_ID,
      current,
      "cfg:c:b.remote_api:0",
      (m) => m.text.includes("Backend remote_api"),
      "remote_api",
    );
    expect(remote.text).toMatch(/backend\.remote_api\.key = ••••op/);
  });

  it("a setting's Change button enters the edit: the value is validated and saved", async () => {
    const { tg, h, client } = await startChat(cleanups);
    await client.sendCommand(client.makeCommand("/config"));
    const menu = await tg.waitFor(OWNER_ID, (m) => m.text.includes("pick a category"), 5000, "the menu");
    const ideas = await tap(
      tg,
      OWNER_ID,
      menu,
      button(menu, /^Ideas and learning/),
      (m) => m.text.includes("⚙️ Ideas"),
      "ideas",
    );
    expect(ideas.text).toContain("hermes.learning.max_questions_per_conversation = 5");
    const setting = await tap(
      tg,
      OWNER_ID,
      ideas,
      button(ideas, "max_questions_per_conversation"),
      (m) => m.text.includes("Value: 5"),
      "the setting",
    );
    await tap(tg, OWNER_ID, setting, button(setting, "✏️ Change"), () => true, "change");
    await tg.waitFor(OWNER_ID, (m) => m.text.includes("Send the new value"), 5000, "the prompt");
    await client.sendMessage(client.makeMessage("3"));
    await tg.waitFor(
      OWNER_ID,
      (m) => m.text.includes("✅ hermes.learning.max_questions_per_conversation updated"),
      5000,
      "saved",
    );
    expect(h.hermes.config.get("hermes.learning.max_questions_per_conversation")).toBe(3);
  });

  it("a change says when it changes nothing now, and why", async () => {
    const { tg, h, client } = await startChat(cleanups);
    await client.sendCommand(client.makeCommand("/config hermes.backends.primary gpt5"));
    const primary = await tg.waitFor(
      OWNER_ID,
      (m) => m.text.startsWith("✅ hermes.backends.primary"),
      5000,
      "saved",
    );
    expect(primary.text).toContain(
      "⚠ Not in effect: gpt5 is not set up (OPENAI_API_KEY is not set), so no backend is the primary.",
    );
    await client.sendCommand(client.makeCommand("/config hermes.web.session_timeout_hours 12"));
    const unused = await tg.waitFor(
      OWNER_ID,
      (m) => m.text.startsWith("✅ hermes.web.session_timeout_hours"),
      5000,
      "saved",
    );
    expect(unused.text).toContain("⚠ Nothing in this Hermes reads this setting.");
    await client.sendCommand(client.makeCommand("/config hermes.backends.primary ollama"));
    const ok = await tg.waitFor(
      OWNER_ID,
      (m) => m.text.startsWith("✅ hermes.backends.primary = ollama"),
      5000,
      "saved",
    );
    expect(ok.text).not.toContain("⚠");
    expect(h.hermes.config.get("hermes.backends.primary")).toBe("ollama");

    // The interactive edit says it up front too.
    await client.sendCommand(client.makeCommand("/config hermes.notifications.telegram_bot_token"));
    const prompt = await tg.waitFor(OWNER_ID, (m) => m.text.includes("Send the new value"), 5000, "prompt");
    expect(prompt.text).toContain(
      "⚠ TELEGRAM_BOT_TOKEN from the environment is in effect; this setting is not read.",
    );
  });

  it("a guest pressing a settings button gets a refusal and no settings", async () => {
    const { tg, client } = await startChat(cleanups, LIMITED);
    await client.sendCommand(client.makeCommand("/config"));
    const menu = await tg.waitFor(OWNER_ID, (m) => m.text.includes("pick a category"), 5000, "the menu");
    const guest = tg.client(GUEST);
    await guest.sendCallback(
      guest.makeCallbackQuery("cfg:c:select:0", {
        message: { message_id: menu.message_id, chat: { id: GUEST } } as never,
      }),
    );
    await expect.poll(() => tg.toasts).toContain("Only the owner can see settings.");
    expect(tg.botMessages(GUEST)).toEqual([]);
  });
});
