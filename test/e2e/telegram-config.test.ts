import { afterEach, describe, expect, it } from "vitest";
import { ConfigAuditRepo } from "../../src/store/system/config-audit-repo.ts";
import { OWNER_ID } from "../helpers/hermes-harness.ts";
import { type Cleanups, startChat, stopAll } from "./chat-setup.ts";

const cleanups: Cleanups = [];
afterEach(() => stopAll(cleanups));

async function setup() {
  const { tg, h } = await startChat(cleanups);
  const audit = () => new ConfigAuditRepo(h.hermes.database.sqlite).recent(20);
  return { tg, h, client: tg.client(OWNER_ID), audit };
}

describe("/config in Telegram: the same rules as the API", () => {
  it("refuses an invalid cron schedule and audits an accepted change with the acting user", async () => {
    const { tg, h, client, audit } = await setup();
    await client.sendCommand(client.makeCommand("/config hermes.db.backup_schedule 99 99 * * *"));
    await tg.waitFor(OWNER_ID, (m) => m.text.includes("not a valid cron expression"), 5000, "cron refused");
    expect(h.hermes.config.get("hermes.db.backup_schedule")).toBe("0 2 * * *");

    await client.sendCommand(client.makeCommand("/config hermes.db.backup_schedule 30 3 * * *"));
    await tg.waitFor(OWNER_ID, (m) => m.text.startsWith("✅ hermes.db.backup_schedule"), 5000, "saved");
    expect(audit()[0]).toMatchObject({
      config_key: "hermes.db.backup_schedule",
      old_value: "0 2 * * *",
      new_value: "30 3 * * *",
      changed_by: `telegram:${OWNER_ID}`,
    });
  });

  it("the interactive edit never takes a command as the value: the command runs, nothing is saved", async () => {
    const { tg, h, client, audit } = await setup();
    await client.sendCommand(client.makeCommand("/config hermes.api.callback_secret"));
    await tg.waitFor(OWNER_ID, (m) => m.text.includes("Send the new value"), 5000, "the prompt");
    await client.sendCommand(client.makeCommand("/thread 52c68eba"));
    await tg.waitFor(OWNER_ID, (m) => m.text.includes("left unchanged"), 5000, "edit ended");
    await tg.waitFor(OWNER_ID, (m) => m.text.includes("No thread 52c68eba"), 5000, "the command ran");
    expect(h.hermes.config.get("hermes.api.callback_secret")).toBe("");
    expect(audit()).toEqual([]);
  });

  it("the Cancel button leaves the setting unchanged; a valid value is saved and audited", async () => {
    const { tg, h, client, audit } = await setup();
    await client.sendCommand(client.makeCommand("/config hermes.learning.max_questions_per_conversation"));
    const prompt = await tg.waitFor(OWNER_ID, (m) => m.text.includes("Send the new value"), 5000, "prompt");
    await client.sendCallback(
      client.makeCallbackQuery("config:cancel", {
        message: { message_id: prompt.message_id, chat: { id: OWNER_ID } } as never,
      }),
    );
    await tg.waitFor(OWNER_ID, (m) => m.text.includes("left unchanged"), 5000, "cancelled");
    expect(h.hermes.config.get("hermes.learning.max_questions_per_conversation")).toBe(5);
    expect(audit()).toEqual([]);

    await client.sendCommand(client.makeCommand("/config hermes.learning.max_questions_per_conversation"));
    await tg.waitFor(OWNER_ID, (m) => m.text.includes("Send the new value"), 5000, "second prompt");
    await client.sendMessage(client.makeMessage("3"));
    await tg.waitFor(OWNER_ID, (m) => m.text.includes("✅"), 5000, "saved");
    expect(h.hermes.config.get("hermes.learning.max_questions_per_conversation")).toBe(3);
    expect(audit()[0]).toMatchObject({ new_value: "3", changed_by: `telegram:${OWNER_ID}` });
  });
});
