import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { createHermes } from "../src/app/hermes.ts";
import type { Backend, RunRequest, RunResult } from "../src/backends/backend.ts";
import { systemClock } from "../src/clock.ts";
import { parseEnv } from "../src/config/env.ts";
import { SLOTS } from "../src/learning/quick-analysis.ts";
import { mulberry32 } from "../src/learning/random.ts";
import { createLogger } from "../src/log.ts";
import { percentile, table } from "./stats.ts";

/**
 * Idea → first question with the model-assisted analysis (issue 15), through createHermes as
 * production builds it (file database, real clock, the engine's own dispatch), on an in-process
 * model: structured calls (the analysis) answer valid JSON after ANSWER_MS, or never; drafts take
 * DRAFT_MS. Figures: the first question's latency (submitIdea returning with it), and how long
 * after the idea draft 1 reached the model — which must not move whatever the analysis does.
 * One backend slot: the analysis runs beside the slots, so a draft queued first never waits on it.
 */
const ANSWER_MS = 300;
const DRAFT_MS = 50;
const DEADLINE_MS = 1500;
const IDEAS = { answers: 20, hangs: 8, off: 20 };

type Mode = "answers" | "hangs" | "off";

class BenchModel implements Backend {
  readonly kind = "ollama" as const;
  readonly name = "ollama";
  readonly local = true;
  /** performance.now() when each draft call reached the model. */
  readonly draftStarts: number[] = [];
  readonly mode: Mode;
  constructor(mode: Mode) {
    this.mode = mode;
  }

  async run(request: RunRequest, signal: AbortSignal): Promise<RunResult> {
    if (!request.responseFormat) {
      this.draftStarts.push(performance.now());
      await sleep(DRAFT_MS, signal);
      return {
        text: "A draft.",
        model: request.model,
        usage: { inputTokens: 30, outputTokens: 3 },
        latencyMs: DRAFT_MS,
      };
    }
    if (this.mode === "hangs")
      await new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)));
    await sleep(ANSWER_MS, signal);
    return {
      text: JSON.stringify(understanding()),
      model: request.model,
      usage: { inputTokens: 200, outputTokens: 400 },
      latencyMs: ANSWER_MS,
    };
  }
  async health() {
    return { status: "healthy" as const, latencyMs: 0 };
  }
  async models() {
    return [];
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(t);
      reject(signal.reason);
    });
  });
}

function understanding() {
  const slots = Object.fromEntries(
    SLOTS.map((s) => [
      s,
      { says: "", missing: `the ${s}`, question: `What about the ${s}?`, answers: ["One", "Two", "Three"] },
    ]),
  );
  return { idea_type: "creation", complexity: 3, title: "A plan", topic: "this plan", slots };
}

async function scenario(mode: Mode): Promise<{ question: number[]; draft: number[]; fromModel: number }> {
  const dir = mkdtempSync(join(tmpdir(), "hermes-bench-understanding-"));
  const model = new BenchModel(mode);
  const hermes = await createHermes({
    env: parseEnv({ HERMES_DB_PATH: join(dir, "h.db"), HERMES_HTTP_PORT: "0" }),
    logger: createLogger({ level: "silent", secrets: [] }),
    clock: systemClock,
    http: false,
    telegram: false,
    random: mulberry32(7),
    stopGraceMs: 2_000,
    backendFactories: { ollama: () => model },
    config: {
      "backend.ollama.concurrency": "1",
      "hermes.web.ideas_per_minute": "1000",
      "hermes.classification.deadline_ms": String(DEADLINE_MS),
      "hermes.classification.enable_llm": mode === "off" ? "false" : "true",
    },
  });
  await hermes.start();
  const question: number[] = [];
  const draft: number[] = [];
  let fromModel = 0;
  for (let i = 0; i < IDEAS[mode]; i++) {
    const before = model.draftStarts.length;
    const t0 = performance.now();
    const r = await hermes.engine.submitIdea({
      userId: `u${i}`,
      text: `Plan a small party number ${i}`,
      source: "cli",
    });
    question.push(performance.now() - t0);
    if (r.question?.text.startsWith("What about")) fromModel++;
    while (model.draftStarts.length === before) await new Promise((res) => setTimeout(res, 1));
    draft.push((model.draftStarts[before] as number) - t0);
    await hermes.engine.settled();
    await new Promise((res) => setTimeout(res, DRAFT_MS + 10)); // draft 1 done: the next idea starts clean
  }
  await hermes.stop();
  rmSync(dir, { recursive: true, force: true });
  return { question, draft, fromModel };
}

export async function run(): Promise<void> {
  // Hermes' timers are unref'd (they must never keep a stopping process alive); the bench's own
  // waits on them (the analysis deadline) need the process kept alive until the table is out.
  const keepAlive = setInterval(() => {}, 1_000);
  const rows: (string | number)[][] = [];
  const labels: Record<Mode, string> = {
    off: "no model (enable_llm off)",
    answers: `model answers in ${ANSWER_MS} ms`,
    hangs: "model never answers",
  };
  const targets: Record<Mode, string> = {
    off: "—",
    answers: `≈ ${ANSWER_MS} ms + overhead`,
    hangs: `≤ ${DEADLINE_MS + 50} ms`,
  };
  for (const mode of ["off", "answers", "hangs"] as const) {
    const r = await scenario(mode);
    rows.push([
      labels[mode],
      String(r.question.length),
      `${r.fromModel}/${r.question.length}`,
      percentile(r.question, 50),
      percentile(r.question, 99),
      targets[mode],
      percentile(r.draft, 50),
      percentile(r.draft, 99),
    ]);
  }
  const out = table(
    [
      "structured calls (ms)",
      "ideas",
      "model-worded",
      "first question p50",
      "p99",
      "target",
      "draft 1 reaches model p50",
      "p99",
    ],
    rows,
  );
  clearInterval(keepAlive);
  console.log(out);
  writeFileSync(join(import.meta.dirname, "results", "understanding.md"), `${out}\n`);
}

if (process.argv[1] && import.meta.filename === process.argv[1]) await run();
