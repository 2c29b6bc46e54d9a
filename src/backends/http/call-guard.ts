/** What happened to one call besides its error: did *we* stop it, and had the answer begun? */
export interface CallState {
  cancelled: boolean;
  timedOut: boolean;
  timeoutMs: number;
  /** Response headers arrived; a broken connection after this is a failed answer, not a dead host. */
  responseStarted: boolean;
}

/**
 * Joins the caller's AbortSignal and a deadline counted from the start of the call into one signal
 * for the transport, remembering which of the two fired (CANCELLED vs TIMEOUT; a caller signal that
 * aborts with a TimeoutError, like AbortSignal.timeout(), counts as TIMEOUT too). `race` settles the
 * moment either fires, so a call stops at once whatever its library is still doing.
 */
export class CallGuard {
  readonly state: CallState;
  readonly signal: AbortSignal;
  readonly #controller = new AbortController();
  readonly #aborted: Promise<never>;
  readonly #started = performance.now();
  readonly #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #outer: AbortSignal | undefined;
  readonly #onOuterAbort = () => {
    if (!isTimeoutReason(this.#outer?.reason)) return this.#stop("cancelled");
    this.state.timeoutMs = Math.round(performance.now() - this.#started); // the caller's deadline
    this.#stop("timedOut");
  };
  #reject!: (e: unknown) => void;

  constructor(outer: AbortSignal | undefined, timeoutMs: number) {
    this.state = { cancelled: false, timedOut: false, timeoutMs, responseStarted: false };
    this.signal = this.#controller.signal;
    this.#aborted = new Promise<never>((_, reject) => {
      this.#reject = reject;
    });
    this.#aborted.catch(() => {}); // observed through race(); never an unhandled rejection
    this.#outer = outer;
    if (outer?.aborted) this.#onOuterAbort();
    else outer?.addEventListener("abort", this.#onOuterAbort, { once: true });
    if (!this.signal.aborted && Number.isFinite(timeoutMs) && timeoutMs > 0) {
      this.#timer = setTimeout(() => this.#stop("timedOut"), timeoutMs);
    }
  }

  #stop(why: "cancelled" | "timedOut"): void {
    if (this.#controller.signal.aborted) return;
    this.state[why] = true;
    const reason = new DOMException(why === "cancelled" ? "cancelled" : "timed out", "AbortError");
    this.#controller.abort(reason);
    this.#reject(reason);
  }

  /** Resolves with `work`, or rejects as soon as the call is aborted or times out. */
  race<T>(work: Promise<T>): Promise<T> {
    return Promise.race([work, this.#aborted]);
  }

  /**
   * Reports progress unless the call is over. Progress is a best-effort preview: a listener that
   * throws must neither fail the run nor be blamed on the backend, so its error is dropped here.
   */
  progress<P>(onProgress: ((p: P) => void) | undefined, p: P): void {
    if (!onProgress || this.signal.aborted) return;
    try {
      onProgress(p);
    } catch {
      // the listener's owner logs its own failures
    }
  }

  dispose(): void {
    clearTimeout(this.#timer);
    this.#outer?.removeEventListener("abort", this.#onOuterAbort);
  }
}

function isTimeoutReason(reason: unknown): boolean {
  return (
    typeof reason === "object" && reason !== null && (reason as { name?: unknown }).name === "TimeoutError"
  );
}
