import BetterSqlite3 from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { GroupCommit } from "../../src/store/group-commit.ts";

let sqlite: BetterSqlite3.Database;
let group: GroupCommit;
const insert = (v: string) => () => sqlite.prepare("INSERT INTO t (v) VALUES (?)").run(v).lastInsertRowid;
const rows = () => sqlite.prepare("SELECT v FROM t ORDER BY id").pluck().all();

beforeEach(() => {
  sqlite = new BetterSqlite3(":memory:");
  sqlite.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)");
  group = GroupCommit.of(sqlite);
});
afterEach(() => {
  if (sqlite.open) sqlite.close();
});

describe("GroupCommit", () => {
  it("is one group per connection", () => {
    expect(GroupCommit.of(sqlite)).toBe(group);
    const other = new BetterSqlite3(":memory:");
    expect(GroupCommit.of(other)).not.toBe(group);
    other.close();
  });

  it("runs the writes of one turn together in one transaction, and settles them after it", async () => {
    const seen: { inTransaction: boolean; visible: unknown[] }[] = [];
    let settled = 0;
    const first = group.run(insert("a")).then((id) => {
      settled++;
      return id;
    });
    const second = group.run(() => {
      seen.push({ inTransaction: sqlite.inTransaction, visible: rows() });
      return insert("b")();
    });
    expect(rows()).toEqual([]); // nothing runs before the turn ends
    expect(await second).toBe(2);
    expect(await first).toBe(1);
    expect(settled).toBe(1);
    expect(seen).toEqual([{ inTransaction: true, visible: ["a"] }]);
    expect(sqlite.inTransaction).toBe(false);
    expect(rows()).toEqual(["a", "b"]);
  });

  it("undoes only the write that threw", async () => {
    const a = group.run(insert("a"));
    const b = group.run(() => {
      insert("b")();
      throw new Error("refused");
    });
    const c = group.run(insert("c"));
    await expect(b).rejects.toThrow("refused");
    await expect(a).resolves.toBe(1);
    await expect(c).resolves.toBeDefined();
    expect(rows()).toEqual(["a", "c"]);
  });

  it("rejects every write of the group when its transaction is lost", async () => {
    const a = group.run(insert("a"));
    const b = group.run(() => {
      sqlite.exec("ROLLBACK"); // as SQLite does on some full-disk and I/O errors
      throw new Error("SQLITE_FULL: database or disk is full");
    });
    const c = group.run(insert("c"));
    for (const write of [a, b, c]) await expect(write).rejects.toThrow(/SQLITE_FULL/);
    expect(rows()).toEqual([]);
  });

  it("rejects every write of the group when its commit fails, and keeps none of them", async () => {
    sqlite.exec(`CREATE TABLE parent (id INTEGER PRIMARY KEY);
      CREATE TABLE child (p INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)`);
    sqlite.pragma("foreign_keys = ON");
    const a = group.run(insert("a"));
    const orphan = group.run(() => sqlite.prepare("INSERT INTO child (p) VALUES (42)").run().changes);
    // The orphan is checked at COMMIT, after both writes ran.
    for (const write of [a, orphan]) await expect(write).rejects.toThrow(/FOREIGN KEY/);
    expect(rows()).toEqual([]);
  });

  it("waits for a transaction left open on the connection instead of nesting in it", async () => {
    sqlite.exec("BEGIN");
    let settled = false;
    const a = group.run(insert("a")).then(() => {
      settled = true;
    });
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    expect(settled).toBe(false);
    sqlite.exec("COMMIT");
    await a;
    expect(rows()).toEqual(["a"]);
  });
});
