import { toHermesError } from "../../errors.ts";
import type { HealthState } from "../backend.ts";
import type { ManagerCore } from "./core.ts";
import { num } from "./policy.ts";
import type { Entry } from "./types.ts";

/** Health of the manager's backends: periodic checks per backend, and the breaker's bookkeeping. */

export async function checkAll(core: ManagerCore): Promise<void> {
  await Promise.all(
    [...core.entries.values()].filter((e) => e.settings.enabled).map((e) => checkOne(core, e)),
  );
}

export function scheduleHealth(core: ManagerCore, entry: Entry, delayMs: number): void {
  const run = () => {
    entry.timer = undefined;
    if (core.stopped || core.entries.get(entry.backend.name) !== entry) return;
    const check = entry.settings.enabled ? checkOne(core, entry) : Promise.resolve();
    void check.finally(() => {
      if (core.stopped || core.entries.get(entry.backend.name) !== entry) return;
      entry.timer = core.o.clock.setTimeout(run, intervalOf(core, entry));
    });
  };
  if (delayMs <= 0) run();
  else entry.timer = core.o.clock.setTimeout(run, delayMs);
}

export async function checkOne(core: ManagerCore, entry: Entry): Promise<void> {
  const signal = AbortSignal.timeout(core.o.healthTimeoutMs ?? 5_000);
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
    markSuccess(core, entry, report.latencyMs, report.status === "degraded" ? "degraded" : "healthy");
  } catch (thrown) {
    markFailure(core, entry, toHermesError(thrown).message);
  }
}

/** Health interval of one backend, read live: backend.<name>.health_interval, else the default. */
export function intervalOf(core: ManagerCore, entry: Entry): number {
  const configured = num(core.o.config, `backend.${entry.backend.name}.health_interval`, Number.NaN);
  if (Number.isFinite(configured) && configured > 0) return configured * 1000;
  if (entry.settings.healthIntervalMs !== undefined) return entry.settings.healthIntervalMs;
  if (core.o.healthIntervalMs) return core.o.healthIntervalMs();
  return Math.max(1, num(core.o.config, "hermes.talos.health_check_interval")) * 1000;
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
  const wasDown = entry.breaker.success(core.o.clock.now(), latencyMs, status);
  if (fromCheck || before.status !== status || before.consecutiveFailures !== 0)
    core.o.stats?.recordHealth(entry.backend.name, entry.breaker.health);
  if (wasDown) core.o.onRecovered?.(entry.backend.name);
}

export function markFailure(core: ManagerCore, entry: Entry, error: string): void {
  const opened = entry.breaker.failure(core.o.clock.now(), error);
  core.o.stats?.recordHealth(entry.backend.name, entry.breaker.health);
  if (opened) core.o.onUnhealthy?.(entry.backend.name, error);
}
