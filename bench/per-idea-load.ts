import { SLOTS } from "../src/learning/quick-analysis.ts";
import { FakeOllama } from "../test/fakes/fake-ollama.ts";

/**
 * The other process of bench/per-idea.ts: the users (the HTTP client) and the model (the loopback
 * fake Ollama), so that the process under test runs only the server, as a server is measured (and
 * as Hermes runs: Ollama in its own process, users elsewhere). Started by bench/per-idea.ts with
 * fork() and driven over its IPC channel; it exits when that channel closes, so it never outlives
 * the bench.
 *
 * One clock on both sides: process.hrtime (CLOCK_MONOTONIC, shared by every process of the
 * machine), in ms. A Hermes idea's latency is from the client's send of POST /api/submit here to
 * the "completed" event of its job there, whose time the bench sends back with the job id.
 */
export const MODEL = "llama3.1:8b";
export const TOKEN = "bench-admin-token-0123456789";
export const DRAFT = "A short first draft, about as long as a paragraph. ".repeat(8);

export type SideKind = "hermes" | "proxy";
export type ToLoad =
  | { type: "phase"; kind: SideKind; url: string; n: number; concurrency: number; warm: number }
  | { type: "go" }
  | { type: "completed"; jobId: number; at: number; error?: string }
  | { type: "stop" };
export type FromLoad =
  | { type: "ready"; ollamaUrl: string }
  | { type: "warmed" }
  | { type: "result"; ms: number[]; wallMs: number; cpuMs: number }
  | { type: "error"; message: string };

/** ms on CLOCK_MONOTONIC: comparable between processes of one machine. */
export const monotonicMs = (): number => Number(process.hrtime.bigint()) / 1e6;

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

export async function startFakeModel(): Promise<FakeOllama> {
  const ollama = await FakeOllama.start({ loaded: [MODEL] });
  ollama.setResponder(() => ({ text: DRAFT }));
  ollama.setStructuredResponder((req) => ({ json: structuredAnswer(req.schema) }));
  return ollama;
}

/** Completion times of Hermes jobs, as the bench reports them (they may arrive before the 202). */
class Completions {
  #early = new Map<number, { at: number; error?: string }>();
  #waiting = new Map<number, { resolve: (at: number) => void; reject: (e: Error) => void }>();

  report(jobId: number, at: number, error?: string): void {
    const w = this.#waiting.get(jobId);
    if (!w) {
      this.#early.set(jobId, { at, error });
      return;
    }
    this.#waiting.delete(jobId);
    if (error) w.reject(new Error(`job ${jobId} failed: ${error}`));
    else w.resolve(at);
  }

  of(jobId: number): Promise<number> {
    const e = this.#early.get(jobId);
    if (e) {
      this.#early.delete(jobId);
      return e.error ? Promise.reject(new Error(`job ${jobId} failed: ${e.error}`)) : Promise.resolve(e.at);
    }
    return new Promise((resolve, reject) => this.#waiting.set(jobId, { resolve, reject }));
  }
}

const prompt = (i: number) => `Write a short note about keeping bees, number ${i}`;

/** One idea; resolves to its latency in ms. */
type Idea = (i: number) => Promise<number>;

function hermesIdea(url: string, completions: Completions): Idea {
  return async (i) => {
    const sent = monotonicMs();
    const res = await fetch(url, {
      method: "POST",
      headers: { Authorization: `Bearer ${TOKEN}`, "Content-Type": "application/json" },
      body: JSON.stringify({ idea: prompt(i) }),
    });
    const body = (await res.json()) as { data?: { job_id: number } };
    const jobId = body.data?.job_id;
    if (res.status !== 202 || jobId === undefined) throw new Error(`submit: ${res.status}`);
    return (await completions.of(jobId)) - sent;
  };
}

function proxyIdea(url: string): Idea {
  return async (i) => {
    const sent = monotonicMs();
    const res = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ model: MODEL, stream: true, messages: [{ role: "user", content: prompt(i) }] }),
    });
    const text = await res.text();
    if (res.status !== 200 || !text.includes('"done":true')) throw new Error(`proxy: ${res.status}`);
    return monotonicMs() - sent;
  };
}

function send(message: FromLoad): void {
  process.send?.(message);
}

/** Warm-up, then (once the bench says go, its CPU clock started) n ideas at the given concurrency. */
async function runPhase(p: Extract<ToLoad, { type: "phase" }>, idea: Idea, go: Promise<void>) {
  for (let i = 0; i < p.warm; i++) await idea(-1 - i);
  send({ type: "warmed" });
  await go;
  const ms: number[] = [];
  let next = 0;
  const cpu0 = process.cpuUsage();
  const t0 = monotonicMs();
  const worker = async () => {
    while (next < p.n) ms.push(await idea(next++));
  };
  await Promise.all(Array.from({ length: p.concurrency }, worker));
  const wallMs = monotonicMs() - t0;
  const cpu = process.cpuUsage(cpu0);
  send({ type: "result", ms, wallMs, cpuMs: (cpu.user + cpu.system) / 1000 });
}

async function main(): Promise<void> {
  const ollama = await startFakeModel();
  const completions = new Completions();
  let started: () => void = () => {};
  const fail = (error: unknown) => {
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    // Exit once the report is written (process.send is asynchronous).
    process.send?.({ type: "error", message } satisfies FromLoad, undefined, undefined, () =>
      process.exit(1),
    );
  };
  process.on("disconnect", () => process.exit(0));
  process.on("message", (m: ToLoad) => {
    if (m.type === "completed") completions.report(m.jobId, m.at, m.error);
    else if (m.type === "go") started();
    else if (m.type === "stop") void ollama.stop().finally(() => process.exit(0));
    else if (m.type === "phase") {
      const go = new Promise<void>((r) => {
        started = r;
      });
      const idea = m.kind === "hermes" ? hermesIdea(m.url, completions) : proxyIdea(m.url);
      runPhase(m, idea, go).catch(fail);
    }
  });
  send({ type: "ready", ollamaUrl: ollama.url });
}

if (process.argv[1] === import.meta.filename) {
  if (!process.send) throw new Error("bench/per-idea-load.ts is started by bench/per-idea.ts (fork, IPC)");
  await main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
