import { type ChildProcess, fork } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { Agent, createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { serve } from "@hono/node-server";
import { createHermes, type Hermes } from "../src/app/hermes.ts";
import { parseEnv } from "../src/config/env.ts";
import { createLogger } from "../src/log.ts";
import type { FakeOllama } from "../test/fakes/fake-ollama.ts";
import { countWrites, type WriteCounts } from "./per-idea-count.ts";
import { DRAFT, type FromLoad, monotonicMs, type SideKind, TOKEN, type ToLoad } from "./per-idea-load.ts";
import { percentile, table } from "./stats.ts";

/**
 * Issue 17, "added latency per idea": one idea from POST /api/submit (real HTTP on loopback) to its
 * first draft completed, through the whole real path (engine, question planning, durable queue,
 * Ollama backend over HTTP), against a loopback fake Ollama that answers at once. Beside it, in the
 * same run and through the same fake, "an equivalent minimal proxy": a node:http server that
 * forwards the same streamed chat request to the fake and pipes the answer back (Portkey's gateway
 * is not installable offline). Both sides pay one HTTP round trip from the client plus one to the
 * fake; the difference is what Hermes adds.
 *
 * The server is measured alone, as any server is: this process runs only the server under test
 * (Hermes, or the proxy); the client and the fake model run in a child process
 * (bench/per-idea-load.ts), as users and Ollama do in a deployment. CPU per idea is this process's
 * (process.cpuUsage); the child's is printed beside it. Hermes' latency ends at the job's
 * "completed" event, timed here on the clock the child timed the send with (CLOCK_MONOTONIC) and
 * sent to it over IPC so it can start its next idea; the proxy's ends when the client has read the
 * whole response.
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
/** Ideas in the separate counted pass (statements, commits, WAL frames), at concurrency 1. */
const N_COUNTED = Number(process.env.PER_IDEA_N_COUNTED ?? 100);
const WARM = 40;

/** The server under test, in this process; the load process drives it. */
interface Served {
  kind: SideKind;
  url: string;
  dbPath?: string;
  close(): Promise<void>;
}

interface Phase {
  p50: number;
  p99: number;
  perSecond: number;
  /** CPU ms per idea of this process: the server alone. */
  cpuMs: number;
  /** CPU ms per idea of the load process: client and fake model. */
  loadCpuMs: number;
  /** The server's event loop utilisation: near 100% at c10 means ideas/s is the server's ceiling. */
  busyPercent: number;
  /** Of cpuMs: the bench's own completion message to the load process (Hermes only; the proxy sends none). */
  ipcMs: number;
}

/** The child process holding the client and the fake model; killed on any error, never orphaned. */
class LoadProcess {
  #child: ChildProcess;
  #waiting: { type: FromLoad["type"]; resolve: (m: FromLoad) => void; reject: (e: Error) => void }[] = [];
  #failure: Error | undefined;

  private constructor(child: ChildProcess) {
    this.#child = child;
    child.on("message", (m: FromLoad) => {
      if (m.type === "error") return this.#fail(new Error(`load process: ${m.message}`));
      const i = this.#waiting.findIndex((w) => w.type === m.type);
      if (i >= 0) this.#waiting.splice(i, 1)[0]?.resolve(m);
    });
    child.on("error", (e) => this.#fail(e));
    child.on("exit", (code, signal) => this.#fail(new Error(`load process exited (${code ?? signal})`)));
  }

  static async start(): Promise<{ load: LoadProcess; ollamaUrl: string }> {
    // execArgv [] so that `node --cpu-prof bench/per-idea.ts` profiles the server alone.
    const child = fork(join(import.meta.dirname, "per-idea-load.ts"), [], { execArgv: [], stdio: "inherit" });
    const load = new LoadProcess(child);
    try {
      const ready = await load.next("ready");
      return { load, ollamaUrl: ready.type === "ready" ? ready.ollamaUrl : "" };
    } catch (error) {
      load.kill();
      throw error;
    }
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    for (const w of this.#waiting.splice(0)) w.reject(error);
  }

  /** The next message of this type; a watchdog fails the run (and kills the child) if it never comes. */
  next<T extends FromLoad["type"]>(type: T, timeoutMs = 120_000): Promise<Extract<FromLoad, { type: T }>> {
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#fail(new Error(`load process: no "${type}" in ${timeoutMs / 1000} s`));
        this.kill();
      }, timeoutMs);
      const settled =
        <A>(f: (a: A) => void) =>
        (a: A) => {
          clearTimeout(timer);
          f(a);
        };
      this.#waiting.push({
        type,
        resolve: settled(resolve as (m: FromLoad) => void),
        reject: settled(reject),
      });
    });
  }

  send(message: ToLoad): void {
    if (!this.#failure && this.#child.connected) this.#child.send(message);
  }

  kill(): void {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill("SIGKILL");
  }

  async stop(): Promise<void> {
    if (this.#failure || !this.#child.connected) return this.kill();
    const exited = new Promise((r) => this.#child.once("exit", r));
    this.send({ type: "stop" });
    const timer = setTimeout(() => this.kill(), 5000);
    await exited;
    clearTimeout(timer);
  }
}

/**
 * One measured phase: the child warms up, then (this process's CPU clock started) runs n ideas at
 * the given concurrency. `beforeGo` runs between warm-up and the measured ideas (the counted pass).
 */
async function phaseOn(
  load: LoadProcess,
  served: Served,
  n: number,
  concurrency: number,
  beforeGo: () => Promise<void> = async () => {},
): Promise<Phase> {
  load.send({ type: "phase", kind: served.kind, url: served.url, n, concurrency, warm: WARM });
  await load.next("warmed");
  await beforeGo();
  const cpu0 = process.cpuUsage();
  const elu0 = performance.eventLoopUtilization();
  const ipc0 = completionMessageMs;
  load.send({ type: "go" });
  const r = await load.next("result", 120_000 + n * 200);
  const cpu = process.cpuUsage(cpu0);
  const elu = performance.eventLoopUtilization(elu0);
  const ipcMs = (completionMessageMs - ipc0) / n;
  return {
    p50: percentile(r.ms, 50),
    p99: percentile(r.ms, 99),
    perSecond: (n / r.wallMs) * 1000,
    cpuMs: (cpu.user + cpu.system) / 1000 / n,
    loadCpuMs: r.cpuMs / n,
    busyPercent: elu.utilization * 100,
    ipcMs,
  };
}

async function startHermes(ollamaUrl: string, dbPath: string, analysis: boolean): Promise<Hermes> {
  const hermes: Hermes = await createHermes({
    env: parseEnv({
      HERMES_DB_PATH: dbPath,
      HERMES_HTTP_PORT: "0",
      HERMES_ADMIN_TOKEN: TOKEN,
      OLLAMA_HOST: ollamaUrl,
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
  return hermes;
}

/** Hermes' HTTP API on loopback (as in production: @hono/node-server over hermes.app). */
async function listen(hermes: Hermes): Promise<{ url: string; close(): Promise<void> }> {
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: hermes.app.fetch, hostname: "127.0.0.1", port: 0 }, () => resolve(s));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/submit`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/**
 * Time this process has spent sending completion messages to the load process, in ms: the bench's
 * own cost inside Hermes' CPU (a write to a socket whose reader is often asleep: its wake-up is
 * paid here), shown beside it. Timed on the wall clock around a synchronous send.
 */
let completionMessageMs = 0;

/** Hermes served to the load process, which learns each job's completion (time, id) over IPC. */
async function hermesServed(load: LoadProcess, ollamaUrl: string, dbPath: string, analysis: boolean) {
  const hermes = await startHermes(ollamaUrl, dbPath, analysis);
  hermes.events.subscribe((e) => {
    if (e.type !== "completed" && e.type !== "failed") return;
    const at = monotonicMs();
    const error = e.type === "failed" ? { error: e.error.message } : {};
    load.send({ type: "completed", jobId: e.job.id, at, ...error });
    completionMessageMs += monotonicMs() - at;
  });
  const server = await listen(hermes);
  return {
    kind: "hermes",
    url: server.url,
    dbPath,
    async close() {
      await server.close();
      await hermes.stop();
    },
  } satisfies Served;
}

/** The peer: a minimal reverse proxy (keep-alive upstream), forwarding bytes both ways. */
async function proxyServed(ollamaUrl: string): Promise<Served> {
  const upstream = new URL(ollamaUrl);
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
  return {
    kind: "proxy",
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/chat`,
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
const NONE: Phase = {
  p50: Number.NaN,
  p99: Number.NaN,
  perSecond: Number.NaN,
  cpuMs: Number.NaN,
  loadCpuMs: Number.NaN,
  busyPercent: Number.NaN,
  ipcMs: Number.NaN,
};

interface Run {
  load: LoadProcess;
  ollamaUrl: string;
  dir: string;
}

async function measured(open: () => Promise<Served>, run: Run, n: number, concurrency: number) {
  const served = await open();
  try {
    return await phaseOn(run.load, served, n, concurrency);
  } finally {
    await served.close();
  }
}

/**
 * Two rounds of proxy, Hermes with the analysis off, Hermes with it on: alternating in one run, so
 * load drift on a shared machine falls on every side alike; each side's figure is the better of
 * its two (by p50), the same rule for all three.
 */
async function measureAll(run: Run, n: number, concurrency: number) {
  let seq = 0;
  const hermes = (analysis: boolean) =>
    SIDES.has(analysis ? "on" : "off")
      ? measured(
          () => hermesServed(run.load, run.ollamaUrl, join(run.dir, `c${concurrency}-${seq++}.db`), analysis),
          run,
          n,
          concurrency,
        )
      : Promise.resolve(NONE);
  const proxy = () =>
    SIDES.has("proxy")
      ? measured(() => proxyServed(run.ollamaUrl), run, n, concurrency)
      : Promise.resolve(NONE);
  const rounds: { proxy: Phase; off: Phase; on: Phase }[] = [];
  for (let r = 0; r < 2; r++)
    rounds.push({ proxy: await proxy(), off: await hermes(false), on: await hermes(true) });
  const best = (side: SideName) =>
    rounds.map((x) => x[side]).reduce((a, b) => (b.p50 < a.p50 || Number.isNaN(a.p50) ? b : a));
  return { off: best("off"), on: best("on"), proxy: best("proxy") };
}

const settle = () => new Promise((r) => setTimeout(r, 200));

/**
 * The counted pass, after the measured rounds, on a fresh Hermes: N_COUNTED ideas at concurrency 1
 * with the write counters on (bench/per-idea-count.ts), settled before and after so that the
 * warm-up's trailing writes stay out and the last idea's are in.
 */
async function counted(run: Run, analysis: boolean): Promise<WriteCounts | undefined> {
  if (!SIDES.has(analysis ? "on" : "off") || N_COUNTED <= 0) return undefined;
  const dbPath = join(run.dir, `counted-${analysis ? "on" : "off"}.db`);
  const served = await hermesServed(run.load, run.ollamaUrl, dbPath, analysis);
  let counter: ReturnType<typeof countWrites> | undefined;
  try {
    await phaseOn(run.load, served, N_COUNTED, 1, async () => {
      await settle();
      counter = countWrites(dbPath);
    });
    await settle();
    const c = (counter as ReturnType<typeof countWrites>).stop();
    counter = undefined;
    const per = (x: number) => x / N_COUNTED;
    return {
      statements: per(c.statements),
      commits: per(c.commits),
      walFrames: per(c.walFrames),
      walCommits: per(c.walCommits),
    };
  } finally {
    counter?.stop();
    await served.close();
  }
}

/** One idea end to end, in one process (client, Hermes, fake): for tools that trace or mark Hermes. */
export interface Side {
  idea(i: number): Promise<void>;
  close(): Promise<void>;
}

/** In-process Hermes side (tools/trace-statements.ts, tools/latency-marks.ts); not the bench's method. */
export async function hermesSide(
  ollama: FakeOllama,
  dir: string,
  tag: string,
  analysis: boolean,
): Promise<Side> {
  const hermes = await startHermes(ollama.url, join(dir, `${tag}.db`), analysis);
  const server = await listen(hermes);
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
      const res = await fetch(server.url, {
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
      await server.close();
      await hermes.stop();
    },
  };
}

/** In-process phase over a Side (the old method: the process's CPU includes client and fake). */
export async function phase(side: Side, n: number, concurrency: number) {
  for (let i = 0; i < WARM; i++) await side.idea(-1 - i);
  const ms: number[] = [];
  let next = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const worker = async () => {
    while (next < n) {
      const s = performance.now();
      await side.idea(next++);
      ms.push(performance.now() - s);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const cpu = process.cpuUsage(cpu0);
  return {
    p50: percentile(ms, 50),
    p99: percentile(ms, 99),
    perSecond: (n / (performance.now() - t0)) * 1000,
    cpuMs: (cpu.user + cpu.system) / 1000 / n,
  };
}

const ratio = (a: number, b: number) => (Number.isFinite(a / b) ? `${(a / b).toFixed(1)}×` : "—");

type Results = Awaited<ReturnType<typeof measureAll>>;

function row(label: string, c: Results, pick: (p: Phase) => number, target: string): (string | number)[] {
  const [off, on, proxy] = [pick(c.off), pick(c.on), pick(c.proxy)];
  return [label, off, proxy, ratio(off, proxy), target, on, ratio(on, proxy)];
}

function latencyTable(c1: Results, c10: Results): string {
  return table(
    [
      "submit → draft completed",
      "Hermes, analysis off",
      "minimal proxy",
      "ratio",
      "target",
      "Hermes, analysis on",
      "ratio",
    ],
    [
      row("concurrency 1, p50 ms", c1, (p) => p.p50, "≤ 2×"),
      row("concurrency 1, p99 ms", c1, (p) => p.p99, "≤ 3×"),
      row("concurrency 10, p50 ms", c10, (p) => p.p50, "—"),
      row("concurrency 10, p99 ms", c10, (p) => p.p99, "—"),
      row("concurrency 10, ideas/s", c10, (p) => p.perSecond, "Hermes ≥ 500/s"),
      row("server event loop busy %, c10", c10, (p) => p.busyPercent, "—"),
      row("CPU ms per idea, server process, c1", c1, (p) => p.cpuMs, "—"),
      row("CPU ms per idea, server process, c10", c10, (p) => p.cpuMs, "—"),
      row("of which the bench's completion message (IPC), c1", c1, (p) => p.ipcMs, "—"),
      row("of which the bench's completion message (IPC), c10", c10, (p) => p.ipcMs, "—"),
      row("CPU ms per idea, load process (client + fake), c1", c1, (p) => p.loadCpuMs, "—"),
      row("CPU ms per idea, load process (client + fake), c10", c10, (p) => p.loadCpuMs, "—"),
    ],
  );
}

function writesTable(off: WriteCounts | undefined, on: WriteCounts | undefined): string {
  const cell = (w: WriteCounts | undefined, pick: (w: WriteCounts) => number) => (w ? pick(w) : "—");
  return table(
    [
      `Hermes, writes per idea (counted pass, ${N_COUNTED} ideas at concurrency 1)`,
      "analysis off",
      "analysis on",
    ],
    [
      [
        "SQL statements run (transaction control and pragmas apart)",
        ...[off, on].map((w) => cell(w, (x) => x.statements)),
      ],
      ["commits (transactions and autocommitted writes)", ...[off, on].map((w) => cell(w, (x) => x.commits))],
      [
        "commits that wrote (commit frames in the WAL)",
        ...[off, on].map((w) => cell(w, (x) => x.walCommits)),
      ],
      ["WAL frames appended (one page each)", ...[off, on].map((w) => cell(w, (x) => x.walFrames))],
    ],
  );
}

function notes(load: string | undefined): string {
  const draftChunks = Math.ceil(DRAFT.length / 8);
  return [
    `"Analysis off" (hermes.classification.enable_llm=false) makes one model call per idea, as the proxy does: the targets apply to it (issue 17 predates the analysis). "Analysis on" is the default: 3 model calls per idea (the analysis, awaited by submit within hermes.classification.deadline_ms; draft 1; reading draft 1's assumptions, after the draft completes and so partly outside its latency but inside its CPU), each answered with valid JSON of its schema streamed like a draft.`,
    `Method: each server is measured alone, as any server benchmark does — the bench process runs only the server under test (Hermes, or the proxy), and the HTTP client and the fake model run in a child process (bench/per-idea-load.ts), as users and Ollama do in a deployment (and as the issue's peer, the Portkey gateway, ran). Until this change all three shared one process and one thread, so the client's and the fake's CPU (now shown apart: the load process rows) was added to every side's latency and CPU and capped Hermes' ideas/s at concurrency 10; figures from before are not comparable. Hermes' latency ends at its "completed" event, timed in the server on CLOCK_MONOTONIC (process.hrtime, the clock the child timed the send with); the job id and that time go to the child over IPC so it starts its next idea: the server's time in that send has its own row (of which the bench's completion message): the bench's way of telling its client, where a deployment tells the user by a Telegram message or a callback. The proxy's ends when the client has read the whole response.`,
    `Zero-latency loopback fake Ollama (${draftChunks} streamed chunks a draft, 8 characters each); ${N1} ideas at concurrency 1, ${N10} at 10, each after ${WARM} warm-up ideas; Hermes on a file database (WAL), real HTTP submit, real Ollama backend; proxy = node:http forwarding /api/chat to the same fake. Two rounds of proxy, analysis off, analysis on; each side's figure is its better round by p50. CPU: the server process's (process.cpuUsage), and the load process's beside it; the machine's is their sum. "Event loop busy" is the server's event loop utilisation over the measured ideas: near 100% means the ideas/s is the server's own ceiling, not the client's or the fake's. Writes: a separate pass on a fresh Hermes after the measured rounds, counted by wrapping better-sqlite3's statements and reading the WAL index (bench/per-idea-count.ts; its two commit counts, from the statements and from the WAL's commit frames, agree when every commit writes), so the measured rounds carry no instrumentation. Load average at the start: ${load} on ${cpus().length} cores (a shared machine: read the ratios). Node flags of the measured process: ${process.execArgv.join(" ") || "none (Node's defaults)"}.`,
  ].join("\n\n");
}

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "hermes-bench-per-idea-"));
  const load = loadavg()[0]?.toFixed(1);
  const started = await LoadProcess.start();
  const r: Run = { load: started.load, ollamaUrl: started.ollamaUrl, dir };
  try {
    const c1 = await measureAll(r, N1, 1);
    const c10 = await measureAll(r, N10, 10);
    const writes = writesTable(await counted(r, false), await counted(r, true));
    const out = `${latencyTable(c1, c10)}\n\n${writes}`;
    console.log(out);
    const note = notes(load);
    console.log(`\n${note}`);
    if (SIDES.size === 3)
      writeFileSync(join(import.meta.dirname, "results", "per-idea.md"), `${out}\n\n${note}\n`);
    await r.load.stop();
  } finally {
    r.load.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === import.meta.filename) await run();
