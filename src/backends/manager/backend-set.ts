import PQueue from "p-queue";
import { HermesError } from "../../errors.ts";
import type { Backend } from "../backend.ts";
import type { BackendDefinition } from "../ports.ts";
import { isBackendKeyEnv } from "../secret-env.ts";
import { CircuitBreaker } from "./circuit-breaker.ts";
import type { ManagerCore } from "./core.ts";
import { checkOne, scheduleHealth } from "./health.ts";
import type { HealthTrack } from "./health-state.ts";
import type { BackendSettings, BackendStatus, Entry } from "./types.ts";

/** The manager's table of backends: adding, changing, enabling them, and reporting their status. */

export function register(
  core: ManagerCore,
  backend: Backend,
  settings: BackendSettings,
  definition?: BackendDefinition,
): void {
  const previous = core.entry(backend.name);
  if (previous?.timer) core.clearTimer(previous.timer);
  const def = definition ?? definitionOf(backend, settings);
  const entry: Entry = {
    backend,
    settings,
    definition: def,
    breaker: previous && previous.backend === backend ? previous.breaker : new CircuitBreaker(),
    slots: slotsFor(settings),
    models: settings.models ?? [],
    warmModels: [],
    coolUntilMs: 0,
    stalled: false,
    order: previous?.order ?? core.nextOrder(),
    timer: undefined,
  };
  core.setEntry(entry);
  if (core.running()) void scheduleHealth(core, entry, 0);
}

/**
 * Adds a backend or changes one at runtime (API, /backends). A new backend needs the full
 * definition and a `factory`; for an existing one any subset of fields changes. Persisted through
 * the registry port. Returns the backend's status.
 */
export function upsert(
  core: ManagerCore,
  change: Partial<BackendDefinition> & { name: string },
): BackendStatus {
  const existing = core.entry(change.name);
  const def = existing ? changedDefinition(existing.definition, change) : newDefinition(change);
  if (existing) keepComponentSecretHome(existing.definition, def);
  if (existing && !needsRebuild(existing.definition, def)) {
    existing.definition = def;
    existing.settings = settingsOf(def);
    existing.slots.concurrency = Math.max(1, def.concurrency);
    if (def.models.length > 0) existing.models = def.models;
  } else {
    const backend = core.buildBackend(def);
    if (!backend) {
      throw new HermesError("INVALID_INPUT", "Backends cannot be built at runtime here (no factory).");
    }
    register(core, backend, settingsOf(def), def);
  }
  core.saveDefinition(def);
  if (change.enabled !== undefined) core.saveEnabled(def.name, def.enabled);
  return statusOf(core, core.entry(def.name) as Entry);
}

function changedDefinition(
  current: BackendDefinition,
  change: Partial<BackendDefinition> & { name: string },
): BackendDefinition {
  return { ...current, ...stripUndefined(change), name: change.name, origin: current.origin };
}

/** A backend added at runtime: defaults for everything the change does not say. */
function newDefinition(change: Partial<BackendDefinition> & { name: string }): BackendDefinition {
  if (!change.url || !change.provider) {
    throw new HermesError(
      "INVALID_INPUT",
      `A new backend needs at least a url and a provider (${change.name}).`,
    );
  }
  return {
    type: "custom",
    enabled: true,
    primary: false,
    free: false,
    models: [],
    defaultModel: change.models?.[0] ?? "",
    concurrency: 1,
    timeoutMs: 300_000,
    healthIntervalMs: undefined,
    ratePerMinute: undefined,
    preferredFor: [],
    fallbacks: [],
    secretEnv: undefined,
    ...stripUndefined(change),
    name: change.name,
    url: change.url,
    provider: change.provider,
    origin: "runtime",
  };
}

/** Changes to where or how the backend is called need a new Backend object; the rest is settings. */
function needsRebuild(before: BackendDefinition, after: BackendDefinition): boolean {
  return (
    before.url !== after.url ||
    before.provider !== after.provider ||
    before.secretEnv !== after.secretEnv ||
    before.timeoutMs !== after.timeoutMs ||
    before.free !== after.free
  );
}

