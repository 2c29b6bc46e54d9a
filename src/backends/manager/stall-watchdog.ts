import { HermesError } from "../../errors.ts";
import type { RunProgress } from "../backend.ts";
import type { ManagerCore } from "./core.ts";

/** How long a call may stay silent; 0 = no limit. From hermes.execution.stall_*_seconds. */
export interface StallLimits {
  /** From the start of the call to its first token (a hung server sends no headers at all). */
  firstTokenMs: number;
  /** Between two tokens (a stream that stops mid-answer without closing). */
  betweenTokensMs: number;
}

type Call<T> = (signal: AbortSignal, onProgress: (p: RunProgress) => void) => Promise<T>;

/**
 * Runs one backend call under a watchdog on the manager's (injected) clock, the same for every
 * backend kind: a call that produces nothing for its stall limit is stopped and rejected at once
 * with a retryable TIMEOUT, so the job fails over or is retried and the stall counts against the
 * backend. Without it a server that accepts a request and then hangs held the job until the HTTP
 * client's deadline (minutes; Ollama's own is an hour) while its health probe stayed green.
 */
export async function withStallWatchdog<T>(
  core: TimerCore,
  backend: string,
  limits: StallLimits,
  signal: AbortSignal,
  onProgress: ((p: RunProgress) => void) | undefined,
  call: Call<T>,
): Promise<T> {
  const controller = new AbortController();
  const forward = () => controller.abort(signal.reason);
  if (signal.aborted) forward();
  else signal.addEventListener("abort", forward, { once: true });
  let reject!: (e: HermesError) => void;
  const stalled = new Promise<never>((_, r) => {
    reject = r;
  });
  stalled.catch(() => {}); // observed through the race below
  const timer = stallTimer(core, limits, (ms, first) => {
    const error = stallError(backend, ms, first);
    reject(error); // first, so the race settles with the stall rather than the abort it causes
    controller.abort(error);
  });
  const progress = (p: RunProgress) => {
    if (timer.token()) onProgress?.(p);
  };
  try {
    const work = call(controller.signal, progress);
    work.catch(() => {}); // once stalled, the call's own (abort) failure is expected and dropped
    return await Promise.race([work, stalled]);
  } finally {
    timer.stop();
    signal.removeEventListener("abort", forward);
  }
}

type TimerCore = Pick<ManagerCore, "now" | "setTimer" | "clearTimer">;

/**
 * The watchdog's one timer, moved lazily: a token only notes its time (a stream sends hundreds a
 * second, and clearing and setting a timer for each cost more than the rest of the token's path),
 * and a timer that fires early for the latest token sets itself again for the time left. Once
 * over (answered, failed or stalled), a late token neither re-arms it nor shows.
 */
function stallTimer(core: TimerCore, limits: StallLimits, onStall: (ms: number, first: boolean) => void) {
  let timer: ReturnType<TimerCore["setTimer"]> | undefined;
  let dueAt = Number.POSITIVE_INFINITY;
  const startedAt = core.now();
  let lastTokenAt: number | undefined;
  let over = false;
  const arm = (at: number) => {
    if (timer) core.clearTimer(timer);
    dueAt = at;
    timer = core.setTimer(fire, Math.max(0, at - core.now()));
  };
  const fire = () => {
    timer = undefined;
    dueAt = Number.POSITIVE_INFINITY;
    if (over) return;
    const first = lastTokenAt === undefined;
    const ms = first ? limits.firstTokenMs : limits.betweenTokensMs;
    if (ms <= 0) return;
    const due = (lastTokenAt ?? startedAt) + ms;
    if (due > core.now()) return arm(due);
    over = true;
    onStall(ms, first);
  };
  if (limits.firstTokenMs > 0) arm(startedAt + limits.firstTokenMs);
  return {
    /** A token arrived: false when the call is already over (the token must not show). */
    token(): boolean {
      if (over) return false;
      lastTokenAt = core.now();
      const due = lastTokenAt + limits.betweenTokensMs;
      if (limits.betweenTokensMs > 0 && due < dueAt) arm(due);
      return true;
    },
    stop(): void {
      over = true;
      if (timer) core.clearTimer(timer);
      timer = undefined;
    },
  };
}

const STALLS = new WeakSet<HermesError>();

/** Whether `e` is a stall this watchdog detected (not a deadline or a server's own timeout). */
export function isStall(e: unknown): boolean {
  return e instanceof HermesError && STALLS.has(e);
}

function stallError(backend: string, ms: number, first: boolean): HermesError {
  const s = Math.round(ms / 1000);
  const what = first
    ? `accepted the call but sent nothing for ${s} s`
    : `stopped sending in the middle of its answer (nothing for ${s} s)`;
  const key = first
    ? "hermes.execution.stall_first_token_seconds"
    : "hermes.execution.stall_between_tokens_seconds";
  const error = new HermesError("TIMEOUT", `${backend} ${what}.`, {
    retryable: true,
    details: key,
    userAction: `If ${backend} is only slow (a large model loading, a long prompt), raise ${key}.`,
  });
  STALLS.add(error);
  return error;
}
