import type { Assumption } from "../../engine/understanding/assumptions.ts";
import { confirmationText } from "../../engine/understanding/assumptions.ts";
import type { Understanding } from "../../engine/understanding/schema.ts";
import type { quickAnalyze } from "../../learning/quick-analysis.ts";
import { SLOTS } from "../../learning/quick-analysis.ts";

export interface EvalOptions {
  backendUrl: string;
  kind: "ollama" | "openai";
  model: string;
  ideas: readonly string[];
  /** Per call; generous by default: the report is about what the model says, not its speed. */
  timeoutMs: number;
}

export interface IdeaReport {
  idea: string;
  heuristic: ReturnType<typeof quickAnalyze>;
  understanding: Understanding | undefined;
  analysisOutcome: string;
  analysisMs: number;
  draft: string | undefined;
  draftMs: number;
  assumptions: Assumption[] | undefined;
  error?: string;
}

/** The eval's Markdown report: a summary table, then per idea what the model understood and wrote. */
export function renderReport(o: EvalOptions, reports: readonly IdeaReport[]): string {
  const used = reports.filter((r) => r.understanding).length;
  const ms = reports.map((r) => r.analysisMs).sort((a, b) => a - b);
  const p50 = ms.length ? Math.round(ms[Math.floor((ms.length - 1) / 2)] ?? 0) : 0;
  const lines = [
    "# Hermes eval: model-assisted understanding",
    "",
    `Model \`${o.model}\` on ${o.kind} at ${o.backendUrl}; ${reports.length} ideas.`,
    "",
    "| ideas | analysis used | fell back | analysis p50 ms | drafts | assumptions read |",
    "|---|---|---|---|---|---|",
    `| ${reports.length} | ${used} | ${reports.length - used} | ${p50} | ${reports.filter((r) => r.draft).length} | ${reports.filter((r) => r.assumptions?.length).length} |`,
    "",
  ];
  for (const [i, r] of reports.entries()) lines.push(...ideaSection(i + 1, r));
  return `${lines.join("\n")}\n`;
}

function ideaSection(n: number, r: IdeaReport): string[] {
  const lines = [`## ${n}. ${r.idea}`, ""];
  const u = r.understanding;
  lines.push(
    `- Heuristics: ${r.heuristic.ideaType}, complexity ${r.heuristic.complexity}`,
    u
      ? `- Model (${Math.round(r.analysisMs)} ms): ${u.idea_type}, complexity ${u.complexity}, “${u.title}”, topic “${u.topic}”`
      : `- Model: no usable analysis (${r.analysisOutcome}, ${Math.round(r.analysisMs)} ms) — the heuristics and templates stand`,
    "",
  );
  if (u) {
    lines.push("| slot | says | missing | question | answers |", "|---|---|---|---|---|");
    for (const s of SLOTS) {
      const x = u.slots[s];
      lines.push(
        `| ${s} | ${cell(x.says)} | ${cell(x.missing)} | ${cell(x.question)} | ${cell(x.answers.join(" · "))} |`,
      );
    }
    lines.push("");
  }
  if (r.error) lines.push(`Draft 1 failed: ${r.error}`, "");
  if (r.draft !== undefined) {
    lines.push(`Draft 1 (${Math.round(r.draftMs)} ms), first lines:`, "", ...quote(r.draft), "");
    const a = r.assumptions;
    lines.push(
      a === undefined
        ? "Assumptions: none could be read."
        : a.length === 0
          ? "Assumptions: none stated."
          : `Assumptions, riskiest first: ${a.map((x) => `${confirmationText(x)} (${x.slot}, risk ${x.risk.toFixed(2)})`).join("; ")}`,
      "",
    );
  }
  return lines;
}

const cell = (s: string) => (s.trim() === "" ? "—" : s.replace(/\|/g, "\\|").replace(/\s+/g, " ").trim());
const quote = (text: string) =>
  text
    .split("\n")
    .slice(0, 8)
    .map((l) => `> ${l}`);
