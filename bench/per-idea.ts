import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { Agent, createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { serve } from "@hono/node-server";
import { createHermes, type Hermes } from "../src/app/hermes.ts";
import { parseEnv } from "../src/config/env.ts";
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
 * Hermes' per-user limit (hermes.web.ideas_per_minute, at most 1,000) is in memory: each measured
 * phase runs on a fresh Hermes and database file, below that limit.
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

export async function hermesSide(ollama: FakeOllama, dir: string, tag: string): Promise<Side> {
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

async function measureBoth(ollama: FakeOllama, dir: string, n: number, concurrency: number) {
  let seq = 0;
  const onHermes = async () => {
    const side = await hermesSide(ollama, dir, `c${concurrency}-${seq++}`);
    try {
      return await phase(side, n, concurrency);
    } finally {
      await side.close();
    }
  };
  const onProxy = async () => {
    const side = await proxySide(ollama);
    try {
      return await phase(side, n, concurrency);
    } finally {
      await side.close();
    }
  };
  // Proxy, Hermes, proxy: the proxy's figure is the better of its two (load drift falls on it too).
  const p1 = await onProxy();
  const h = await onHermes();
  const p2 = await onProxy();
  const proxy = p1.p50 <= p2.p50 ? p1 : p2;
  return { h, proxy };
}

const ratio = (a: number, b: number) => `${(a / b).toFixed(1)}×`;

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "hermes-bench-per-idea-"));
  const ollama = await FakeOllama.start({ loaded: [MODEL] });
  ollama.setResponder(() => ({ text: DRAFT }));
  try {
    const c1 = await measureBoth(ollama, dir, N1, 1);
    const c10 = await measureBoth(ollama, dir, N10, 10);
    const rows: (string | number)[][] = [
      ["concurrency 1, p50 ms", c1.h.p50, c1.proxy.p50, ratio(c1.h.p50, c1.proxy.p50), "≤ 2×"],
      ["concurrency 1, p99 ms", c1.h.p99, c1.proxy.p99, ratio(c1.h.p99, c1.proxy.p99), "≤ 3×"],
      ["concurrency 10, p50 ms", c10.h.p50, c10.proxy.p50, ratio(c10.h.p50, c10.proxy.p50), "—"],
      ["concurrency 10, p99 ms", c10.h.p99, c10.proxy.p99, ratio(c10.h.p99, c10.proxy.p99), "—"],
      [
        "concurrency 10, ideas/s",
        c10.h.perSecond,
        c10.proxy.perSecond,
        ratio(c10.h.perSecond, c10.proxy.perSecond),
        "Hermes ≥ 500/s",
      ],
      [
        "CPU ms per idea (whole process), c1",
        c1.h.cpuMs,
        c1.proxy.cpuMs,
        ratio(c1.h.cpuMs, c1.proxy.cpuMs),
        "—",
      ],
      [
        "CPU ms per idea (whole process), c10",
        c10.h.cpuMs,
        c10.proxy.cpuMs,
        ratio(c10.h.cpuMs, c10.proxy.cpuMs),
        "—",
      ],
    ];
    const out = table(["submit → draft completed", "Hermes", "minimal proxy", "ratio", "target"], rows);
    console.log(out);
    const draftChunks = Math.ceil(DRAFT.length / 8);
    const note = `zero-latency loopback fake Ollama (${draftChunks} streamed chunks a draft); ${N1} ideas at concurrency 1, ${N10} at 10, each after ${WARM} warm-up ideas; Hermes on a file database (WAL), real HTTP submit, real Ollama backend; proxy = node:http forwarding /api/chat to the same fake (best of two runs around Hermes'). CPU counts client, server and fake in one process on both sides.`;
    console.log(`\n${note}`);
    writeFileSync(join(import.meta.dirname, "results", "per-idea.md"), `${out}\n\n${note}\n`);
  } finally {
    await ollama.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === import.meta.filename) await run();
