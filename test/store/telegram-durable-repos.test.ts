import { afterEach, describe, expect, it } from "vitest";
import type { HermesDatabase } from "../../src/store/database.ts";
import { JobsRepo } from "../../src/store/jobs/repo.ts";
import { TelegramUpdatesRepo } from "../../src/store/system/telegram-updates-repo.ts";
import { MAX_DELIVERY_ATTEMPTS, TelegramOutboxRepo } from "../../src/store/threads/telegram-outbox-repo.ts";
import { UserDataRepo } from "../../src/store/threads/user-data-repo.ts";
import { memoryDb } from "../helpers/memory-db.ts";

let db: HermesDatabase | undefined;
afterEach(async () => {
  await db?.close();
  db = undefined;
});

const NOW = Date.UTC(2026, 0, 1);
const DAY = 24 * 3600_000;
const iso = (ms: number) => new Date(ms).toISOString();

async function setup() {
  db = await memoryDb();
  const threadId = Number(
    db.sqlite
      .prepare(
        "INSERT INTO idea_threads (uuid, title, original_request, user_id, source, chat_id) VALUES ('u', 't', 'idea', '7', 'telegram', '7') RETURNING id",
      )
      .pluck()
      .get(),
  );
  const jobs = new JobsRepo(db.sqlite);
  const job = (n: number, thread = threadId) =>
    jobs.enqueue({ threadId: thread, jobType: "creation", priority: 5 + n }, NOW).id;
  const repo = new TelegramOutboxRepo(db.sqlite);
  /** owe() for a Telegram thread: an id is expected. */
  const outbox = {
    owe: (...args: Parameters<TelegramOutboxRepo["owe"]>): number => {
      const id = repo.owe(...args);
      if (id === undefined) throw new Error("nothing owed");
      return id;
    },
    pending: () => repo.pending(),
    isPending: (id: number) => repo.isPending(id),
    delivered: (id: number, at: string) => repo.delivered(id, at),
    attempted: (id: number) => repo.attempted(id),
    pruneDelivered: (now: number) => repo.pruneDelivered(now),
  };
  return { db, threadId, job, outbox, repo };
}

describe("telegram_outbox", () => {
  it("owes a job's message once, however often the event is relayed, until it is delivered", async () => {
    const { outbox, threadId, job } = await setup();
    const jobId = job(0);
    const id = outbox.owe({ threadId, jobId, kind: "draft" }, iso(NOW));
    expect(outbox.owe({ threadId, jobId, kind: "draft" }, iso(NOW + 1))).toBe(id);
    const error = { code: "TIMEOUT", message: "no answer" };
    const failed = outbox.owe({ threadId, jobId: job(1), kind: "failed", error }, iso(NOW));
    expect(outbox.pending().map((o) => [o.id, o.kind, o.error])).toEqual([
      [id, "draft", undefined],
      [failed, "failed", error],
    ]);
    outbox.delivered(id, iso(NOW));
    expect(outbox.isPending(id)).toBe(false);
    expect(outbox.pending().map((o) => o.id)).toEqual([failed]);
  });

  it("owes nothing for a thread that is not in Telegram", async () => {
    const { db, repo, job } = await setup();
    const apiThread = Number(
      db.sqlite
        .prepare(
          "INSERT INTO idea_threads (uuid, title, original_request, user_id, source) VALUES ('a', 't', 'idea', 'api', 'api') RETURNING id",
        )
        .pluck()
        .get(),
    );
    expect(
      repo.owe({ threadId: apiThread, jobId: job(0, apiThread), kind: "draft" }, iso(NOW)),
    ).toBeUndefined();
    expect(repo.pending()).toEqual([]);
  });

  it("gives up on an entry Telegram refused on every start, and prunes delivered ones after a week", async () => {
    const { db, outbox, threadId, job } = await setup();
    const refused = outbox.owe({ threadId, jobId: job(0), kind: "draft" }, iso(NOW));
    for (let i = 0; i < MAX_DELIVERY_ATTEMPTS; i++) outbox.attempted(refused);
    expect(outbox.pending()).toEqual([]);
    const sent = outbox.owe({ threadId, jobId: job(1), kind: "draft" }, iso(NOW));
    outbox.delivered(sent, iso(NOW));
    const rows = () => db.sqlite.prepare("SELECT id FROM telegram_outbox ORDER BY id").pluck().all();
    outbox.pruneDelivered(NOW + 6 * DAY);
    expect(rows()).toEqual([refused, sent]);
    outbox.pruneDelivered(NOW + 8 * DAY);
    expect(rows()).toEqual([refused]);
  });

  it("goes with the thread on /forget", async () => {
    const { db, outbox, threadId, job } = await setup();
    outbox.owe({ threadId, jobId: job(0), kind: "draft" }, iso(NOW));
    new UserDataRepo(db.sqlite).forget("7", "7");
    expect(db.sqlite.prepare("SELECT count(*) FROM telegram_outbox").pluck().get()).toBe(0);
  });
});

describe("telegram_updates", () => {
  it("remembers handled updates per bot, and forgets them after two days", async () => {
    db = await memoryDb();
    const updates = new TelegramUpdatesRepo(db.sqlite);
    updates.record("1", 500, NOW);
    expect(updates.handled("1", 500)).toBe(true);
    expect(updates.handled("1", 501)).toBe(false);
    expect(updates.handled("2", 500)).toBe(false);
    updates.pruneOld(NOW + DAY);
    expect(updates.handled("1", 500)).toBe(true);
    updates.pruneOld(NOW + 3 * DAY);
    expect(updates.handled("1", 500)).toBe(false);
  });
});
