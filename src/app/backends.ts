import { BackendManager } from "../backends/manager/manager.ts";
import type { BackendDefinition } from "../backends/ports.ts";
import { buildBackends, createBackend, secretFor } from "../backends/registry/registry.ts";
import { BudgetRepo } from "../store/backends/budget-repo.ts";
import { BackendsRepo } from "../store/backends/repo.ts";
import { SelectionHistoryRepo } from "../store/backends/selection-history-repo.ts";
import { WriteBatch } from "../store/write-batch.ts";
import type { Foundation } from "./foundation.ts";
import type { HermesOptions } from "./options.ts";
import { logBackendSummary } from "./startup-report.ts";

export interface BackendsPart {
  backends: BackendManager;
  /** Backend statistics and selection history, written once per event-loop turn. */
  writes: WriteBatch;
  /** Set when stop() begins: reports that land later are dropped, not written to a closed database. */
  close(): void;
}

/**
 * The backend manager over the backends from config + environment (Ollama, Talos, OpenRouter,
 * OpenAI, self-hosted) plus those added at runtime and kept in the backends table.
 * `onRecovered` is how the queue learns a backend is back (the queue is built after this).
 */
export function createBackends(
  f: Foundation,
  options: Pick<HermesOptions, "backendFactories">,
  onRecovered: () => void,
): BackendsPart {
  const { config, clock, log, notifier, iso, env } = f;
  let closing = false;
  const store = storePorts(f, () => closing);
  const factories = options.backendFactories;
  const backends: BackendManager = new BackendManager({
    clock,
    config,
    ...store.ports,
    onRecovered: (name) => {
      log.info({ backend: name }, "backend recovered; waiting jobs go now");
      onRecovered();
    },
    factory: (def) => createBackend(def, secretFor(def, env), factories),
    onBudgetAlert: (level, spent, limit) => {
      if (config.bool("hermes.budget.budget_alerts"))
        void notifier.alert(
          "budget",
          String(level),
          `Spent ${spent}¢ of today's ${limit}¢ budget (${level}%).`,
        );
    },
    onUnhealthy: (name, error) => {
      const kind = backends.status().find((b) => b.name === name)?.kind;
      void notifier.alert(
        kind === "talos" ? "talos_down" : "backend_down",
        name,
        `${name} stopped answering: ${error}\nJobs wait in the queue and run when it is back.`,
      );
    },
  });
  const { backends: built, skipped } = buildBackends({ config, env, rows: store.repo.rows(), factories });
  for (const { definition, backend } of built) {
    backends.registerDefinition(definition, backend);
    store.repo.saveDefinition({ ...definition }, iso());
  }
  logBackendSummary(log, backends.status(), skipped);
  return {
    backends,
    writes: store.writes,
    close: () => {
      closing = true;
    },
  };
}

/**
 * Where the manager records health, calls, selections, budget and runtime definitions. Statistics
 * and selection history are written behind (riding with the next job completion's commit, see
 * WriteBatch) and dropped once closing.
 */
function storePorts(f: Foundation, closing: () => boolean) {
  const { database, log, iso, storage, clock } = f;
  const writes = new WriteBatch(
    database.sqlite,
    (err) => {
      storage.report(err, "backend stats");
      log.error({ err: String(err) }, "backend stats write failed");
    },
    { clock },
  );
  const repo = new BackendsRepo(database.sqlite, writes);
  const selectionHistory = new SelectionHistoryRepo(database.sqlite, iso, writes);
  const ports = {
    stats: {
      // Called from the health checks' timers: a failed write (a full disk) is reported, never thrown.
      recordHealth: (name: string, h: Parameters<BackendsRepo["recordHealth"]>[1]) => {
        if (closing()) return;
        try {
          repo.recordHealth(name, h, iso());
          storage.stored("backend health record");
        } catch (error) {
          storage.report(error, "backend health record");
          log.error({ err: String(error), backend: name }, "backend health record failed");
        }
      },
      recordCall: (c: Parameters<BackendsRepo["recordCall"]>[0]) => {
        if (!closing()) repo.recordCall(c, iso());
      },
    },
    scores: { scores: () => repo.scores() },
    history: {
      record: (e: Parameters<SelectionHistoryRepo["record"]>[0]) => {
        if (!closing()) selectionHistory.record(e);
      },
    },
    // Budget reservations are never batched: each is checked and written in one transaction.
    budget: new BudgetRepo(database.sqlite, iso),
    registry: {
      saveDefinition: (d: BackendDefinition) => repo.saveDefinition({ ...d }, iso()),
      saveEnabled: (name: string, enabled: boolean) => repo.setEnabled(name, enabled, iso()),
    },
  };
  return { writes, repo, ports };
}
