import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { Agent, createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { serve } from "@hono/node-server";
import { createHermes, type Hermes } from "../src/app/hermes.ts";
import { parseEnv } from "../src/config/env.ts";
import { SLOTS } from "../src/learning/quick-analysis.ts";
import { createLogger } from "../src/log.ts";
import { FakeOllama } from "../test/fakes/fake-ollama.ts";
import { percentile, table } from "./stats.ts";

/**
 * Issue 17, "added latency per idea": one idea from POST /api/submit (real HTTP on loopback) to its
 * first draft completed, through the whole real path (engine, question planning, durable queue,
 * Ollama backend over HTTP), against a loopback fake Ollama that answers at once. Beside it, in the
 * same run and through the same fake, "an equivalent minimal proxy": a node:http server that
 * forwards the same streamed chat request to the fake and pipes the answer back (Portkey's gateway
 * is not installable offline). Both sides pay one HTTP round trip from the client plus one to the
 * fake; the difference is what Hermes adds. CPU per idea (process.cpuUsage) counts the whole
 * process — client, server and fake — on both sides, so read its difference too.
 *
 * Hermes is measured in two configurations beside the proxy, alternating in one run: with the
 * model analysis off (one model call per idea, as the proxy makes: the comparison issue 17's
 * targets apply to) and on (the default: the analysis, draft 1, and reading draft 1's assumptions
 * — 3 model calls per idea), the structured calls answered with valid JSON of their schemas, so
 * Hermes does what it does with a real model's answers.
 *
 * Hermes' per-user limit (hermes.web.ideas_per_minute, at most 1,000) is in memory: each measured
 * phase runs on a fresh Hermes and database file, below that limit (N10 + warm-up < 1,000).
 */
const N1 = Number(process.env.PER_IDEA_N1 ?? 200);
const N10 = Number(process.env.PER_IDEA_N10 ?? 600);
const WARM = 40;
const TOKEN = "bench-admin-token-0123456789";
const DRAFT = "A short first draft, about as long as a paragraph. ".repeat(8);
const MODEL = "llama3.1:8b";

interface Side {
  /** One idea end to end; resolves when its first draft is complete. */
  idea(i: number): Promise<void>;
  close(): Promise<void>;
}

interface Phase {
  p50: number;
  p99: number;
  perSecond: number;
  cpuMs: number;
}

export async function phase(side: Side, n: number, concurrency: number): Promise<Phase> {
  for (let i = 0; i < WARM; i++) await side.idea(-1 - i);
  const ms: number[] = [];
  let next = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const worker = async () => {
    while (next < n) {
      const i = next++;
      const s = performance.now();
      await side.idea(i);
      ms.push(performance.now() - s);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return {
    p50: percentile(ms, 50),
    p99: percentile(ms, 99),
    perSecond: (n / wall) * 1000,
    cpuMs: (cpu.user + cpu.system) / 1000 / n,
  };
}

export async function hermesSide(
  ollama: FakeOllama,
  dir: string,
  tag: string,
  analysis: boolean,
): Promise<Side> {
  const hermes: Hermes = await createHermes({
    env: parseEnv({
      HERMES_DB_PATH: join(dir, `${tag}.db`),
      HERMES_HTTP_PORT: "0",
      HERMES_ADMIN_TOKEN: TOKEN,
      OLLAMA_HOST: ollama.url,
    }),
    logger: createLogger({ level: "info", secrets: [], destination: { write: () => {} } }),
    http: false,
    telegram: false,
    config: {
      "hermes.debug.api_rate_limiting": "false",
      "hermes.web.ideas_per_minute": "1000",
      "hermes.web.max_queued_jobs": "100000",
      "backend.ollama.concurrency": "64",
      "hermes.classification.enable_llm": String(analysis),
    },
  });
  await hermes.start();
  await hermes.backends.checkHealth();
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: hermes.app.fetch, hostname: "127.0.0.1", port: 0 }, () => resolve(s));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/submit`;
  const waiting = new Map<number, () => void>();
  const early = new Set<number>();
  hermes.events.subscribe((e) => {
    if (e.type === "failed") throw new Error(`job ${e.job.id} failed: ${e.error.message}`);
    if (e.type !== "completed") return;
    const done = waiting.get(e.job.id);
    if (done) {
      waiting.delete(e.job.id);
      done();
    } else early.add(e.job.id);
  });
  return {
    async idea(i) {
      const res = await fetch(url, {
        method: "POST",
        headers: { Authorization: `Bearer ${TOKEN}`, "Content-Type": "application/json" },
        body: JSON.stringify({ idea: `Write a short note about keeping bees, number ${i}` }),
      });
      const body = (await res.json()) as { data?: { job_id: number } };
      const jobId = body.data?.job_id;
      if (res.status !== 202 || jobId === undefined) throw new Error(`submit: ${res.status}`);
      if (early.delete(jobId)) return;
      await new Promise<void>((resolve) => waiting.set(jobId, resolve));
    },
    async close() {
      await new Promise((r) => server.close(r));
      await hermes.stop();
    },
  };
}

/** The peer: a minimal reverse proxy (keep-alive upstream), forwarding bytes both ways. */
async function proxySide(ollama: FakeOllama): Promise<Side> {
  const upstream = new URL(ollama.url);
  const agent = new Agent({ keepAlive: true });
  const server: Server = createServer((req, res) => {
    const out = httpRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        path: req.url,
        method: req.method,
        headers: req.headers,
        agent,
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    out.on("error", () => res.destroy());
    req.pipe(out);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/chat`;
  return {
    async idea(i) {
      const res = await fetch(url, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({
          model: MODEL,
          stream: true,
          messages: [{ role: "user", content: `Write a short note about keeping bees, number ${i}` }],
        }),
      });
      const text = await res.text();
      if (res.status !== 200 || !text.includes('"done":true')) throw new Error(`proxy: ${res.status}`);
    },
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      agent.destroy();
    },
  };
}

