import { writeFileSync } from "node:fs";
import type { Backend, RunRequest } from "../../backends/backend.ts";
import type { ExecuteRequest, ExecuteResult } from "../../backends/manager/types.ts";
import { OllamaBackend } from "../../backends/ollama/backend.ts";
import { OpenAIBackend } from "../../backends/openai/backend.ts";
import { systemClock } from "../../clock.ts";
import { PromptLibrary } from "../../engine/prompts.ts";
import { readAssumptions } from "../../engine/understanding/assumptions.ts";
import {
  type UnderstandDeps,
  UnderstandingCounters,
  understandIdea,
} from "../../engine/understanding/understand.ts";
import { quickAnalyze } from "../../learning/quick-analysis.ts";
import { EVAL_IDEAS } from "./ideas.ts";
import { type EvalOptions, type IdeaReport, renderReport } from "./report.ts";

/**
 * `npm run eval -- --backend <url> [--kind ollama|openai] [--model m] [--out report.md] [--ideas n]`:
 * the shipped vague ideas (ideas.ts) through the model-assisted understanding against a real model
 * — analysis, the questions it words, draft 1 and the assumptions read back from it — written as a
 * Markdown report for a person to read. Not part of CI (there is no model there); the command and
 * its report are tested against the fake Ollama.
 */
export async function runEval(o: EvalOptions): Promise<IdeaReport[]> {
  const backend = makeBackend(o);
  const prompts = new PromptLibrary();
  const reports: IdeaReport[] = [];
  for (const [i, idea] of o.ideas.entries()) {
    const counters = new UnderstandingCounters();
    const deps = evalDeps(backend, o, counters);
    const t0 = performance.now();
    const understanding = await understandIdea(deps, { idea, threadId: i + 1 });
    const analysisMs = performance.now() - t0;
    const outcome = Object.entries(counters.snapshot()).find(([, n]) => n > 0)?.[0] ?? "none";
    const heuristic = quickAnalyze(idea);
    const report: IdeaReport = {
      idea,
      heuristic,
      understanding,
      analysisOutcome: outcome,
      analysisMs,
      draft: undefined,
      draftMs: 0,
      assumptions: undefined,
    };
    try {
      const t1 = performance.now();
      const draft = await backend.run(
        draftRequest(prompts, o, idea, heuristic.ideaType),
        AbortSignal.timeout(o.timeoutMs),
      );
      report.draftMs = performance.now() - t1;
      report.draft = draft.text;
      report.assumptions = await readAssumptions(deps, { idea, draft: draft.text, threadId: i + 1 });
    } catch (err) {
      report.error = err instanceof Error ? err.message : String(err);
    }
    reports.push(report);
  }
  return reports;
}

function makeBackend(o: EvalOptions): Backend {
  if (o.kind === "openai")
    return new OpenAIBackend({
      name: "eval",
      baseURL: o.backendUrl,
      provider: "custom",
      local: true,
      defaultTimeoutMs: o.timeoutMs,
    });
  return new OllamaBackend({ name: "eval", host: o.backendUrl, defaultTimeoutMs: o.timeoutMs });
}

/** The structured calls of src/engine/understanding/ straight on the backend (no manager, no budget). */
function evalDeps(backend: Backend, o: EvalOptions, counters: UnderstandingCounters): UnderstandDeps {
  const settings: Record<string, unknown> = {
    "hermes.classification.enable_llm": true,
    "hermes.classification.local_only": true,
    "hermes.classification.deadline_ms": o.timeoutMs,
    "hermes.classification.model": o.model,
  };
  return {
    clock: systemClock,
    counters,
    config: {
      bool: (k) => settings[k] === true,
      number: (k) => Number(settings[k]),
      get: ((k: string) => settings[k]) as UnderstandDeps["config"]["get"],
    },
    backends: {
      execute: async (req: ExecuteRequest, signal: AbortSignal): Promise<ExecuteResult> => {
        const run: RunRequest = {
          jobId: req.jobId,
          model: req.model ?? o.model,
          messages: req.messages,
          maxTokens: req.maxTokens,
          temperature: req.temperature,
          responseFormat: req.responseFormat,
        };
        const r = await backend.run(run, signal);
        return {
          ...r,
          backend: backend.name,
          costCents: 0,
          fallbackUsed: false,
          attempted: [backend.name],
          confidence: 1,
        };
      },
    },
  };
}

function draftRequest(prompts: PromptLibrary, o: EvalOptions, idea: string, ideaType: string): RunRequest {
  return {
    jobId: 0,
    model: o.model,
    messages: [
      { role: "system", content: prompts.template("system") },
      {
        role: "user",
        content: prompts.render("draft", { idea, idea_type: ideaType, preferences: "(none known yet)" }),
      },
    ],
  };
}

function option(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

/** The command line: parses it, runs, writes the report; the exit code says whether it could run. */
export async function main(argv: string[], out: (line: string) => void = console.log): Promise<number> {
  const backendUrl = option(argv, "--backend");
  if (!backendUrl) {
    out(
      "usage: npm run eval -- --backend <url> [--kind ollama|openai] [--model m] [--out report.md] [--ideas n]",
    );
    return 2;
  }
  const kind = option(argv, "--kind") === "openai" ? "openai" : "ollama";
  const count = Number(option(argv, "--ideas") ?? EVAL_IDEAS.length);
  const opts: EvalOptions = {
    backendUrl,
    kind,
    model: option(argv, "--model") ?? "llama3.1:8b",
    ideas: EVAL_IDEAS.slice(0, Number.isFinite(count) && count > 0 ? count : EVAL_IDEAS.length),
    timeoutMs: Number(option(argv, "--timeout-ms") ?? 120_000),
  };
  const reports = await runEval(opts);
  const path = option(argv, "--out") ?? "eval-report.md";
  writeFileSync(path, renderReport(opts, reports));
  out(`${reports.length} ideas → ${path}`);
  return 0;
}

if (process.argv[1] && import.meta.filename === process.argv[1])
  process.exitCode = await main(process.argv.slice(2));
