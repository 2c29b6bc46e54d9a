/**
 * One backend's circuit breaker over the health track of ./health-state.ts:
 *
 *   closed ──(UNHEALTHY_AFTER consecutive failures)──► open ──(cooldown passed)──► half_open
 *     ▲                                                 ▲                              │
 *     └──────────── a probe or health check succeeds ───┼────── the probe fails ───────┘
 *
 * Closed lets work through (healthy, or degraded after a failure or two). Open lets nothing through.
 * Half-open lets exactly one real call through as a probe; the periodic health check is a probe too
 * and closes the circuit when it succeeds. Time comes from the caller (an injected clock).
 */
import type { HealthState } from "../backend.ts";
import { type HealthTrack, initialHealth, recordFailure, recordSuccess } from "./health-state.ts";

export type CircuitState = "closed" | "open" | "half_open";

/** What the breaker says about one more call now. */
export type Admission = "pass" | "probe" | "refuse";

export class CircuitBreaker {
  #health: HealthTrack = initialHealth();
  #state: CircuitState = "closed";
  #openedAtMs = 0;
  #probing = false;

  /** The health track: status, consecutive failures, last check, error and latency. */
  get health(): HealthTrack {
    return this.#health;
  }

  get state(): CircuitState {
    return this.#state;
  }

  /** The state as of `nowMs`: an open circuit whose cooldown has passed reads half-open. */
  stateAt(nowMs: number, cooldownMs: number): CircuitState {
    if (this.#state === "open" && nowMs - this.#openedAtMs >= cooldownMs) return "half_open";
    return this.#state;
  }

  /** Whether a call may go now; "probe" means it is the single half-open trial. */
  admission(nowMs: number, cooldownMs: number): Admission {
    const state = this.stateAt(nowMs, cooldownMs);
    if (state === "closed") return "pass";
    if (state === "half_open" && !this.#probing) return "probe";
    return "refuse";
  }

  /** Takes the half-open slot for a real call; false when another probe holds it. */
  startProbe(nowMs: number, cooldownMs: number): boolean {
    if (this.admission(nowMs, cooldownMs) !== "probe") return false;
    this.#state = "half_open";
    this.#probing = true;
    return true;
  }

  /** A call or health check succeeded. Returns true when the backend was down (degraded/unhealthy) before. */
  success(nowMs: number, latencyMs: number, status: HealthState = "healthy"): boolean {
    const wasDown = this.health.status === "unhealthy" || this.health.status === "degraded";
    this.#health = recordSuccess(nowMs, latencyMs, status);
    this.#state = "closed";
    this.#probing = false;
    return wasDown;
  }

  /** A call or health check failed. Returns true when this failure opened the circuit. */
  failure(nowMs: number, error: string): boolean {
    const wasOpen = this.#state === "open";
    const wasProbe = this.#state === "half_open";
    this.#health = recordFailure(this.#health, nowMs, error);
    this.#probing = false;
    if (wasProbe || this.health.status === "unhealthy") {
      this.#state = "open";
      this.#openedAtMs = nowMs;
    }
    return !wasOpen && !wasProbe && this.#state === "open";
  }

  /** Ends a probe that neither succeeded nor failed (cancelled, budget refusal): the slot frees. */
  abandonProbe(): void {
    if (this.#probing) {
      this.#probing = false;
      this.#state = "open";
    }
  }
}
