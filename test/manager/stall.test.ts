import { describe, expect, it } from "vitest";
import type { RunProgress } from "../../src/backends/backend.ts";
import { HermesError } from "../../src/errors.ts";
import { config, FakeBackend, flush, manager, messages, settings } from "./helpers.ts";

/** The stall watchdog around every backend call, on the manager's ManualClock (any backend kind). */
const job = { jobId: 1, jobType: "creation", work: "draft", messages };
const limits = {
  "hermes.execution.stall_first_token_seconds": 30,
  "hermes.execution.stall_between_tokens_seconds": 60,
};

/** A run that never ends on its own: it settles only when its signal aborts. */
const hang = (_r: unknown, signal: AbortSignal) =>
  new Promise<undefined>((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)));

function setup(cfg: Record<string, number> = limits) {
  const { manager: m, clock } = manager({ config: config(cfg) });
  const talos = new FakeBackend("talos", { kind: "talos" });
  m.register(talos, settings({ type: "local" }));
  return { m, clock, talos };
}

/** Reads a promise's outcome without awaiting it: "pending", its value or its error. */
function settled<T>(p: Promise<T>): () => unknown {
  let out: { v: T } | { e: unknown } | undefined;
  p.then(
    (v) => {
      out = { v };
    },
    (e: unknown) => {
      out = { e };
    },
  );
  return () => {
    if (!out) return "pending";
    return "v" in out ? out.v : out.e;
  };
}

describe("stall watchdog", () => {
  it("nothing before the first token for 30 s: TIMEOUT at 30 s (not before), the call is aborted", async () => {
    const { m, clock, talos } = setup();
    let aborted = false;
    talos.respond((r, signal) => {
      signal.addEventListener("abort", () => {
        aborted = true;
      });
      return hang(r, signal);
    });
    const state = settled(m.execute(job, new AbortController().signal));
    await flush();
    clock.advance(29_999);
    await flush();
    expect(state()).toBe("pending");
    clock.advance(1);
    await flush();
    const error = state() as HermesError;
    expect(error).toBeInstanceOf(HermesError);
    expect(error).toMatchObject({ code: "TIMEOUT", retryable: true });
    expect(error.message).toBe("talos accepted the call but sent nothing for 30 s.");
    expect(aborted).toBe(true);
    expect(m.status()[0]).toMatchObject({ health: "degraded", consecutiveFailures: 1 });
  });

  it("each token restarts the clock; 60 s of silence after one is a TIMEOUT", async () => {
    const { m, clock, talos } = setup();
    let emit: ((p: RunProgress) => void) | undefined;
    talos.respond((r, signal, onProgress) => {
      emit = onProgress;
      return hang(r, signal);
    });
    const seen: RunProgress[] = [];
    const state = settled(m.execute(job, new AbortController().signal, (p) => seen.push(p)));
    await flush();
    clock.advance(29_000);
    emit?.({ tokens: 1, textSoFar: "Dear" });
    clock.advance(59_000);
    emit?.({ tokens: 2, textSoFar: "Dear reader" });
    clock.advance(59_000);
    await flush();
    expect(state()).toBe("pending");
    expect(seen.map((p) => p.tokens)).toEqual([1, 2]);
    clock.advance(1_000);
    await flush();
    expect((state() as HermesError).message).toBe(
      "talos stopped sending in the middle of its answer (nothing for 60 s).",
    );
  });

  it("a between-tokens limit shorter than the first-token one counts from the last token", async () => {
    const { m, clock, talos } = setup({
      "hermes.execution.stall_first_token_seconds": 30,
      "hermes.execution.stall_between_tokens_seconds": 10,
    });
    let emit: ((p: RunProgress) => void) | undefined;
    talos.respond((r, signal, onProgress) => {
      emit = onProgress;
      return hang(r, signal);
    });
    const state = settled(m.execute(job, new AbortController().signal));
    await flush();
    clock.advance(1_000);
    emit?.({ tokens: 1, textSoFar: "Dear" });
    clock.advance(9_999);
    await flush();
    expect(state()).toBe("pending");
    clock.advance(1);
    await flush();
    expect((state() as HermesError).message).toBe(
      "talos stopped sending in the middle of its answer (nothing for 10 s).",
    );
    expect(clock.pendingTimers()).toBe(0);
  });

  it("0 turns a limit off; the job's own cancellation stays CANCELLED", async () => {
    const { m, clock, talos } = setup({
      "hermes.execution.stall_first_token_seconds": 0,
      "hermes.execution.stall_between_tokens_seconds": 0,
    });
    talos.respond(hang);
    const cancel = new AbortController();
    const state = settled(m.execute(job, cancel.signal));
    await flush();
    clock.advance(3_600_000);
    await flush();
    expect(state()).toBe("pending");
    cancel.abort(new Error("cancelled by the user"));
    await flush();
    expect(state()).toMatchObject({ code: "CANCELLED" });
    expect(m.status()[0]).toMatchObject({ consecutiveFailures: 0 });
  });

  it("a call that answers in time leaves no timer behind", async () => {
    const { m, clock } = setup();
    const result = await m.execute(job, new AbortController().signal);
    expect(result.text).toBe("talos says hi");
    expect(clock.pendingTimers()).toBe(0);
  });

  it("a token the stalled call sends late is not shown and sets no new timer", async () => {
    const { m, clock, talos } = setup();
    let emit: ((p: RunProgress) => void) | undefined;
    talos.respond((_r, _signal, onProgress) => {
      emit = onProgress;
      return new Promise<undefined>(() => {}); // ignores its abort signal entirely
    });
    const seen: RunProgress[] = [];
    const state = settled(m.execute(job, new AbortController().signal, (p) => seen.push(p)));
    await flush();
    clock.advance(30_000);
    await flush();
    expect(state()).toMatchObject({ code: "TIMEOUT" });
    emit?.({ tokens: 1, textSoFar: "too late" });
    expect(seen).toEqual([]);
    expect(clock.pendingTimers()).toBe(0);
  });
});
