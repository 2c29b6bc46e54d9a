import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { DatabaseOpenError, databaseIsUsable, openDatabase } from "../../src/store/database.ts";

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("opening the database", () => {
  it("uses WAL, a busy timeout, a 2 MB page cache, temporary data in memory and the chosen synchronous level", async () => {
    dir = mkdtempSync(join(tmpdir(), "hermes-db-"));
    for (const [level, expected] of [
      ["NORMAL", 1],
      ["FULL", 2],
    ] as const) {
      const h = await openDatabase({ path: join(dir, `${level}.db`), synchronous: level });
      expect(h.sqlite.pragma("journal_mode", { simple: true })).toBe("wal");
      expect(h.sqlite.pragma("synchronous", { simple: true })).toBe(expected);
      expect(Number(h.sqlite.pragma("busy_timeout", { simple: true }))).toBeGreaterThan(0);
      // SQLite's 2 MB page cache, not better-sqlite3's 16 MB build default (RSS after many ideas).
      expect(h.sqlite.pragma("cache_size", { simple: true })).toBe(-2000);
      // Savepoint journals (a group commit's writes) in memory, never spilled to a temporary file.
      expect(h.sqlite.pragma("temp_store", { simple: true })).toBe(2);
      expect(databaseIsUsable(h)).toBe(true);
      await h.close();
      expect(databaseIsUsable(h)).toBe(false);
    }
  });

  it("refuses a file that is not a database, with a message that says what to do", async () => {
    dir = mkdtempSync(join(tmpdir(), "hermes-db-"));
    const path = join(dir, "broken.db");
    writeFileSync(path, "this is not sqlite ".repeat(500));
    const error = await openDatabase({ path }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatabaseOpenError);
    expect((error as Error).message).toContain(path);
    expect((error as Error).message).toMatch(/npm run restore/);
  });

  it("creates the folder and migrates a new file; a second open changes nothing", async () => {
    dir = mkdtempSync(join(tmpdir(), "hermes-db-"));
    const path = join(dir, "nested", "deeper", "hermes.db");
    const first = await openDatabase({ path });
    const tables = first.sqlite
      .prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table'")
      .pluck()
      .get();
    await first.close();
    const second = await openDatabase({ path });
    expect(
      second.sqlite.prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table'").pluck().get(),
    ).toBe(tables);
    await second.close();
  });

  it("checks integrity at start only after an unclean stop (a WAL left behind), so start-up does not grow with the data", async () => {
    dir = mkdtempSync(join(tmpdir(), "hermes-db-"));
    const path = join(dir, "hermes.db");
    const h = await openDatabase({ path });
    h.sqlite.exec("CREATE TABLE filler (x TEXT)");
    const insert = h.sqlite.prepare("INSERT INTO filler VALUES (?)");
    for (let i = 0; i < 2000; i++) insert.run("x".repeat(200));
    await h.close();
    expect(existsSync(`${path}-wal`)).toBe(false); // a clean stop leaves no WAL
    // Damage a page near the end (the filler table), as a failing disk would.
    const fd = openSync(path, "r+");
    writeSync(fd, Buffer.alloc(4096, 0xab), 0, 4096, statSync(path).size - 3 * 4096);
    closeSync(fd);

    const clean = await openDatabase({ path, integrityCheck: "after-unclean-stop" });
    await clean.close();
    writeFileSync(`${path}-wal`, Buffer.alloc(64, 1)); // what a killed process leaves behind
    const afterCrash = await openDatabase({ path, integrityCheck: "after-unclean-stop" }).catch(
      (e: unknown) => e,
    );
    expect(afterCrash).toBeInstanceOf(DatabaseOpenError);
    expect((afterCrash as Error).message).toMatch(/integrity check failed|malformed/);
    const always = await openDatabase({ path }).catch((e: unknown) => e);
    expect(always).toBeInstanceOf(DatabaseOpenError);
  });
});
