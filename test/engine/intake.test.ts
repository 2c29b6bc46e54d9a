import { afterEach, describe, expect, it } from "vitest";
import type { Actor } from "../../src/engine/threads/service.ts";
import { HermesError } from "../../src/errors.ts";
import { testHermes } from "../helpers/test-hermes.ts";

/**
 * An idea's intake: what a refused submit leaves behind (nothing), and the guest daily quota,
 * which a guest's own /forget must not reset. The scheduler is not started: jobs stay queued.
 */

type H = Awaited<ReturnType<typeof testHermes>>;
let h: H | undefined;
afterEach(async () => {
  await h?.hermes.stop();
  h = undefined;
});

const never = () => new Promise<never>(() => {});
const count = (x: H, table: string) =>
  x.hermes.database.sqlite.prepare(`SELECT count(*) AS n FROM ${table}`).pluck().get() as number;

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "accepted";
  } catch (error) {
    if (error instanceof HermesError) return error.code;
    throw error;
  }
}

describe("intake", () => {
  it("a full queue refuses submits without creating a thread (no orphan, no quota spent)", async () => {
    h = await testHermes({
      dispatch: never,
      config: {
        "hermes.web.max_queued_jobs": "3",
        "hermes.web.ideas_per_minute": "1000",
        "hermes.guests.daily_quota": "100",
      },
    });
    const guest: Actor = { userId: "777", role: "guest" };
    const service = h.hermes.threadService;
    // Ten submits at once, as the bot and the API send them: they interleave at every await.
    const codes = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        codeOf(service.submit(guest, { text: `Idea number ${i} about a garden`, source: "telegram" })),
      ),
    );
    expect(codes.filter((c) => c === "accepted")).toHaveLength(3);
    expect(codes.filter((c) => c === "QUEUE_FULL")).toHaveLength(7);
    expect(count(h, "idea_threads")).toBe(3);
    expect(count(h, "jobs")).toBe(3);
    const orphans = h.hermes.database.sqlite
      .prepare(
        "SELECT count(*) FROM idea_threads t WHERE NOT EXISTS (SELECT 1 FROM jobs j WHERE j.thread_id = t.id)",
      )
      .pluck()
      .get();
    expect(orphans).toBe(0);
  });

  it("the guest quota survives /forget: three ideas, /forget, the fourth is refused", async () => {
    h = await testHermes({
      dispatch: never,
      config: { "hermes.guests.daily_quota": "3", "hermes.web.ideas_per_minute": "1000" },
    });
    const guest: Actor = { userId: "888", role: "guest" };
    const service = h.hermes.threadService;
    for (let i = 0; i < 3; i++)
      expect(await codeOf(service.submit(guest, { text: `Guest idea ${i}`, source: "telegram" }))).toBe(
        "accepted",
      );
    expect(await codeOf(service.submit(guest, { text: "Guest idea 4", source: "telegram" }))).toBe(
      "RATE_LIMITED",
    );
    await service.forget(guest);
    expect(count(h, "idea_threads")).toBe(0);
    expect(await codeOf(service.submit(guest, { text: "After forget", source: "telegram" }))).toBe(
      "RATE_LIMITED",
    );
    // The ledger holds no content: user id, day and a count.
    expect(h.hermes.database.sqlite.prepare("SELECT * FROM guest_quota_usage").all()).toEqual([
      { user_id: "888", day: new Date(h.clock.now()).toISOString().slice(0, 10), count: 3 },
    ]);
    // A new UTC day gives the quota back.
    h.clock.advance(86_400_000);
    expect(await codeOf(service.submit(guest, { text: "Next day", source: "telegram" }))).toBe("accepted");
  });
});
