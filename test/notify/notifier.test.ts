import { afterEach, describe, expect, it } from "vitest";
import { ManualClock } from "../../src/clock.ts";
import { Notifier } from "../../src/notify/notifier.ts";
import type { HermesDatabase } from "../../src/store/database.ts";
import { AlertLogRepo } from "../../src/store/system/alert-log-repo.ts";
import { memoryDb } from "../helpers/memory-db.ts";

let db: HermesDatabase | undefined;
afterEach(async () => db?.close());

async function setup(types = ["talos_down", "job_failure", "queue_full"], cooldown = 30) {
  db = await memoryDb();
  const clock = new ManualClock();
  const sent: string[] = [];
  const make = () =>
    new Notifier({
      log: new AlertLogRepo((db as HermesDatabase).sqlite),
      clock,
      enabledTypes: () => types,
      cooldownMinutes: () => cooldown,
      logger: { warn: () => {} },
    });
  const notifier = make();
  notifier.connect(async (t) => {
    sent.push(t);
  });
  return { notifier, clock, sent, make };
}

describe("alerts", () => {
  it("sends an enabled alert once per cooldown per key", async () => {
    const { notifier, clock, sent } = await setup();
    expect(await notifier.alert("talos_down", "talos", "Talos is not answering")).toBe(true);
    expect(await notifier.alert("talos_down", "talos", "still down")).toBe(false);
    expect(await notifier.alert("job_failure", "thread-1", "a job failed")).toBe(true);
    clock.advance(29 * 60_000);
    expect(await notifier.alert("talos_down", "talos", "still down")).toBe(false);
    clock.advance(60_000);
    expect(await notifier.alert("talos_down", "talos", "down again")).toBe(true);
    expect(sent).toHaveLength(3);
    expect(sent[0]).toContain("Talos is not answering");
  });

  it("does not send types that are not listed in alert_types", async () => {
    const { notifier, sent } = await setup(["queue_full"]);
    expect(await notifier.alert("budget", "day", "80% spent")).toBe(false);
    expect(sent).toHaveLength(0);
  });

  it("sends the alert when alert_log cannot be written (a full disk), and keeps the cooldown in memory", async () => {
    const { clock, sent } = await setup(["database_size"]);
    const notifier = new Notifier({
      log: {
        lastSent: () => undefined,
        markSent: () => {
          throw Object.assign(new Error("database or disk is full"), { code: "SQLITE_FULL" });
        },
      },
      clock,
      enabledTypes: () => ["database_size"],
      cooldownMinutes: () => 30,
      logger: { warn: () => {} },
    });
    notifier.connect(async (t) => {
      sent.push(t);
    });
    expect(await notifier.alert("database_size", "full", "The database refuses writes")).toBe(true);
    expect(await notifier.alert("database_size", "full", "still full")).toBe(false);
    expect(sent).toEqual(["🗄 Hermes alert (database size)\nThe database refuses writes"]);
  });

  it("remembers the cooldown across a restart (it is in the database)", async () => {
    const { notifier, make, sent } = await setup();
    await notifier.alert("queue_full", "queue", "full");
    const after = make();
    after.connect(async (t) => {
      sent.push(t);
    });
    expect(await after.alert("queue_full", "queue", "full again")).toBe(false);
    expect(sent).toHaveLength(1);
  });

  it("a failing sink never throws to the caller", async () => {
    const { notifier } = await setup();
    notifier.connect(async () => {
      throw new Error("telegram down");
    });
    await expect(notifier.alert("talos_down", "talos", "x")).resolves.toBe(false);
  });
});