/**
 * A configured backend that carries another component's secret (Talos and TALOS_TOKEN) keeps the
 * URL its configuration gives: moving it at runtime would send that token to the new address.
 */
function keepComponentSecretHome(before: BackendDefinition, after: BackendDefinition): void {
  const secretEnv = before.secretEnv;
  if (!secretEnv || isBackendKeyEnv(secretEnv)) return;
  if (before.url === after.url && before.provider === after.provider && before.secretEnv === after.secretEnv)
    return;
  throw new HermesError(
    "INVALID_INPUT",
    `${before.name} sends ${secretEnv}; its URL, provider and key come from the configuration.`,
    { details: "url", userAction: "Change them in the environment and restart Hermes." },
  );
}

/** Turns a backend on or off at runtime; persisted, and survives a restart. */
export function setEnabled(core: ManagerCore, name: string, enabled: boolean): BackendStatus {
  const entry = core.entry(name);
  if (!entry) {
    throw new HermesError("NOT_FOUND", `There is no backend called ${name}.`, {
      userAction: `Known backends: ${core.names().join(", ") || "none"}.`,
    });
  }
  entry.settings = { ...entry.settings, enabled };
  entry.definition = { ...entry.definition, enabled };
  core.saveEnabled(name, enabled);
  if (enabled && core.running()) void checkOne(core, entry);
  return statusOf(core, entry);
}

export function statusOf(core: ManagerCore, e: Entry): BackendStatus {
  const h: HealthTrack = e.breaker.health;
  return {
    name: e.backend.name,
    kind: e.backend.kind,
    type: e.settings.type ?? (e.backend.local ? "local" : "remote_api"),
    local: e.backend.local,
    free: e.backend.local,
    enabled: e.settings.enabled,
    primary: e.settings.primary === true,
    location: e.settings.location,
    defaultModel: e.settings.defaultModel,
    health: h.status,
    circuit: e.breaker.stateAt(core.now(), core.healthIntervalOf(e)),
    consecutiveFailures: h.consecutiveFailures,
    lastCheck: h.lastCheckMs === undefined ? undefined : new Date(h.lastCheckMs).toISOString(),
    lastError: h.lastError,
    latencyMs: h.latencyMs,
    running: e.slots.pending,
    concurrency: e.slots.concurrency,
    availableModels: e.models,
    preferredFor: e.settings.preferredFor ?? [],
    fallbacks: e.settings.fallbacks ?? [],
  };
}

function slotsFor(settings: BackendSettings): PQueue {
  const concurrency = Math.max(1, settings.concurrency);
  if (settings.ratePerMinute !== undefined && settings.ratePerMinute > 0) {
    return new PQueue({ concurrency, intervalCap: Math.trunc(settings.ratePerMinute), interval: 60_000 });
  }
  return new PQueue({ concurrency });
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export function settingsOf(def: BackendDefinition): BackendSettings {
  return {
    defaultModel: def.defaultModel,
    concurrency: def.concurrency,
    enabled: def.enabled,
    location: def.url,
    type: def.type,
    models: def.models,
    timeoutMs: def.timeoutMs,
    healthIntervalMs: def.healthIntervalMs,
    ratePerMinute: def.ratePerMinute,
    preferredFor: def.preferredFor,
    fallbacks: def.fallbacks,
    primary: def.primary,
  };
}

function definitionOf(backend: Backend, s: BackendSettings): BackendDefinition {
  return {
    name: backend.name,
    type: s.type ?? (backend.local ? "local" : "remote_api"),
    provider: backend.kind === "openai" ? "custom" : backend.kind,
    url: s.location,
    enabled: s.enabled,
    primary: s.primary === true,
    free: backend.local,
    models: s.models ?? [],
    defaultModel: s.defaultModel,
    concurrency: s.concurrency,
    timeoutMs: s.timeoutMs ?? 300_000,
    healthIntervalMs: s.healthIntervalMs,
    ratePerMinute: s.ratePerMinute,
    preferredFor: s.preferredFor ?? [],
    fallbacks: s.fallbacks ?? [],
    secretEnv: undefined,
    origin: "config",
  };
}