type SideName = "proxy" | "off" | "on";
/** PER_IDEA_SIDES=off (say) measures one side only, e.g. to profile it. */
const SIDES = new Set((process.env.PER_IDEA_SIDES ?? "proxy,off,on").split(",") as SideName[]);
const NONE: Phase = { p50: Number.NaN, p99: Number.NaN, perSecond: Number.NaN, cpuMs: Number.NaN };

async function measured(open: () => Promise<Side>, n: number, concurrency: number): Promise<Phase> {
  const side = await open();
  try {
    return await phase(side, n, concurrency);
  } finally {
    await side.close();
  }
}

/**
 * Two rounds of proxy, Hermes with the analysis off, Hermes with it on: alternating in one run, so
 * load drift on a shared machine falls on every side alike; each side's figure is the better of
 * its two (by p50), the same rule for all three.
 */
async function measureAll(ollama: FakeOllama, dir: string, n: number, concurrency: number) {
  let seq = 0;
  const hermes = (analysis: boolean) =>
    SIDES.has(analysis ? "on" : "off")
      ? measured(() => hermesSide(ollama, dir, `c${concurrency}-${seq++}`, analysis), n, concurrency)
      : Promise.resolve(NONE);
  const proxy = () =>
    SIDES.has("proxy") ? measured(() => proxySide(ollama), n, concurrency) : Promise.resolve(NONE);
  const rounds: { proxy: Phase; off: Phase; on: Phase }[] = [];
  for (let r = 0; r < 2; r++)
    rounds.push({ proxy: await proxy(), off: await hermes(false), on: await hermes(true) });
  const best = (side: "proxy" | "off" | "on") =>
    rounds.map((x) => x[side]).reduce((a, b) => (b.p50 < a.p50 || Number.isNaN(a.p50) ? b : a));
  return { off: best("off"), on: best("on"), proxy: best("proxy") };
}

