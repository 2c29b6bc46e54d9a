import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ManualClock } from "../../src/clock.ts";
import { type HermesDatabase, openDatabase, startIdleCheckpoints } from "../../src/store/database.ts";

let dir: string | undefined;
let handle: HermesDatabase | undefined;
afterEach(async () => {
  await handle?.close();
  handle = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A file database whose checkpoints are counted, with a table to write to. */
async function setup() {
  dir = mkdtempSync(join(tmpdir(), "hermes-ckpt-"));
  const path = join(dir, "hermes.db");
  const h = await openDatabase({ path });
  handle = h;
  h.sqlite.exec("CREATE TABLE filler (x TEXT)");
  h.sqlite.pragma("wal_checkpoint(TRUNCATE)"); // the migrations' WAL: each test starts empty
  const checkpoints: { log: number; checkpointed: number }[] = [];
  const pragma = h.sqlite.pragma.bind(h.sqlite);
  h.sqlite.pragma = ((source: string, options?: object) => {
    const result = pragma(source, options);
    if (source.startsWith("wal_checkpoint")) checkpoints.push((result as typeof checkpoints)[0]!);
    return result;
  }) as typeof h.sqlite.pragma;
  const insert = h.sqlite.prepare("INSERT INTO filler VALUES (?)");
  const write = (rows = 1, size = 100) => {
    for (let i = 0; i < rows; i++) insert.run("x".repeat(size));
  };
  const walBytes = () => statSync(`${path}-wal`).size;
  return { h, clock: new ManualClock(0), checkpoints, write, walBytes };
}

describe("WAL checkpoints", () => {
  it("wait for a whole quiet second (nothing written, no job running), then copy the stream once", async () => {
    const { h, clock, checkpoints, write } = await setup();
    let idle = true;
    const policy = startIdleCheckpoints(h, { clock, isIdle: () => idle });
    // A steady stream: a write in every second, with idle instants between them. Not one checkpoint.
    for (let s = 0; s < 10; s++) {
      write();
      clock.advance(1000);
      await policy.settled();
    }
    expect(checkpoints).toHaveLength(0);
    // A quiet second but a job still running: not yet.
    idle = false;
    clock.advance(1000);
    await policy.settled();
    expect(checkpoints).toHaveLength(0);
    // Quiet and idle: one checkpoint, complete, of everything the stream wrote.
    idle = true;
    clock.advance(1000);
    await policy.settled();
    expect(checkpoints).toHaveLength(1);
    expect(checkpoints[0]?.log).toBeGreaterThan(0);
    expect(checkpoints[0]?.checkpointed).toBe(checkpoints[0]?.log);
    // Nothing written since: nothing to do, however long it stays quiet.
    clock.advance(10_000);
    await policy.settled();
    expect(checkpoints).toHaveLength(1);
    write();
    clock.advance(2000);
    await policy.settled();
    expect(checkpoints).toHaveLength(2);
    policy.stop();
    expect(clock.pendingTimers()).toBe(0);
  });

  it("checkpoint a stream that is never quiet once the WAL passes its cap, and keep the file near the cap", async () => {
    const { h, clock, checkpoints, write, walBytes } = await setup();
    const maxWalBytes = 256 * 1024;
    const policy = startIdleCheckpoints(h, { clock, isIdle: () => false, maxWalBytes });
    write(1, 10);
    clock.advance(1000);
    await policy.settled();
    expect(checkpoints).toHaveLength(0); // busy, under the cap
    // One second writes ~400 KB: over the cap, checkpointed at the next look though busy.
    write(100, 4000);
    expect(walBytes()).toBeGreaterThan(maxWalBytes);
    clock.advance(1000);
    await policy.settled();
    expect(checkpoints).toHaveLength(1);
    // The WAL restarts at the next commit and its file is cut back to the cap (journal_size_limit):
    // a busy stream under the cap since is not mistaken for a full WAL.
    write(1, 10);
    expect(walBytes()).toBeLessThanOrEqual(maxWalBytes);
    for (let s = 0; s < 5; s++) {
      write(1, 10);
      clock.advance(1000);
      await policy.settled();
    }
    expect(checkpoints).toHaveLength(1);
    policy.stop();
  });
});
