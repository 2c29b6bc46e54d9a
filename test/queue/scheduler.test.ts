import { afterEach, describe, expect, it } from "vitest";
import { HermesError } from "../../src/errors.ts";
import type { DispatchOutcome } from "../../src/queue/scheduler/scheduler.ts";
import { GroupCommit } from "../../src/store/group-commit.ts";
import { ok, queueHarness } from "../helpers/queue-harness.ts";

type H = Awaited<ReturnType<typeof queueHarness>>;
let h: H | undefined;
afterEach(async () => {
  await h?.scheduler.stop(0);
  await h?.db.close();
  h = undefined;
});

const job = (threadId: number, extra: Partial<Parameters<H["queue"]["enqueue"]>[0]> = {}) => ({
  threadId,
  jobType: "creation",
  priority: 5,
  ...extra,
});

describe.each([{ gc: false }, { gc: true }])("scheduler (group commit: $gc)", ({ gc }) => {
  it("runs an enqueued job at once and records completion with timings", async () => {
    h = await queueHarness({ groupCommit: gc });
    h.scheduler.start();
    const j = h.queue.enqueue(job(h.threadId));
    await h.settle();
    const row = h.repo.get(j.id);
    expect(row?.status).toBe("completed");
    expect(row?.full_result).toBe("done");
    expect(row?.started_date).not.toBeNull();
    expect(row?.completed_date).not.toBeNull();
    expect(h.seen.map((e) => e.type)).toEqual(["queued", "started", "completed"]);
  });

  it("announces a completion with the job as stored, without reading it back", async () => {
    h = await queueHarness({ groupCommit: gc });
    let attempts = 0;
    h.setBehaviour(async () => {
      // The first attempt fails: the completion must clear what the retry wrote.
      if (++attempts === 1) throw h?.unavailable();
      return { ...ok("the draft"), summary: "short", costCents: 2.6, executionMs: 1500, fallbackUsed: true };
    });
    h.scheduler.start();
    const first = h.queue.enqueue(job(h.threadId, { promptVariables: { idea: "x" } }));
    const second = h.queue.enqueue(job(h.threadId, { dependencies: [first.id] }));
    await h.settle();
    expect(h.repo.get(first.id)?.error_message).toBe("backend down");
    h.clock.advance(60_000);
    await h.settle(40);
    const completed = h.seen.flatMap((e) => (e.type === "completed" ? [e.job] : []));
    expect(completed.map((j) => j.id)).toEqual([first.id, second.id]);
    for (const announced of completed) expect(announced).toStrictEqual(h.repo.get(announced.id));
    expect(completed[0]).toMatchObject({
      status: "completed",
      cost_cents: 3,
      retry_count: 1,
      error_message: null,
    });
  });

  it("takes higher priority first and FIFO within a priority", async () => {
    h = await queueHarness({ groupCommit: gc });
    const a = h.queue.enqueue(job(h.threadId, { priority: 5 }));
    const b = h.queue.enqueue(job(h.threadId, { priority: 9 }));
    const c = h.queue.enqueue(job(h.threadId, { priority: 5 }));
    const d = h.queue.enqueue(job(h.threadId, { priority: 9 }));
    h.scheduler.start();
    await h.settle(60);
    expect(h.calls).toEqual([b.id, d.id, a.id, c.id]);
  });

  it("a retry that falls due while every slot is busy runs as soon as one frees", async () => {
    h = await queueHarness({ groupCommit: gc, capacity: 1 });
    let release: (() => void) | undefined;
    const tries = new Map<number, number>();
    h.setBehaviour(async ({ job: j }) => {
      const n = (tries.get(j.id) ?? 0) + 1;
      tries.set(j.id, n);
      if (j.priority === 9 && n === 1) throw h?.unavailable(); // retried after 750 ms
      if (j.priority === 1) await new Promise<void>((r) => (release = r)); // holds the only slot
      return ok();
    });
    h.scheduler.start();
    const retried = h.queue.enqueue(job(h.threadId, { priority: 9 }));
    await h.settle();
    expect(h.repo.get(retried.id)?.status).toBe("retrying");
    const holder = h.queue.enqueue(job(h.threadId, { priority: 1 }));
    await h.settle();
    h.clock.advance(5_000); // the retry is due, but the slot is taken
    await h.settle();
    expect(h.calls).toEqual([retried.id, holder.id]);
    release?.();
    await h.settle();
    expect(h.calls).toEqual([retried.id, holder.id, retried.id]);
    expect(h.repo.get(retried.id)?.status).toBe("completed");
  });

  it("never runs more than the capacity at once", async () => {
    h = await queueHarness({ groupCommit: gc, capacity: 2 });
    let running = 0;
    let peak = 0;
    const gates: (() => void)[] = [];
    h.setBehaviour(async () => {
      running++;
      peak = Math.max(peak, running);
      await new Promise<void>((r) => gates.push(r));
      running--;
      return ok();
    });
    h.scheduler.start();
    for (let i = 0; i < 5; i++) h.queue.enqueue(job(h.threadId));
    await h.settle();
    expect(running).toBe(2);
    while (gates.length > 0) {
      gates.shift()?.();
      await h.settle();
    }
    expect(peak).toBe(2);
    expect(h.queue.countByStatus().completed).toBe(5);
  });

  it("starts a dependent job only after its dependency completes", async () => {
    h = await queueHarness({ groupCommit: gc });
    let release: (() => void) | undefined;
    h.setBehaviour(async (ctx) => {
      if (ctx.job.job_sequence === 1) await new Promise<void>((r) => (release = r));
      return ok(`seq ${ctx.job.job_sequence}`);
    });
    h.scheduler.start();
    const first = h.queue.enqueue(job(h.threadId));
    const second = h.queue.enqueue(
      job(h.threadId, { jobSequence: 2, parentJobId: first.id, dependencies: [first.id] }),
    );
    expect(second.status).toBe("pending");
    await h.settle();
    expect(h.repo.get(second.id)?.status).toBe("pending");
    release?.();
    await h.settle();
    expect(h.repo.get(first.id)?.status).toBe("completed");
    expect(h.repo.get(second.id)?.status).toBe("completed");
  });

  it("fails dependents with a reason naming the dependency when it fails", async () => {
    h = await queueHarness({ groupCommit: gc });
    h.setBehaviour(async () => {
      throw new HermesError("BACKEND_ERROR", "model exploded", { retryable: false });
    });
    const first = h.queue.enqueue(job(h.threadId));
    const second = h.queue.enqueue(job(h.threadId, { dependencies: [first.id] }));
    const third = h.queue.enqueue(job(h.threadId, { dependencies: [second.id] }));
    h.scheduler.start();
    await h.settle();
    expect(h.repo.get(first.id)?.status).toBe("failed");
    expect(h.repo.get(second.id)?.status).toBe("failed");
    expect(h.repo.get(second.id)?.error_message).toContain(`dependency job ${first.id} failed`);
    expect(h.repo.get(third.id)?.status).toBe("failed");
    expect(h.calls).toEqual([first.id]);
  });

  it("retries a retryable error with capped exponential backoff and records why", async () => {
    h = await queueHarness({ groupCommit: gc, retry: { baseDelayMs: 1000, maxDelayMs: 4000 } });
    let attempts = 0;
    h.setBehaviour(async () => {
      attempts++;
      if (attempts <= 4) throw h?.unavailable();
      return ok("finally");
    });
    h.scheduler.start();
    const j = h.queue.enqueue(job(h.threadId));
    await h.settle();
    expect(h.repo.get(j.id)?.status).toBe("retrying");
    // random() = 0.5 → delay = 0.75 × step: 750, 1500, 3000, then capped 3000.
    const delays = [750, 1500, 3000, 3000];
    for (const [i, d] of delays.entries()) {
      h.clock.advance(d - 1);
      await h.settle();
      expect(attempts, `attempt ${i + 2} not before its backoff`).toBe(i + 1);
      h.clock.advance(1);
      await h.settle();
      expect(attempts).toBe(i + 2);
    }
    const row = h.repo.get(j.id);
    expect(row?.status).toBe("completed");
    expect(row?.retry_count).toBe(4);
    expect(row?.retry_reasons).toHaveLength(4);
    expect(row?.recovery_strategy).toMatch(/backoff/);
    // The user hears of retrying once per attempt in events; the bot only speaks on retryCount 1.
    expect(
      h.seen.filter((e) => e.type === "retrying").map((e) => (e.type === "retrying" ? e.retryCount : 0)),
    ).toEqual([1, 2, 3, 4]);
  });

  it("honours a backend's Retry-After when it is longer than the backoff", async () => {
    h = await queueHarness({ groupCommit: gc });
    let attempts = 0;
    h.setBehaviour(async () => {
      attempts++;
      if (attempts === 1) throw new HermesError("RATE_LIMITED", "slow down", { retryAfter: 30 });
      return ok();
    });
    h.scheduler.start();
    h.queue.enqueue(job(h.threadId));
    await h.settle();
    h.clock.advance(29_999);
    await h.settle();
    expect(attempts).toBe(1);
    h.clock.advance(1);
    await h.settle();
    expect(attempts).toBe(2);
  });

  it("fails at once on a non-retryable error with its message", async () => {
    h = await queueHarness({ groupCommit: gc });
    h.setBehaviour(async () => {
      throw new HermesError("BACKEND_ERROR", "model not found: llama9", { retryable: false });
    });
    h.scheduler.start();
    const j = h.queue.enqueue(job(h.threadId));
    await h.settle();
    expect(h.repo.get(j.id)?.status).toBe("failed");
    expect(h.repo.get(j.id)?.error_message).toBe("model not found: llama9");
    expect(h.calls).toHaveLength(1);
  });

  it("gives up when max_retry_duration has passed", async () => {
    h = await queueHarness({
      retry: { baseDelayMs: 1000, maxDelayMs: 60_000, maxRetryDurationMs: 10 * 60_000 },
    });
    h.setBehaviour(async () => {
      throw h?.unavailable();
    });
    h.scheduler.start();
    const j = h.queue.enqueue(job(h.threadId));
    for (let i = 0; i < 40 && h.repo.get(j.id)?.status !== "failed"; i++) {
      await h.settle();
      h.clock.advance(60_000);
    }
    await h.settle();
    const row = h.repo.get(j.id);
    expect(row?.status).toBe("failed");
    expect(row?.error_message).toMatch(/max_retry_duration/);
    expect(h.seen.at(-1)?.type).toBe("failed");
  });

  it("keeps a job through an hour-long outage and completes it when the backend returns", async () => {
    h = await queueHarness({
      retry: { baseDelayMs: 1000, maxDelayMs: 60_000, maxRetryDurationMs: 2 * 3_600_000 },
    });
    let up = false;
    h.setBehaviour(async () => {
      if (!up) throw h?.unavailable();
      return ok("back");
    });
    h.scheduler.start();
    const j = h.queue.enqueue(job(h.threadId));
    for (let minute = 0; minute < 60; minute++) {
      await h.settle();
      h.clock.advance(60_000);
    }
    await h.settle();
    expect(h.repo.get(j.id)?.status).toBe("retrying");
    const attemptsDuringOutage = h.calls.length;
    // Capped backoff: about one attempt a minute, not a storm.
    expect(attemptsDuringOutage).toBeLessThan(75);
    up = true;
    h.queue.backendRecovered();
    await h.settle();
    expect(h.repo.get(j.id)?.status).toBe("completed");
  });

  it("cancels a running job: its signal fires and it is never run again", async () => {
    h = await queueHarness({ groupCommit: gc });
    let aborted = false;
    h.setBehaviour(
      (ctx) =>
        new Promise((_, reject) => {
          ctx.signal.addEventListener("abort", () => {
            aborted = true;
            reject(ctx.signal.reason);
          });
        }),
    );
    h.scheduler.start();
    const j = h.queue.enqueue(job(h.threadId));
    const dependent = h.queue.enqueue(job(h.threadId, { dependencies: [j.id] }));
    await h.settle();
    expect(h.scheduler.isRunning(j.id)).toBe(true);
    const ids = h.queue.cancel(j.id, "user said stop");
    expect(aborted).toBe(true);
    expect(ids).toEqual([j.id, dependent.id]);
    await h.settle();
    expect(h.repo.get(j.id)?.status).toBe("cancelled");
    expect(h.repo.get(dependent.id)?.status).toBe("cancelled");
    h.clock.advance(3_600_000);
    await h.settle();
    expect(h.calls).toEqual([j.id]);
  });

  it("rejects a completion arriving under a stale lease", async () => {
    h = await queueHarness({ groupCommit: gc });
    const j = h.queue.enqueue(job(h.threadId));
    const claimed = h.repo.claimNext(h.clock.now(), "old-process", 6000);
    expect(claimed?.id).toBe(j.id);
    // The old process dies; its lease runs out and the job is claimed again by a new attempt.
    h.clock.advance(7000);
    expect(h.repo.recoverExpired(h.clock.now())).toBe(1);
    const again = h.repo.claimNext(h.clock.now(), "new-process", 6000);
    expect(again?.attempt).toBe((claimed?.attempt ?? 0) + 1);
    const fields = {
      fullResult: "late",
      resultSummary: "late",
      backendUsed: "b",
      modelUsed: "m",
      costCents: 0,
      executionSeconds: 1,
      processingSeconds: 1,
      queueSeconds: 0,
    };
    expect(h.repo.complete(j.id, claimed?.attempt ?? 0, fields, h.clock.now())).toBe(false);
    expect(
      h.repo.complete(j.id, again?.attempt ?? 0, { ...fields, fullResult: "fresh" }, h.clock.now()),
    ).toBe(true);
    expect(h.repo.get(j.id)?.full_result).toBe("fresh");
  });

  it("puts running jobs back in the queue on stop, and a new scheduler runs them", async () => {
    h = await queueHarness({ groupCommit: gc });
    h.setBehaviour(
      (ctx) =>
        new Promise((_, reject) => ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason))),
    );
    h.scheduler.start();
    const j = h.queue.enqueue(job(h.threadId));
    await h.settle();
    const stopped = h.scheduler.stop(1000);
    h.clock.advance(1000);
    await stopped;
    expect(h.repo.get(j.id)?.status).toBe("queued");
  });

  it("refuses a job beyond max_queued_jobs with QUEUE_FULL", async () => {
    h = await queueHarness({ groupCommit: gc, maxQueued: 2 });
    h.queue.enqueue(job(h.threadId));
    h.queue.enqueue(job(h.threadId));
    expect(() => h?.queue.enqueue(job(h.threadId))).toThrowError(
      expect.objectContaining({ code: "QUEUE_FULL" }),
    );
  });

  it("rejects a priority outside 1–10", async () => {
    h = await queueHarness({ groupCommit: gc });
    expect(() => h?.queue.enqueue(job(h.threadId, { priority: 11 }))).toThrowError(
      expect.objectContaining({ code: "INVALID_INPUT" }),
    );
  });
});

