import { chmodSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { backupDatabase } from "../../src/ops/backup.ts";
import { openDatabase } from "../../src/store/database.ts";

// Hardening issue #16, item 4: the database and its backups are owner-only, whatever the umask.
const modeOf = (path: string) => statSync(path).mode & 0o777;
let dir: string;
let umask: number;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "hermes-modes-"));
  umask = process.umask(0o022); // the usual default, under which files were created 0644
});
afterEach(() => {
  process.umask(umask);
  rmSync(dir, { recursive: true, force: true });
});

describe("file permissions", () => {
  it("creates the database, its -wal/-shm and its new folder owner-only", async () => {
    const path = join(dir, "data", "hermes.db");
    const h = await openDatabase({ path });
    h.sqlite.exec("CREATE TABLE t (x); INSERT INTO t VALUES (1)");
    expect(modeOf(join(dir, "data"))).toBe(0o700);
    for (const file of [path, `${path}-wal`, `${path}-shm`]) {
      expect(existsSync(file)).toBe(true);
      expect(modeOf(file)).toBe(0o600);
    }
    await h.close();
  });

  it("tightens a database file an older version left 0644", async () => {
    const path = join(dir, "hermes.db");
    writeFileSync(path, "");
    chmodSync(path, 0o644);
    const h = await openDatabase({ path });
    expect(modeOf(path)).toBe(0o600);
    await h.close();
  });

  it("writes backups 0600 into a 0700 folder", async () => {
    const h = await openDatabase({ path: join(dir, "hermes.db") });
    const backups = join(dir, "backups");
    const { path } = await backupDatabase(h.sqlite, backups, Date.UTC(2026, 0, 15, 12, 0, 0));
    expect(modeOf(backups)).toBe(0o700);
    expect(modeOf(path)).toBe(0o600);
    await h.close();
  });
});
