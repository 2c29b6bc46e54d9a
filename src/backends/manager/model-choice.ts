import type { Entry, ExecuteRequest } from "./types.ts";

/**
 * Which model one backend runs for one job. A job carries its kind of work (draft, refine,
 * rewrite…) and a model only when the user pinned one; every other choice belongs to the backend.
 * So on failover each backend runs its own model for the work — a remote API is never asked for
 * the local default (it has no price there, and would not be billed as configured).
 *
 *   1. the pinned model, when the job has one (decide.ts keeps it off backends that do not serve it)
 *   2. the backend's model for this kind of work (`backend.<name>.work_models`, e.g. "refine=gpt-5")
 *   3. the backend's default model
 *   4. a free backend whose configured model is not installed takes a warm, then any installed one;
 *      a paid backend never swaps in a model from its list: what is configured is what is priced
 */
export function modelFor(
  entry: Entry,
  req: Pick<ExecuteRequest, "model" | "work">,
  workModels: ReadonlyMap<string, string>,
): string {
  if (req.model) return req.model;
  const own = (req.work !== undefined ? workModels.get(req.work) : undefined) || entry.settings.defaultModel;
  if (!entry.backend.local) return own || (entry.models[0] ?? "");
  if (own && (entry.models.length === 0 || entry.models.includes(own))) return own;
  return entry.warmModels[0] ?? entry.models[0] ?? own;
}

/** `work=model` items of `backend.<name>.work_models` as a map; items without both halves are skipped. */
export function parseWorkModels(items: readonly string[]): Map<string, string> {
  const map = new Map<string, string>();
  for (const item of items) {
    const eq = item.indexOf("=");
    const work = item.slice(0, eq).trim();
    const model = item.slice(eq + 1).trim();
    if (eq > 0 && work !== "" && model !== "") map.set(work, model);
  }
  return map;
}