describe("crash recovery at start", () => {
  it("requeues at once a job whose owner process on this host is gone; a live owner's job waits for its lease", async () => {
    const { hostname } = await import("node:os");
    const { spawnSync } = await import("node:child_process");
    // A pid that certainly existed and is now gone: a child that already exited.
    const deadPid = spawnSync(process.execPath, ["-e", "0"]).pid;
    h = await queueHarness();
    const orphan = h.queue.enqueue(job(h.threadId));
    const alive = h.queue.enqueue(job(h.threadId));
    h.repo.claimNext(h.clock.now(), `${hostname()}:${deadPid}:dead`, 6000);
    h.repo.claimNext(h.clock.now(), `${hostname()}:${process.ppid}:alive`, 6000);
    h.scheduler.start();
    await h.settle();
    expect(h.repo.get(orphan.id)?.status).toBe("completed");
    expect(h.repo.get(alive.id)?.status).toBe("running");
    // The lease (6 s) runs out; the sweep (every 3 s) finds it within 1.5 × the lease.
    h.clock.advance(9001);
    await h.settle();
    expect(h.repo.get(alive.id)?.status).toBe("completed");
  });
});

// A submitted idea's job is claimed inside the transaction that inserts it (JobQueue.enqueueWith →
// Scheduler.claimInEnqueue, in the turn's group commit), so the claim costs no commit of its own;
// the job is launched a microtask after that commit, as the pump an enqueue used to wake would have.

