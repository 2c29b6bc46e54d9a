import { afterEach, describe, expect, it } from "vitest";
import type { Actor } from "../../src/engine/threads/service.ts";
import { testHermes } from "../helpers/test-hermes.ts";

let h: Awaited<ReturnType<typeof testHermes>> | undefined;
afterEach(async () => {
  await h?.hermes.stop();
  h = undefined;
});

describe("ThreadService.queueCounts", () => {
  it("gives a guest their own unfinished jobs only, and the owner the whole queue", async () => {
    // The scheduler is not started: every job stays queued.
    h = await testHermes({ dispatch: () => new Promise<never>(() => {}) });
    const owner: Actor = { userId: "1", role: "owner" };
    const guest: Actor = { userId: "2", role: "guest" };
    const other: Actor = { userId: "3", role: "guest" };
    const service = h.hermes.threadService;
    await service.submit(owner, { text: "Owner idea one", source: "telegram" });
    await service.submit(owner, { text: "Owner idea two", source: "telegram" });
    await service.submit(guest, { text: "Guest idea", source: "telegram" });
    expect(await service.queueCounts(guest)).toEqual({ scope: "own", counts: { queued: 1 } });
    expect(await service.queueCounts(other)).toEqual({ scope: "own", counts: {} });
    expect(await service.queueCounts(owner)).toEqual({ scope: "all", counts: { queued: 3 } });
  });
});
