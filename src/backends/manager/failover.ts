import { HermesError } from "../../errors.ts";
import type { RejectedBackend } from "../ports.ts";
import type { ManagerCore } from "./core.ts";
import { NONE } from "./core.ts";
import type { ManagerPolicy } from "./policy.ts";
import type { Entry, RejectKind } from "./types.ts";

/** What a person can do when a backend of this kind cannot be reached. */
const ADVICE: Record<string, string> = {
  ollama: "Start Ollama (`ollama serve`) or point OLLAMA_HOST at a running one.",
  talos:
    "Check that Talos is running on its machine (`npm run talos` or pm2) and that TALOS_URL is reachable over Tailscale.",
  openai: "Check the API endpoint's URL and your network; the provider may be down.",
};

const HUNG_ADVICE =
  "Restart the backend that hangs; if it is only slow (a large model loading), raise hermes.execution.stall_first_token_seconds.";

/** After `failed` failed: its own fallbacks, then the global fallback if it is the primary, then the ranking. */
export function nextAfter(
  failed: Entry,
  queue: string[],
  tried: Set<string>,
  policy: ManagerPolicy,
): string | undefined {
  const open = (n: string) => !tried.has(n) && queue.includes(n);
  for (const f of failed.settings.fallbacks ?? NONE) if (open(f)) return f;
  const isPrimary = failed.settings.primary === true || policy.primary === failed.backend.name;
  if (isPrimary && policy.globalFallback !== "" && open(policy.globalFallback)) return policy.globalFallback;
  return queue.find((n) => !tried.has(n));
}

/** The error a job gets when no backend could run it: the most useful reason among the refusals. */
export function finalError(
  core: ManagerCore,
  lastError: HermesError | undefined,
  allUnreachable: boolean,
  attempts: number,
  kinds: Map<string, RejectKind>,
  budgetInFlight: boolean,
  rejected: RejectedBackend[],
): HermesError {
  if (lastError && !allUnreachable) return lastError;
  const why = [...kinds.values()];
  if (attempts > 0 || why.includes("health")) return noneAvailable(core, lastError);
  const reasons = rejected.map((r) => `${r.name}: ${r.reason}`).join("; ");
  if (why.includes("budget")) {
    return new HermesError(
      "BUDGET_EXCEEDED",
      `No backend can take this job within the budget (${reasons}).`,
      {
        retryable: budgetInFlight,
        retryAfter: budgetInFlight ? 30 : undefined,
        userAction:
          "Raise hermes.budget.daily_budget_cents or hermes.budget.project_budget_cents, enable a local backend, or wait until tomorrow (UTC).",
      },
    );
  }
  if (why.includes("price") || why.includes("cost")) {
    return new HermesError(
      "BUDGET_EXCEEDED",
      `Refusing to call a paid backend without a known, allowed cost (${reasons}).`,
      {
        retryable: false,
        userAction:
          'Add the model to hermes.budget.price_table (cents per million tokens, e.g. {"my/model": [50, 150]}) or raise hermes.selection.max_cost_per_job.',
      },
    );
  }
  if (why.includes("model")) {
    return new HermesError("INVALID_INPUT", `No enabled backend has the model it was to run (${reasons}).`, {
      retryable: false,
      // The backend's own advice (e.g. `ollama pull <model>`) is the fix; keep it.
      userAction:
        lastError?.userAction ??
        "Install the model on a backend (`ollama pull <model>`) or pick an installed one.",
    });
  }
  return noneAvailable(core, lastError);
}

/** Every enabled backend is unreachable: say where each is and what to do, per kind. */
function noneAvailable(core: ManagerCore, lastError?: HermesError): HermesError {
  const enabled = [...core.allEntries()].filter((e) => e.settings.enabled);
  if (enabled.length === 0) {
    return new HermesError("BACKEND_UNAVAILABLE", "No backend is enabled.", {
      retryable: false,
      userAction: "Enable a backend (set OLLAMA_HOST, TALOS_URL or an API key) and restart Hermes.",
    });
  }
  const where = (entries: Entry[]) =>
    entries.map((e) => `${e.backend.name} at ${e.settings.location}`).join(", ");
  // A backend whose calls stalled is reachable (its probe answers): say what is true of it.
  const hung = enabled.filter((e) => e.stalled);
  const down = enabled.filter((e) => !e.stalled);
  const message = [
    down.length > 0 ? `Cannot reach ${where(down)}.` : "",
    hung.length > 0 ? `${where(hung)}: calls are accepted but nothing comes back.` : "",
  ]
    .filter((m) => m !== "")
    .join(" ");
  const advice = [...new Set(down.map((e) => ADVICE[e.backend.kind]))];
  if (hung.length > 0) advice.push(HUNG_ADVICE);
  const onlyTalos = enabled.every((e) => e.backend.kind === "talos");
  return new HermesError(onlyTalos ? "TALOS_UNAVAILABLE" : "BACKEND_UNAVAILABLE", message, {
    details: lastError?.message,
    retryable: true,
    userAction: advice.join(" "),
    cause: lastError,
  });
}
