/**
 * How settings are grouped for browsing (Telegram's /config), and which seeded settings nothing in
 * this Hermes reads. Grouping is by key prefix, so a key added to the registry lands in a category
 * without touching this file; a key no prefix claims goes to "other". Category ids travel in
 * callback data (64 bytes): a backend's is "b.<name>", and names are at most 40 characters.
 */

export interface SettingsCategory {
  /** Short and stable: it travels in callback data. */
  id: string;
  title: string;
  /** Key prefixes of this category, the longest match wins. */
  prefixes: readonly string[];
}

export const CATEGORIES: readonly SettingsCategory[] = [
  { id: "ideas", title: "Ideas and learning", prefixes: ["hermes.learning.", "hermes.classification."] },
  { id: "limits", title: "Limits and guests", prefixes: ["hermes.web.", "hermes.guests."] },
  {
    id: "select",
    title: "Backend choice",
    prefixes: ["hermes.backends.", "hermes.selection.", "hermes.execution."],
  },
  { id: "local", title: "Local models and Talos", prefixes: ["talos.", "hermes.talos."] },
  { id: "budget", title: "Budget", prefixes: ["hermes.budget.", "hermes.projects."] },
  { id: "alerts", title: "Alerts", prefixes: ["hermes.notifications."] },
  { id: "data", title: "Database, backups, logs", prefixes: ["hermes.db.", "hermes.logs."] },
  { id: "api", title: "HTTP API and callbacks", prefixes: ["hermes.api."] },
  { id: "other", title: "Other", prefixes: ["hermes.workflow.", "hermes.debug."] },
];

const BACKEND_KEY = /^backend\.([A-Za-z0-9_-]+)\.[a-z_]+$/;

/**
 * The category of a key: each backend's `backend.<name>.*` keys are one category ("b.<name>");
 * else the one with the longest matching prefix, else "other".
 */
export function categoryOf(key: string): SettingsCategory {
  const backend = BACKEND_KEY.exec(key)?.[1];
  if (backend !== undefined) {
    return { id: `b.${backend}`, title: `Backend ${backend}`, prefixes: [`backend.${backend}.`] };
  }
  let best: SettingsCategory | undefined;
  let bestLength = -1;
  for (const c of CATEGORIES) {
    for (const p of c.prefixes) {
      if (key.startsWith(p) && p.length > bestLength) {
        best = c;
        bestLength = p.length;
      }
    }
  }
  return best ?? (CATEGORIES.find((c) => c.id === "other") as SettingsCategory);
}

/**
 * Seeded from the spec but read by nothing in Hermes (no feature uses them yet, or they describe
 * the Talos machine, which has its own configuration). Shown as such so that no one believes
 * changing them changes anything. test/engine/settings.test.ts checks the source never reads them.
 */
export const UNUSED_KEYS: ReadonlySet<string> = new Set([
  "hermes.web.session_timeout_hours",
  "hermes.talos.tailscale_ip",
  "hermes.talos.tailscale_port",
  "hermes.talos.connection_timeout",
  "hermes.budget.cost_tracking_enabled",
  "hermes.execution.local_retry_attempts",
  "hermes.projects.default_project_cents",
  "hermes.classification.pattern_threshold",
  "hermes.workflow.max_steps",
  "hermes.workflow.timeout_minutes",
  "hermes.workflow.enable_dependencies",
  "hermes.debug.mode",
  "hermes.debug.verbose_logging",
  "hermes.debug.performance_monitoring",
  "talos.models.local_models",
  "talos.models.code_model",
  "talos.ollama.host",
  "talos.execution.max_retry_attempts",
  "talos.logs.base_path",
  "talos.logs.retention_days",
  "talos.logs.performance_logging",
  "talos.logs.full_result_storage",
  "talos.system.max_memory_usage_percent",
  "talos.system.max_cpu_usage_percent",
  "talos.system.available_ram_gb",
  "talos.system.available_storage_tb",
]);
