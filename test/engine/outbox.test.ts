import { afterEach, describe, expect, it } from "vitest";
import { ManualClock } from "../../src/clock.ts";
import { Engine, type EngineDeps } from "../../src/engine/engine.ts";
import { QueueEvents } from "../../src/queue/events.ts";
import type { HermesDatabase } from "../../src/store/database.ts";
import { JobsRepo } from "../../src/store/jobs/repo.ts";
import { ThreadsRepo } from "../../src/store/threads/repo.ts";
import { TelegramOutboxRepo } from "../../src/store/threads/telegram-outbox-repo.ts";
import { memoryDb } from "../helpers/memory-db.ts";

let db: HermesDatabase | undefined;
afterEach(async () => {
  await db?.close();
  db = undefined;
});

async function setup() {
  db = await memoryDb();
  const sqlite = db.sqlite;
  const threadId = Number(
    sqlite
      .prepare(
        "INSERT INTO idea_threads (uuid, title, original_request, source, chat_id) VALUES ('abcdef12-x', 't', 'idea', 'telegram', '42') RETURNING id",
      )
      .pluck()
      .get(),
  );
  const jobs = new JobsRepo(sqlite);
  const queueEvents = new QueueEvents();
  const engine = new Engine({
    threads: new ThreadsRepo(db.db),
    queue: { get: (id: number) => jobs.get(id) },
    queueEvents,
    clock: new ManualClock(0),
    outbox: new TelegramOutboxRepo(sqlite),
    log: { error: () => {}, warn: () => {} },
  } as unknown as EngineDeps);
  const job = () => jobs.enqueue({ threadId, jobType: "creation", priority: 5 }, 0);
  const owedRows = () =>
    sqlite.prepare("SELECT count(*) FROM telegram_outbox WHERE delivered_at IS NULL").pluck().get();
  return { engine, queueEvents, job, jobs, owedRows, sqlite };
}

describe("Engine: what a Telegram chat is owed outlives the listeners", () => {
  it("records the draft in the same turn as the completion, with no listener, and gives it back until delivered", async () => {
    const { engine, queueEvents, job, owedRows, sqlite } = await setup();
    const done = job();
    sqlite
      .prepare("UPDATE jobs SET status = 'completed', full_result = 'the draft' WHERE id = ?")
      .run(done.id);
    // No listener (a stopping bot): nothing awaits, yet the chat is owed the draft at once.
    queueEvents.emit({ type: "completed", job: { ...done, full_result: "the draft" } });
    expect(owedRows()).toBe(1);
    await engine.settled();
    const [owed] = await engine.owed();
    expect(owed?.event.type).toBe("completed");
    expect(owed?.draft?.text).toBe("the draft");
    expect(owed?.shortId).toBe("abcdef12");
    const id = owed?.outboxId ?? -1;
    expect(engine.isOwed(id)).toBe(true);
    engine.delivered(id);
    expect(engine.isOwed(id)).toBe(false);
    expect(await engine.owed()).toEqual([]);
  });

  it("owes the failure notice with its error, and passes the entry to listeners", async () => {
    const { engine, queueEvents, job } = await setup();
    const seen: (number | undefined)[] = [];
    engine.onEvent((e) => {
      seen.push(e.outboxId);
    });
    const failed = job();
    const error = { code: "TIMEOUT", message: "The backend did not answer." };
    queueEvents.emit({ type: "failed", job: failed, error });
    await engine.settled();
    const [owed] = await engine.owed();
    expect(owed?.event).toMatchObject({ type: "failed", error });
    expect(seen).toEqual([owed?.outboxId]);
  });

  it("does not wait for a listener's own work to settle (a hung Telegram never holds the shutdown)", async () => {
    const { engine, queueEvents, job } = await setup();
    engine.onEvent(() => new Promise<void>(() => {}));
    queueEvents.emit({ type: "started", job: job() });
    await engine.settled();
    expect(await engine.owed()).toEqual([]);
  });

  it("owes nothing for a thread from the API, and asks the outbox nothing when its running job says so", async () => {
    const { engine, queueEvents, jobs, owedRows, sqlite } = await setup();
    const apiThread = Number(
      sqlite
        .prepare(
          "INSERT INTO idea_threads (uuid, title, original_request, source) VALUES ('12345678-y', 't', 'idea', 'api') RETURNING id",
        )
        .pluck()
        .get(),
    );
    const outbox = (engine as unknown as { d: { outbox: TelegramOutboxRepo } }).d.outbox;
    const asked: number[] = [];
    const owe = outbox.owe.bind(outbox);
    outbox.owe = (entry, nowIso) => {
      asked.push(entry.jobId);
      return owe(entry, nowIso);
    };
    engine.onEvent(() => {});
    const job = jobs.enqueue({ threadId: apiThread, jobType: "creation", priority: 5 }, 0);
    queueEvents.emit({ type: "started", job });
    await engine.settled();
    queueEvents.emit({ type: "failed", job, error: { code: "TIMEOUT", message: "No answer." } });
    await engine.settled();
    expect(asked).toEqual([]);
    expect(owedRows()).toBe(0);
    // Unknown to the engine (no running job seen): the outbox decides, and owes nothing either.
    const other = jobs.enqueue({ threadId: apiThread, jobType: "creation", priority: 5 }, 0);
    queueEvents.emit({ type: "failed", job: other, error: { code: "TIMEOUT", message: "No answer." } });
    await engine.settled();
    expect(asked).toEqual([other.id]);
    expect(owedRows()).toBe(0);
  });
});
