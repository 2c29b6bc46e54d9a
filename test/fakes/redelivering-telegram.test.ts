import { afterEach, describe, expect, it } from "vitest";
import { RedeliveringTelegram } from "./redelivering-telegram.ts";
import { TelegramEmulator } from "./telegram-emulator.ts";

const stops: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s().catch(() => {});
});

async function setup() {
  const tg = await TelegramEmulator.start();
  stops.push(() => tg.stop());
  const api = await RedeliveringTelegram.start(tg);
  stops.push(() => api.stop());
  const call = async (method: string, body: object) => {
    const res = await fetch(`${api.apiRoot}/bot${tg.token}/${method}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    return (await res.json()) as { ok: boolean; result: { update_id: number }[] };
  };
  const ids = async (offset: number) =>
    (await call("getUpdates", { offset, timeout: 0 })).result.map((u) => u.update_id);
  const client = tg.client(1);
  return { tg, api, call, ids, client };
}

describe("RedeliveringTelegram keeps updates as Telegram does", () => {
  it("hands an update out again until a later offset confirms it", async () => {
    const { ids, client } = await setup();
    await client.sendMessage(client.makeMessage("one"));
    await client.sendMessage(client.makeMessage("two"));
    const first = await ids(0);
    expect(first).toHaveLength(2);
    const [a = 0, b = 0] = first;
    expect(await ids(0)).toEqual([a, b]);
    expect(await ids(a + 1)).toEqual([b]);
    expect(await ids(a)).toEqual([b]);
    expect(await ids(b + 1)).toEqual([]);
  });

  it("drops every waiting update on deleteWebhook with drop_pending_updates", async () => {
    const { call, ids, client } = await setup();
    await client.sendMessage(client.makeMessage("one"));
    expect(await ids(0)).toHaveLength(1);
    await client.sendMessage(client.makeMessage("two"));
    await call("deleteWebhook", { drop_pending_updates: true });
    expect(await ids(0)).toEqual([]);
  });
});