const draft = (threadId: number) => () => ({ threadId, jobType: "creation", priority: 5 });

/** Nothing of a lost submit was kept, and its slot is free: the next idea's job runs. */
async function expectNothingKeptAndSlotFree(h: H): Promise<void> {
  expect(h.db.sqlite.prepare("SELECT count(*) FROM jobs").pluck().get()).toBe(0);
  const next = await h.queue.enqueueWith(draft(h.threadId));
  await h.settle();
  expect(h.calls).toEqual([next.id]);
}

describe("a job claimed in its enqueue's transaction", () => {
  it("is claimed inside that transaction, running once the enqueue resolves, and runs once", async () => {
    h = await queueHarness({ groupCommit: true, capacity: 2 });
    h.scheduler.start();
    const claims: { inTransaction: boolean; ids: number[] }[] = [];
    const claimMany = h.repo.claimMany.bind(h.repo);
    h.repo.claimMany = (...args) => {
      const inTransaction = h?.db.sqlite.inTransaction ?? false;
      const jobs = claimMany(...args);
      if (jobs.length > 0) claims.push({ inTransaction, ids: jobs.map((j) => j.id) });
      return jobs;
    };
    const job = await h.queue.enqueueWith(draft(h.threadId));
    expect(h.repo.get(job.id)).toMatchObject({ status: "running", attempt: 1 });
    expect(claims).toEqual([{ inTransaction: true, ids: [job.id] }]);
    await h.settle();
    expect(h.calls).toEqual([job.id]);
    expect(h.seen.map((e) => e.type)).toEqual(["queued", "started", "completed"]);
  });

  it("holds its slot from the claim: a second enqueue in the same group waits for it", async () => {
    h = await queueHarness({ groupCommit: true, capacity: 1 });
    let running = 0;
    let most = 0;
    h.setBehaviour(async (): Promise<DispatchOutcome> => {
      most = Math.max(most, ++running);
      await new Promise((r) => setImmediate(r));
      running--;
      return ok();
    });
    h.scheduler.start();
    const [first, second] = await Promise.all([
      h.queue.enqueueWith(draft(h.threadId)),
      h.queue.enqueueWith(draft(h.threadId)),
    ]);
    expect(h.repo.get(second.id)?.status).toBe("queued");
    await h.settle(40);
    expect(h.calls).toEqual([first.id, second.id]);
    expect(most).toBe(1);
    expect(h.repo.get(second.id)?.status).toBe("completed");
  });

  it("when the claim fails, the idea is still accepted and the pump runs its job", async () => {
    h = await queueHarness({ groupCommit: true, capacity: 1 });
    h.scheduler.start();
    const claimMany = h.repo.claimMany.bind(h.repo);
    let failures = 0;
    h.repo.claimMany = (...args) => {
      if (failures++ === 0) throw new Error("SQLITE_BUSY: database is locked");
      return claimMany(...args);
    };
    const job = await h.queue.enqueueWith(draft(h.threadId));
    await h.settle();
    expect(h.calls).toEqual([job.id]);
    expect(h.repo.get(job.id)?.status).toBe("completed");
  });

  it("gives its slot back when the group's transaction is lost", async () => {
    h = await queueHarness({ groupCommit: true, capacity: 1 });
    h.scheduler.start();
    const sqlite = h.db.sqlite;
    const lost = h.queue.enqueueWith(draft(h.threadId));
    // A write of the same group whose failure ends the transaction (as a full disk can).
    const failing = GroupCommit.of(sqlite).run(() => {
      sqlite.exec("ROLLBACK");
      throw new Error("SQLITE_FULL: database or disk is full");
    });
    await expect(lost).rejects.toThrow(/SQLITE_FULL/);
    await expect(failing).rejects.toThrow(/SQLITE_FULL/);
    await expectNothingKeptAndSlotFree(h);
  });

  it("a claim that loses the transaction fails the submit with its own error, and holds no slot", async () => {
    h = await queueHarness({ groupCommit: true, capacity: 1 });
    h.scheduler.start();
    await h.settle(); // the start's pump has run
    const sqlite = h.db.sqlite;
    const claimMany = h.repo.claimMany.bind(h.repo);
    let calls = 0;
    h.repo.claimMany = (...args) => {
      if (calls++ > 0) return claimMany(...args);
      sqlite.exec("ROLLBACK"); // as SQLite does on some full-disk errors
      throw Object.assign(new Error("database or disk is full"), { code: "SQLITE_FULL" });
    };
    await expect(h.queue.enqueueWith(draft(h.threadId))).rejects.toMatchObject({ code: "SQLITE_FULL" });
    await expectNothingKeptAndSlotFree(h);
  });

  it("is not launched when cancelled between its commit and its launch", async () => {
    h = await queueHarness({ groupCommit: true, capacity: 1 });
    h.scheduler.start();
    // Cancelled as it is announced: after its commit, before its launch.
    h.events.subscribe((e) => {
      if (e.type === "queued") h?.queue.cancel(e.job.id);
    });
    const job = await h.queue.enqueueWith(draft(h.threadId));
    await h.settle();
    expect(h.calls).toEqual([]);
    expect(h.repo.get(job.id)?.status).toBe("cancelled");
    expect(h.seen.map((e) => e.type)).toEqual(["queued", "cancelled"]);
    expect(h.scheduler.runningCount()).toBe(0);
  });

  it("is put back in the queue, not run, when Hermes stops before it is launched", async () => {
    h = await queueHarness({ groupCommit: true, capacity: 1 });
    h.scheduler.start();
    // Stopping as the job is announced: after its commit, before its launch.
    h.events.subscribe((e) => {
      if (e.type === "queued") void h?.scheduler.stop(0);
    });
    const job = await h.queue.enqueueWith(draft(h.threadId));
    await h.settle();
    expect(h.calls).toEqual([]);
    expect(h.repo.get(job.id)).toMatchObject({ status: "queued", lease_owner: null });
  });
});
