import { toHermesError } from "../../errors.ts";
import type { HealthState } from "../backend.ts";
import type { ManagerCore } from "./core.ts";
import type { Entry } from "./types.ts";

/** Health of the manager's backends: periodic checks per backend, and the breaker's bookkeeping. */

export async function checkAll(core: ManagerCore): Promise<void> {
  await Promise.all([...core.allEntries()].filter((e) => e.settings.enabled).map((e) => checkOne(core, e)));
}

/** Schedules an entry's checks; with no delay, the returned promise settles after the first one. */
export function scheduleHealth(core: ManagerCore, entry: Entry, delayMs: number): Promise<void> {
  const run = (): Promise<void> => {
    entry.timer = undefined;
    if (!core.isCurrent(entry)) return Promise.resolve();
    const check = entry.settings.enabled ? checkOne(core, entry) : Promise.resolve();
    return check.finally(() => {
      if (!core.isCurrent(entry)) return;
      entry.timer = core.setTimer(run, core.healthIntervalOf(entry));
    });
  };
  if (delayMs <= 0) return run();
  entry.timer = core.setTimer(run, delayMs);
  return Promise.resolve();
}

export async function checkOne(core: ManagerCore, entry: Entry): Promise<void> {
  const signal = AbortSignal.timeout(core.healthTimeoutMs());
  try {
    const report = await entry.backend.health(signal);
    if (report.status === "unhealthy") {
      markFailure(core, entry, report.detail ?? "health check failed");
      return;
    }
    if (report.warmModels) entry.warmModels = report.warmModels;
    try {
      const listed = (await entry.backend.models(signal)).map((m) => m.name);
      if (listed.length > 0) entry.models = listed;
    } catch {
      // A model list is a nicety; reachability is what matters here.
    }
    // Reachable is not working when its last real call hung: only a real call (the breaker's
    // half-open probe) clears a stall, so the failures it counted stand.
    if (entry.stalled) return;
    markSuccess(core, entry, report.latencyMs, report.status === "degraded" ? "degraded" : "healthy");
  } catch (thrown) {
    markFailure(core, entry, toHermesError(thrown).message);
  }
}

/**
 * A health check's result is always recorded (backends row + a system_health row); a successful
 * call only when it changed the state, so the hot path does not write health on every job.
 */
export function markSuccess(
  core: ManagerCore,
  entry: Entry,
  latencyMs: number,
  status: HealthState = "healthy",
  fromCheck = true,
): void {
  const before = entry.breaker.health;
  const wasDown = entry.breaker.success(core.now(), latencyMs, status);
  if (fromCheck || before.status !== status || before.consecutiveFailures !== 0)
    core.recordHealth(entry.backend.name, entry.breaker.health);
  if (wasDown) core.recovered(entry.backend.name);
}

export function markFailure(core: ManagerCore, entry: Entry, error: string): void {
  const opened = entry.breaker.failure(core.now(), error);
  core.recordHealth(entry.backend.name, entry.breaker.health);
  if (opened) core.becameUnhealthy(entry.backend.name, error);
}
