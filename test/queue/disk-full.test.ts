import { afterEach, describe, expect, it } from "vitest";
import type { Actor } from "../../src/engine/threads/service.ts";
import type { DispatchContext, DispatchOutcome } from "../../src/queue/scheduler/scheduler.ts";
import { fillHealthPage, fillJobsPage } from "../helpers/full-disk.ts";
import { testHermes } from "../helpers/test-hermes.ts";

/**
 * A full disk (SQLITE_FULL, made real with PRAGMA max_page_count, see full-disk.ts) must not end
 * Hermes: the queue backs off, /health says degraded, the owners get the database_size alert, new
 * ideas get a clear refusal, nothing accepted is lost, and work resumes once there is space.
 */

type H = Awaited<ReturnType<typeof testHermes>>;
let h: H | undefined;
afterEach(async () => {
  await h?.hermes.stop();
  h = undefined;
});

const TOKEN = "disk-full-admin-token-0123456789";
const OWNER: Actor = { userId: "1", role: "owner" };
/** A draft long enough that storing it needs room in the jobs page. */
const DRAFT = `# Draft\n\n${"A useful paragraph about the idea. ".repeat(40)}`;
const outcome = (): DispatchOutcome => ({
  text: DRAFT,
  summary: "A useful draft.",
  backend: "ollama",
  model: "m",
  costCents: 0,
  executionMs: 10,
});

/** Lets promise chains and setImmediate batches (group commit) run; no time passes on the clock. */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve));
}

async function health(x: H): Promise<{ status: string; database: string }> {
  const res = await x.hermes.app.request("/health", { headers: { Authorization: `Bearer ${TOKEN}` } });
  return (await res.json()) as { status: string; database: string };
}

const jobStatus = (x: H, id: number) =>
  x.hermes.database.sqlite.prepare("SELECT status FROM jobs WHERE id = ?").pluck().get(id);

async function fullDiskHermes(dispatch: (ctx: DispatchContext) => Promise<DispatchOutcome>) {
  const alerts: string[] = [];
  const x = await testHermes({
    dispatch,
    env: { HERMES_ADMIN_TOKEN: TOKEN },
    config: { "hermes.notifications.alert_types": "database_size,queue_full" },
  });
  x.hermes.notifier.connect(async (text) => {
    alerts.push(text);
  });
  return { x, alerts };
}

