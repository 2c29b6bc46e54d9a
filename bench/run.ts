import { spawnSync } from "node:child_process";
import { startFlags } from "./process.ts";

/** `npm run bench`: runs every benchmark and prints their tables (also written to bench/results/). */
const suites: { name: string; file: string }[] = [
  { name: "queue", file: "./queue.ts" },
  { name: "backend manager", file: "./manager.ts" },
  { name: "questions (simulated users)", file: "./questions.ts" },
  { name: "idea → first question with model-assisted understanding", file: "./understanding.ts" },
  { name: "process: start-up, memory, crash recovery", file: "./process.ts" },
  { name: "history: 100,000 ideas against an empty database", file: "./history.ts" },
  { name: "per idea: submit → draft completed, beside a minimal proxy", file: "./per-idea.ts" },
  { name: "memory and disk after 20,000 ideas (about 20 minutes)", file: "./memory.ts" },
];

// Every suite runs under npm start's V8 flags, so what runs in this process (Hermes per idea, the
// queue) costs what it costs in production; `node bench/per-idea.ts` alone runs on Node's defaults.
const missing = startFlags().filter((flag) => !process.execArgv.includes(flag));
if (missing.length > 0) {
  const args = [...process.execArgv, ...missing, import.meta.filename, ...process.argv.slice(2)];
  process.exit(spawnSync(process.execPath, args, { stdio: "inherit" }).status ?? 1);
}
for (const suite of suites) {
  const mod = (await import(suite.file)) as { run: () => Promise<void> };
  console.log(`\n## ${suite.name}\n`);
  await mod.run();
}