/** What a model answers to the two structured calls: valid JSON of their schemas, as a model would. */
function structuredAnswer(schema: Record<string, unknown> | undefined): unknown {
  const properties = (schema?.properties ?? {}) as Record<string, unknown>;
  if ("assumptions" in properties) {
    return { assumptions: [{ slot: "constraints", assumption: "a hive in a small garden", risk: 0.5 }] };
  }
  const slots = Object.fromEntries(
    SLOTS.map((s) => [
      s,
      { says: "", missing: `the ${s}`, question: `What about the ${s}?`, answers: ["One", "Two", "Three"] },
    ]),
  );
  return { idea_type: "creation", complexity: 3, title: "A note on bees", topic: "this note on bees", slots };
}

const ratio = (a: number, b: number) => (Number.isFinite(a / b) ? `${(a / b).toFixed(1)}×` : "—");

type Results = Awaited<ReturnType<typeof measureAll>>;

function row(label: string, c: Results, pick: (p: Phase) => number, target: string): (string | number)[] {
  const [off, on, proxy] = [pick(c.off), pick(c.on), pick(c.proxy)];
  return [label, off, proxy, ratio(off, proxy), target, on, ratio(on, proxy)];
}

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "hermes-bench-per-idea-"));
  const ollama = await FakeOllama.start({ loaded: [MODEL] });
  ollama.setResponder(() => ({ text: DRAFT }));
  ollama.setStructuredResponder((req) => ({ json: structuredAnswer(req.schema) }));
  const load = loadavg()[0]?.toFixed(1);
  try {
    const c1 = await measureAll(ollama, dir, N1, 1);
    const c10 = await measureAll(ollama, dir, N10, 10);
    const rows = [
      row("concurrency 1, p50 ms", c1, (p) => p.p50, "≤ 2×"),
      row("concurrency 1, p99 ms", c1, (p) => p.p99, "≤ 3×"),
      row("concurrency 10, p50 ms", c10, (p) => p.p50, "—"),
      row("concurrency 10, p99 ms", c10, (p) => p.p99, "—"),
      row("concurrency 10, ideas/s", c10, (p) => p.perSecond, "Hermes ≥ 500/s"),
      row("CPU ms per idea (whole process), c1", c1, (p) => p.cpuMs, "—"),
      row("CPU ms per idea (whole process), c10", c10, (p) => p.cpuMs, "—"),
    ];
    const out = table(
      [
        "submit → draft completed",
        "Hermes, analysis off",
        "minimal proxy",
        "ratio",
        "target",
        "Hermes, analysis on",
        "ratio",
      ],
      rows,
    );
    console.log(out);
    const draftChunks = Math.ceil(DRAFT.length / 8);
    const note = [
      `"Analysis off" (hermes.classification.enable_llm=false) makes one model call per idea, as the proxy does: the targets apply to it (issue 17 predates the analysis). "Analysis on" is the default: 3 model calls per idea (the analysis, awaited by submit within hermes.classification.deadline_ms; draft 1; reading draft 1's assumptions, after the draft completes and so partly outside its latency but inside its CPU), each answered with valid JSON of its schema streamed like a draft.`,
      `Zero-latency loopback fake Ollama (${draftChunks} streamed chunks a draft, 8 characters each); ${N1} ideas at concurrency 1, ${N10} at 10, each after ${WARM} warm-up ideas; Hermes on a file database (WAL), real HTTP submit, real Ollama backend; proxy = node:http forwarding /api/chat to the same fake. Two rounds of proxy, analysis off, analysis on; each side's figure is its better round by p50. CPU counts client, server and fake in one process on every side. Load average at the start: ${load} on ${cpus().length} cores (a shared machine: read the ratios).`,
    ].join("\n\n");
    console.log(`\n${note}`);
    if (SIDES.size === 3)
      writeFileSync(join(import.meta.dirname, "results", "per-idea.md"), `${out}\n\n${note}\n`);
  } finally {
    await ollama.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === import.meta.filename) await run();
