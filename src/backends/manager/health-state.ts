import type { HealthState } from "../backend.ts";

/**
 * Consecutive failures move a backend healthy → degraded → unhealthy. Unhealthy is an open circuit:
 * no work is sent until a probe (the periodic health check) succeeds — the half-open step.
 */
const DEGRADED_AFTER = 1;
export const UNHEALTHY_AFTER = 3;

export interface HealthTrack {
  status: HealthState;
  consecutiveFailures: number;
  lastCheckMs: number | undefined;
  lastError: string | undefined;
  latencyMs: number | undefined;
}

export function initialHealth(): HealthTrack {
  return {
    status: "unknown",
    consecutiveFailures: 0,
    lastCheckMs: undefined,
    lastError: undefined,
    latencyMs: undefined,
  };
}

export function recordSuccess(
  nowMs: number,
  latencyMs: number,
  status: HealthState = "healthy",
): HealthTrack {
  return { status, consecutiveFailures: 0, lastCheckMs: nowMs, lastError: undefined, latencyMs };
}

export function recordFailure(h: HealthTrack, nowMs: number, error: string): HealthTrack {
  const failures = h.consecutiveFailures + 1;
  const status: HealthState =
    failures >= UNHEALTHY_AFTER ? "unhealthy" : failures >= DEGRADED_AFTER ? "degraded" : h.status;
  return {
    status,
    consecutiveFailures: failures,
    lastCheckMs: nowMs,
    lastError: error,
    latencyMs: h.latencyMs,
  };
}
