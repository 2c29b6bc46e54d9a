import type { ConsensusInfo } from "../backends/manager/types.ts";

/**
 * The line a validated draft starts with (/validate): what was compared — how many answers, from
 * which backends and models, by which method — and how far they agreed. Samples all from one model
 * show that it answers consistently, not that independent models agree; the line says so.
 */
export function consensusNote(c: ConsensusInfo): string {
  const pct = (x: number) => `${Math.round(x * 100)}%`;
  const sources = [...new Set(c.samples.map((s) => `${s.backend}/${s.model}`))];
  const compared =
    sources.length === 1
      ? `${c.succeeded} answers from the same model (${sources[0]}), compared by ${c.method}`
      : `${c.succeeded} answers from ${sources.join(", ")}, compared by ${c.method}`;
  const oneModel =
    sources.length === 1
      ? " Only one model was available, so this shows it answers consistently — not that independent models agree."
      : "";
  if (c.flagged)
    return `⚠ Not validated: ${c.succeeded} samples agreed ${pct(c.agreement)} (needed ${pct(c.threshold)}). Check this answer before relying on it. Compared: ${compared}.${oneModel}`;
  return `✅ Validated: ${compared} — they agreed ${pct(c.agreement)} (needed ${pct(c.threshold)}).${oneModel}`;
}
