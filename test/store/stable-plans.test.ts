import { Kysely, SqliteDialect } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import type { HermesDatabase } from "../../src/store/database.ts";
import type { Database } from "../../src/store/schema.ts";
import { memoryDb } from "../helpers/memory-db.ts";

/**
 * store/stable-plans.ts: ordered or LIMITed SELECTs get a text SQLite does not prepare again at
 * every run (`col = + ?`, literal LIMIT/OFFSET), and return exactly what the plain text returns.
 */

let db: HermesDatabase | undefined;
afterEach(async () => {
  await db?.close();
  db = undefined;
});

async function seeded() {
  db = await memoryDb();
  const d = db;
  for (let i = 0; i < 6; i++) {
    await d.db
      .insertInto("idea_threads")
      .values({
        uuid: `00000000-0000-4000-8000-00000000000${i}`,
        title: `t${i}`,
        original_request: "idea",
        user_id: i % 2 === 0 ? "even" : "odd",
        status: i < 4 ? "active" : "completed",
      })
      .execute();
  }
  // The same connection seen by Kysely without the plugin: what the plain text returns.
  const plain = new Kysely<Database>({ dialect: new SqliteDialect({ database: d.sqlite }) });
  return { d, plain };
}

describe("StablePlans", () => {
  it("writes ordered SELECTs' equalities as `= + ?` and a numeric LIMIT/OFFSET into the text", async () => {
    const { d } = await seeded();
    const ordered = d.db
      .selectFrom("idea_threads")
      .select("id")
      .where("user_id", "=", "even")
      .where((eb) => eb.or([eb("status", "=", "active"), eb("title", "=", "t5")]))
      .orderBy("id")
      .limit(2)
      .offset(1)
      .compile();
    expect(ordered.sql).toBe(
      `select "id" from "idea_threads" where "user_id" = + ? and ("status" = 'active' or "title" = + ?) order by "id" limit 2 offset 1`,
    );
    expect(ordered.parameters).toEqual(["even", "t5"]);
    // GROUP BY and DISTINCT plan by the value too.
    expect(
      d.db
        .selectFrom("idea_threads")
        .select((eb) => eb.fn.countAll().as("n"))
        .where("user_id", "=", "odd")
        .groupBy("status")
        .compile().sql,
    ).toBe('select count(*) as "n" from "idea_threads" where "user_id" = + ? group by "status"');
    expect(
      d.db.selectFrom("idea_threads").select("status").distinct().where("user_id", "=", "odd").compile().sql,
    ).toBe('select distinct "status" from "idea_threads" where "user_id" = + ?');
    // Unordered queries and writes are left as they are.
    expect(d.db.selectFrom("idea_threads").select("id").where("id", "=", 1).compile().sql).toBe(
      'select "id" from "idea_threads" where "id" = ?',
    );
    expect(d.db.updateTable("idea_threads").set({ title: "x" }).where("id", "=", 1).compile().sql).toBe(
      'update "idea_threads" set "title" = ? where "id" = ?',
    );
  });

  it("compares a status with a literal, so the status' partial index still serves the query", async () => {
    const { d } = await seeded();
    const query = d.db
      .selectFrom("jobs")
      .select("execution_time_seconds")
      .where("status", "=", "completed")
      .orderBy("completed_date", "desc")
      .limit(5)
      .compile();
    expect(query.sql).toContain(`"status" = 'completed'`);
    const plan = (
      d.sqlite.prepare(`EXPLAIN QUERY PLAN ${query.sql}`).all(...query.parameters) as { detail: string }[]
    )
      .map((r) => r.detail)
      .join("; ");
    // Behind a unary plus (`"status" = + ?`) this was SCAN jobs with a temporary B-tree for the order.
    expect(plan).toContain("USING INDEX idx_jobs_completed");
    expect(plan).not.toContain("TEMP B-TREE");
  });

  it("returns what the plain query returns (text and number values, limits, offsets)", async () => {
    const { d, plain } = await seeded();
    const cases = [
      (k: Kysely<Database>) =>
        k
          .selectFrom("idea_threads")
          .select(["id", "title"])
          .where("user_id", "=", "odd")
          .orderBy("id", "desc"),
      (k: Kysely<Database>) =>
        k
          .selectFrom("idea_threads")
          .select("title")
          .where("status", "=", "active")
          .orderBy("id")
          .limit(2)
          .offset(1),
      (k: Kysely<Database>) =>
        k
          .selectFrom("idea_threads")
          .select(["status", (eb) => eb.fn.countAll<number>().as("n")])
          .where("user_id", "=", "even")
          .groupBy("status")
          .orderBy("status"),
      // A number compared with text as SQLite's affinity rules do, unchanged by the plus.
      (k: Kysely<Database>) =>
        k
          .selectFrom("idea_threads")
          .select("title")
          .where("id", "=", "3" as unknown as number)
          .orderBy("id"),
    ];
    for (const build of cases) {
      const ours = await build(d.db).execute();
      expect(ours.length).toBeGreaterThan(0);
      expect(ours).toEqual(await build(plain).execute());
    }
  });
});
