import type { BackendStatus } from "../backends/manager/types.ts";
import type { RegistryResult } from "../backends/registry/types.ts";
import type { Logger } from "../log.ts";

/**
 * What an operator reads at start: which backends are on, which are off and why, and — once the
 * first health round is in — whether the ones that are on answer, with the command that fixes it.
 * Said at start, not 20 s later as "stopped answering".
 */

type Skipped = RegistryResult["skipped"][number];

/** One line: "backends: ollama on (llama3.1:8b at http://…); gpt5 off: OPENAI_API_KEY is not set; …". */
export function describeBackends(statuses: BackendStatus[], skipped: Skipped[]): string {
  const parts = [
    ...statuses.map((b) =>
      b.enabled
        ? `${b.name} on (${b.defaultModel} at ${b.location})`
        : `${b.name} off: switched off (turn on with /backends enable ${b.name})`,
    ),
    ...skipped.map((s) => `${s.name} off: ${s.reason}`),
  ];
  return `backends: ${parts.join("; ")}`;
}

export function logBackendSummary(log: Logger, statuses: BackendStatus[], skipped: Skipped[]): void {
  const on = statuses.filter((b) => b.enabled).map((b) => b.name);
  const summary = describeBackends(statuses, skipped);
  if (on.length === 0) log.warn({ on }, `${summary}. No backend is on: ideas wait in the queue.`);
  else log.info({ on }, summary);
}

/** The advice for a backend that is on but did not answer its first health check, or undefined. */
export function reachabilityAdvice(b: BackendStatus): string | undefined {
  if (!b.enabled) return undefined;
  const model = b.defaultModel;
  if (b.consecutiveFailures > 0) {
    const why = (b.lastError ?? "no answer").replace(/\.+$/, "");
    if (b.kind === "ollama")
      return `Ollama is not reachable at ${b.location} (${why}). Start it with \`ollama serve\`, then \`ollama pull ${model}\`; ideas wait in the queue until it answers.`;
    if (b.kind === "talos")
      return `Talos is not reachable at ${b.location} (${why}). Start it on its machine with \`npm run talos\` and check Tailscale; ideas wait in the queue.`;
    return `${b.name} is not answering at ${b.location} (${why}); ideas go to other backends or wait.`;
  }
  const hasModel = b.availableModels.length === 0 || b.availableModels.some((m) => sameModel(m, model));
  if (b.kind === "ollama" && !hasModel)
    return `Ollama answers at ${b.location} but has no ${model}: run \`ollama pull ${model}\` (it has ${b.availableModels.join(", ")}).`;
  return undefined;
}

export function logReachability(log: Logger, statuses: BackendStatus[]): void {
  for (const b of statuses) {
    const advice = reachabilityAdvice(b);
    if (advice) log.warn({ backend: b.name }, advice);
    else if (b.enabled) log.info({ backend: b.name, latencyMs: b.latencyMs }, `${b.name} is ready`);
  }
}

/** Ollama lists "llama3.1:8b"; a configured "llama3.1" means its ":latest". */
function sameModel(listed: string, wanted: string): boolean {
  return listed === wanted || listed === `${wanted}:latest`;
}
