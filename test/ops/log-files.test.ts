import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createLogger } from "../../src/log.ts";
import { createLogFileDestination } from "../../src/ops/log-files.ts";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "hermes-logs-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("daily log files", () => {
  it("writes each line to stdout and to hermes-YYYY-MM-DD.log, rotating at midnight UTC and pruning", () => {
    for (const day of ["2026-01-01", "2026-01-07", "2026-01-08", "2026-01-09"])
      writeFileSync(join(dir, `hermes-${day}.log`), "old\n");
    writeFileSync(join(dir, "other.txt"), "keep me");
    let now = Date.UTC(2026, 0, 10, 23, 59, 0);
    const stdout: string[] = [];
    const dest = createLogFileDestination({
      dir,
      retentionDays: () => 3,
      now: () => now,
      stdout: (l) => stdout.push(l),
    });
    dest.write("first\n");
    dest.write("second\n");
    expect(stdout).toEqual(["first\n", "second\n"]);
    expect(readFileSync(join(dir, "hermes-2026-01-10.log"), "utf8")).toBe("first\nsecond\n");
    expect(readdirSync(dir).sort()).toEqual([
      "hermes-2026-01-08.log",
      "hermes-2026-01-09.log",
      "hermes-2026-01-10.log",
      "other.txt",
    ]);
    now = Date.UTC(2026, 0, 11, 0, 0, 1);
    dest.write("third\n");
    expect(dest.currentFile()).toBe(join(dir, "hermes-2026-01-11.log"));
    expect(readFileSync(join(dir, "hermes-2026-01-11.log"), "utf8")).toBe("third\n");
    expect(existsSync(join(dir, "hermes-2026-01-08.log"))).toBe(false);
    expect(existsSync(join(dir, "hermes-2026-01-09.log"))).toBe(true);
    dest.close();
  });

  it("works as pino's destination, secrets still scrubbed", () => {
    const dest = createLogFileDestination({
      dir,
      retentionDays: () => 30,
      now: () => Date.UTC(2026, 2, 1),
      stdout: null,
    });
    const log = createLogger({ level: "info", secrets: ["super-secret-token-value"], destination: dest });
    log.info({ threadId: 7 }, "hello super-secret-token-value");
    dest.close();
    const line = JSON.parse(readFileSync(join(dir, "hermes-2026-03-01.log"), "utf8").trim());
    expect(line).toMatchObject({ threadId: 7, msg: "hello [REDACTED]", app: "hermes" });
  });
});
