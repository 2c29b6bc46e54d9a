import { afterEach, describe, expect, it } from "vitest";
import { type HermesDatabase, openDatabase } from "../../src/store/database.ts";

/**
 * With foreign_keys = ON, deleting a parent row makes SQLite look up its children; without an index
 * led by the child column that lookup scans the child table once per deleted row, and a guest's
 * /forget beside the owner's history became quadratic (4,000 of 8,000 ideas: 1.8 s instead of
 * 0.14). A partial index serves the lookup only if it holds every non-NULL key. Rows of `backends`
 * are never deleted, so their children are exempt.
 */
const NEVER_DELETED = new Set(["backends"]);

let db: HermesDatabase | undefined;
afterEach(async () => {
  await db?.close();
  db = undefined;
});

interface ForeignKey {
  table: string;
  from: string;
  parent: string;
}

function foreignKeys(d: HermesDatabase): ForeignKey[] {
  const tables = d.sqlite
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    .all() as { name: string }[];
  return tables.flatMap(({ name }) =>
    (d.sqlite.pragma(`foreign_key_list(${name})`) as { from: string; table: string }[]).map((fk) => ({
      table: name,
      from: fk.from,
      parent: fk.table,
    })),
  );
}

/** An index led by `column` holding every row where it is set (full, or partial on `column IS NOT NULL`). */
function hasIndexOn(d: HermesDatabase, table: string, column: string): boolean {
  const indexes = d.sqlite.pragma(`index_list(${table})`) as { name: string; partial: number }[];
  const everyKey = (name: string) => {
    const row = d.sqlite.prepare("SELECT sql FROM sqlite_master WHERE name = ?").get(name) as { sql: string };
    return new RegExp(`WHERE ${column} IS NOT NULL\\s*$`, "i").test(row.sql);
  };
  return indexes.some(
    (i) =>
      (i.partial === 0 || everyKey(i.name)) &&
      (d.sqlite.pragma(`index_info(${i.name})`) as { seqno: number; name: string }[]).find(
        (c) => c.seqno === 0,
      )?.name === column,
  );
}

describe("foreign keys", () => {
  it("every child column of a parent that can be deleted has an index", async () => {
    db = await openDatabase({ path: ":memory:" });
    const d = db;
    const fks = foreignKeys(d).filter((fk) => !NEVER_DELETED.has(fk.parent));
    expect(fks.length).toBeGreaterThan(8);
    const unindexed = fks.filter((fk) => !hasIndexOn(d, fk.table, fk.from));
    expect(unindexed).toEqual([]);
  });

  it("no two indexes of a table are the same columns", async () => {
    db = await openDatabase({ path: ":memory:" });
    const d = db;
    const seen = new Map<string, string>();
    const rows = d.sqlite
      .prepare(
        "SELECT name, tbl_name AS tbl, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL",
      )
      .all() as { name: string; tbl: string; sql: string }[];
    const duplicates: string[] = [];
    for (const r of rows) {
      const shape = `${r.tbl}:${r.sql.replace(/^CREATE (UNIQUE )?INDEX \S+ /i, "").replace(/\s+/g, " ")}`;
      const earlier = seen.get(shape);
      if (earlier) duplicates.push(`${earlier} = ${r.name}`);
      seen.set(shape, r.name);
    }
    expect(duplicates).toEqual([]);
  });
});
