import { afterEach, describe, expect, it } from "vitest";
import type { HermesDatabase } from "../../src/store/database.ts";
import { precompile } from "../../src/store/precompiled.ts";
import { ThreadLearningRepo } from "../../src/store/threads/learning-repo.ts";
import { ThreadsRepo } from "../../src/store/threads/repo.ts";
import { memoryDb } from "../helpers/memory-db.ts";

let db: HermesDatabase | undefined;
afterEach(async () => {
  await db?.close();
  db = undefined;
});

async function withThreads(n: number) {
  db = await memoryDb();
  const threads = new ThreadsRepo(db.db);
  const made = [];
  for (let i = 0; i < n; i++) {
    made.push(
      await threads.create({
        uuid: `00000000-0000-4000-8000-00000000000${i}`,
        title: `t${i}`,
        originalRequest: `idea ${i}`,
        ideaType: "general",
        complexity: 1,
        priority: 5,
        initialClarity: 0.5,
        userId: `u${i % 2}`,
        chatId: null,
        source: "api",
        now: "2026-01-01T00:00:00.000Z",
      }),
    );
  }
  return { d: db, threads, made };
}

describe("precompile: a Kysely query compiled once, run with each call's values", () => {
  it("binds each call's values wherever the query uses them, and keeps the query's own constants", async () => {
    const { d, made } = await withThreads(3);
    const find = precompile(d.db, 2, (user: string, title: string) =>
      d.db
        .selectFrom("idea_threads")
        .select(["id", "title"])
        .where("user_id", "=", user)
        .where("status", "=", "active")
        .where((eb) => eb.or([eb("title", "=", title), eb("original_request", "=", title)]))
        .orderBy("id"),
    );
    expect((await find("u0", "t2")).rows).toEqual([{ id: made[2]?.id, title: "t2" }]);
    expect((await find("u1", "idea 1")).rows).toEqual([{ id: made[1]?.id, title: "t1" }]);
    // The constant 'active' stayed: a finished thread is not found.
    await d.db.updateTable("idea_threads").set({ status: "completed" }).execute();
    expect((await find("u0", "t0")).rows).toEqual([]);
  });

  it("refuses a query that does not use an argument as a value (it would be bound nowhere)", async () => {
    const { d } = await withThreads(0);
    expect(() =>
      precompile(d.db, 1, (_unused: number) => d.db.selectFrom("idea_threads").select("id")),
    ).toThrow(/argument 0 is not a value/);
  });

  it("waits behind an open Kysely transaction like any other query", async () => {
    const { d, threads, made } = await withThreads(1);
    const id = made[0]?.id as number;
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let updated!: () => void;
    const inside = new Promise<void>((resolve) => {
      updated = resolve;
    });
    const trx = d.db.transaction().execute(async (t) => {
      await t.updateTable("idea_threads").set({ title: "inside" }).where("id", "=", id).execute();
      updated();
      await held;
      throw new Error("roll back");
    });
    await inside;
    // Issued while the transaction holds the connection with its write not yet rolled back.
    const read = threads.byId(id);
    release();
    await expect(trx).rejects.toThrow("roll back");
    // Read after the rollback: it never saw the uncommitted title.
    expect((await read)?.title).toBe("t0");
  });

  it("a thread's learning update writes only the columns given, whichever set comes first", async () => {
    const { d, made } = await withThreads(2);
    const learning = new ThreadLearningRepo(d.db);
    const [a, b] = [made[0]?.id as number, made[1]?.id as number];
    await learning.update(a, { claritySlots: "{}", finalClarity: 0.9, now: "2026-01-02T00:00:00.000Z" });
    await learning.update(b, {
      communicationStyle: null,
      depthPreference: "deep",
      now: "2026-01-03T00:00:00.000Z",
    });
    await learning.update(b, { claritySlots: "[]", finalClarity: 0.7, now: "2026-01-04T00:00:00.000Z" });
    const row = (id: number) =>
      d.db
        .selectFrom("idea_threads")
        .select(["clarity_slots", "final_clarity_score", "depth_preference", "last_active"])
        .where("id", "=", id)
        .executeTakeFirstOrThrow();
    expect(await row(a)).toEqual({
      clarity_slots: "{}",
      final_clarity_score: 0.9,
      depth_preference: null,
      last_active: "2026-01-02T00:00:00.000Z",
    });
    expect(await row(b)).toEqual({
      clarity_slots: "[]",
      final_clarity_score: 0.7,
      depth_preference: "deep",
      last_active: "2026-01-04T00:00:00.000Z",
    });
  });
});