describe("a full disk", () => {
  it("the scheduler's claim backs off instead of ending the process; intake refuses clearly; work resumes", async () => {
    const runs: number[] = [];
    const { x, alerts } = await fullDiskHermes(async (ctx) => {
      runs.push(ctx.job.id);
      return outcome();
    });
    h = x;
    const service = x.hermes.threadService;
    const accepted = await service.submit(OWNER, { text: "Plan a herb garden", source: "telegram" });
    const disk = fillJobsPage(x.hermes.database.sqlite, accepted.thread.id);

    // Before: the first claim threw SQLITE_FULL out of the scheduler's pump and ended the process.
    await x.hermes.start();
    await settle();
    x.clock.advance(5 * 60_000); // the queue keeps trying (backing off) for five minutes
    await settle();
    expect(runs).toEqual([]);
    expect(jobStatus(x, accepted.job.id)).toBe("queued");
    expect(await health(x)).toMatchObject({ status: "degraded", database: "full" });
    expect(x.hermes.api.system().issues).toContain("disk full: the database refuses writes (queue claim)");
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatch(
      /^🗄 Hermes alert \(database size\)\nThe database refuses writes: its disk is full/,
    );

    // A new idea is refused with a sentence a user can act on, and leaves nothing behind.
    const threadsBefore = x.hermes.database.sqlite.prepare("SELECT count(*) FROM idea_threads").pluck().get();
    await expect(
      service.submit(OWNER, { text: "Write a poem about rain", source: "telegram" }),
    ).rejects.toMatchObject({
      code: "STORAGE_FULL",
      message: "Hermes' disk is full, so it cannot save anything new right now.",
      userAction: "What you sent before is kept. Try again in a few minutes.",
    });
    expect(x.hermes.database.sqlite.prepare("SELECT count(*) FROM idea_threads").pluck().get()).toBe(
      threadsBefore,
    );
    // The API says the same, as a 503 to try again later.
    const viaApi = await x.hermes.app.request("/api/submit", {
      method: "POST",
      headers: { Authorization: `Bearer ${TOKEN}`, "Content-Type": "application/json" },
      body: JSON.stringify({ idea: "Write a poem about rain" }),
    });
    expect(viaApi.status).toBe(503);
    expect(viaApi.headers.get("retry-after")).toBe("300");
    expect(((await viaApi.json()) as { error: { code: string } }).error.code).toBe("STORAGE_FULL");

    // Space returns: the accepted job runs at the next try, and /health is ok again.
    disk.free();
    x.clock.advance(60_000);
    await settle();
    expect(runs).toEqual([accepted.job.id]);
    expect(jobStatus(x, accepted.job.id)).toBe("completed");
    expect((await health(x)).database).toBe("ok");
    expect(x.hermes.api.system().issues.filter((i) => i.startsWith("disk full"))).toEqual([]);
    await expect(
      service.submit(OWNER, { text: "Write a poem about rain", source: "telegram" }),
    ).resolves.toBeDefined();
  });

  it("a draft finished while the disk is full is kept and stored when space returns (not run again)", async () => {
    const runs: number[] = [];
    let release: () => void = () => {};
    const { x } = await fullDiskHermes(async (ctx) => {
      runs.push(ctx.job.id);
      await new Promise<void>((resolve) => {
        release = resolve;
      });
      return outcome();
    });
    h = x;
    await x.hermes.start();
    const accepted = await x.hermes.threadService.submit(OWNER, {
      text: "Plan a herb garden",
      source: "telegram",
    });
    await settle();
    expect(runs).toEqual([accepted.job.id]);
    const disk = fillJobsPage(x.hermes.database.sqlite, accepted.thread.id);

    release(); // the draft is done, but storing it needs room the disk no longer has
    await settle();
    for (let i = 0; i < 6; i++) {
      x.clock.advance(10_000);
      await settle();
    }
    expect(jobStatus(x, accepted.job.id)).toBe("running");
    expect(x.hermes.api.system().issues).toContain("disk full: the database refuses writes (job completion)");

    disk.free();
    x.clock.advance(60_000);
    await settle();
    const row = x.hermes.database.sqlite
      .prepare("SELECT status, full_result FROM jobs WHERE id = ?")
      .get(accepted.job.id) as { status: string; full_result: string };
    expect(row).toEqual({ status: "completed", full_result: DRAFT });
    expect(runs).toEqual([accepted.job.id]);
    expect(x.hermes.api.system().issues.filter((i) => i.startsWith("disk full"))).toEqual([]);
  });

  it("backend health probes keep running when their rows cannot be written, and record again after", async () => {
    const { x, alerts } = await fullDiskHermes(async () => outcome());
    h = x;
    const sqlite = x.hermes.database.sqlite;
    const rows = () =>
      sqlite.prepare("SELECT count(*) FROM system_health WHERE component = 'backend:ollama'").pluck().get();
    const disk = fillHealthPage(sqlite);
    // Before: the probe's record threw out of its timer (an unhandled rejection ends the process).
    await x.hermes.start();
    await settle();
    x.clock.advance(10 * 60_000);
    await settle();
    expect(x.hermes.api.system().issues).toContain(
      "disk full: the database refuses writes (backend health record)",
    );
    expect(alerts).toHaveLength(1);
    expect(x.hermes.backends.status().map((b) => b.health)).toEqual(["healthy"]);
    const before = rows();

    disk.free();
    x.clock.advance(10 * 60_000);
    await settle();
    expect(rows()).toBeGreaterThan(before as number);
    expect(x.hermes.api.system().issues.filter((i) => i.startsWith("disk full"))).toEqual([]);
  });
});
