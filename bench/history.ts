import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { openDatabase } from "../src/store/database.ts";
import { type ApiHarness, apiHarness } from "../test/http/api-harness.ts";
import { median, table } from "./stats.ts";

/**
 * Issue 17, "nothing grows with history": submit, status, short-id lookup, /metrics and start-up on
 * a database holding N past ideas (default 100,000; HISTORY_N for quick runs) against an empty one,
 * through the HTTP API over the real engine (api-harness wiring, file databases, WAL). The big
 * database is built ONCE by direct inserts in one transaction: per idea a thread, two completed
 * jobs with a short result, two questions (one answered). Start-up here is in-process: open and
 * migrate-check the database, load config and wire the app (what differs with the data).
 */
const N = Number(process.env.HISTORY_N ?? 100_000);
const OPS = Number(process.env.HISTORY_OPS ?? 100);
const STARTS = 3;
const ROUNDS = 3;
const DAY_MS = 86_400_000;

export function fill(path: string, n: number, now: number): Promise<void> {
  return openDatabase({ path }).then(async (db) => {
    const s = db.sqlite;
    const thread =
      s.prepare(`INSERT INTO idea_threads (uuid, title, original_request, status, source, chat_id,
      user_id, draft_count, created_date, last_active) VALUES (?, ?, ?, ?, 'api', '1', 'api:test', 2, ?, ?)`);
    const job = s.prepare(`INSERT INTO jobs (thread_id, job_sequence, job_type, status, priority, full_result,
      result_summary, execution_time_seconds, cost_cents, created_date, completed_date)
      VALUES (?, ?, 'draft', 'completed', 5, ?, 'summary', ?, 1, ?, ?)`);
    const question = s.prepare(`INSERT INTO conversations (thread_id, conversation_position, question_asked,
      question_type, user_response, asked_date) VALUES (?, ?, 'Who is it for?', 'context', ?, ?)`);
    const result = "A past draft. ".repeat(20);
    s.transaction(() => {
      for (let i = 0; i < n; i++) {
        // Spread over the year before `now`, oldest first, so "today" holds none of them.
        const at = new Date(now - DAY_MS - ((n - i) / n) * 365 * DAY_MS).toISOString();
        const id = Number(
          thread.run(randomUUID(), `Idea ${i}`, `Idea number ${i}`, "completed", at, at).lastInsertRowid,
        );
        for (const seq of [1, 2]) {
          job.run(id, seq, result, 20 + (i % 40), at, at);
          question.run(id, seq, seq === 1 ? "everyone" : null, at);
        }
      }
    })();
    await db.close();
  });
}

const timeOf = async (f: () => Promise<unknown>): Promise<number> => {
  const t0 = performance.now();
  await f();
  return performance.now() - t0;
};

async function timed(ops: number, f: (i: number) => Promise<unknown>): Promise<number> {
  const ms: number[] = [];
  for (let i = 0; i < ops; i++) ms.push(await timeOf(() => f(i)));
  return median(ms);
}

async function harnessOn(path: string): Promise<ApiHarness> {
  const h = await apiHarness({ dbPath: path });
  await h.config.set("hermes.web.max_queued_jobs", "1000000", "bench", { force: true });
  return h;
}

/** Median ms of each operation on the database at `path`. */
async function measure(path: string, ops = OPS): Promise<Record<string, number>> {
  const starts: number[] = [];
  for (let i = 0; i < STARTS; i++) {
    let h: ApiHarness | undefined;
    starts.push(await timeOf(async () => (h = await harnessOn(path))));
    await h?.close();
  }
  const h = await harnessOn(path);
  const ok = async (method: string, url: string, json?: unknown) => {
    const res = await h.call(method, url, { json });
    if (res.status >= 300) throw new Error(`${method} ${url}: ${res.status} ${res.text}`);
  };
  const ids: string[] = [];
  const submit = await timed(ops, async (i) =>
    ids.push((await h.submit(`Bench idea ${i} about bees`)).thread_id),
  );
  const status = await timed(ops, (i) => ok("GET", `/api/threads/${ids[i % ids.length]}/status`));
  const shortId = await timed(ops, (i) =>
    ok("GET", `/api/threads/${ids[i % ids.length]?.slice(0, 8)}/status`),
  );
  const metrics = await timed(Math.ceil(ops / 4), () => ok("GET", "/metrics"));
  await h.close();
  return { submit, status, shortId, metrics, startup: median(starts) };
}

const LABELS: Record<string, string> = {
  submit: "submit (POST /api/submit)",
  status: "status by uuid (GET …/status)",
  shortId: "status by short id (8 chars)",
  metrics: "GET /metrics",
  startup: "start-up (open, migrate check, config, wiring)",
};

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "hermes-bench-history-"));
  try {
    const empty = join(dir, "empty.db");
    const big = join(dir, "big.db");
    await (await openDatabase({ path: empty })).close();
    const t0 = performance.now();
    await fill(big, N, Date.UTC(2026, 0, 15, 12));
    const buildS = (performance.now() - t0) / 1000;
    await measure(empty, 20); // warm-up (JIT, module loading), so the first measured side is not penalised
    // Alternating rounds, so load on the machine and warm-up drift fall on both sides alike.
    const rounds: { e: Record<string, number>; b: Record<string, number> }[] = [];
    for (let r = 0; r < ROUNDS; r++) rounds.push({ e: await measure(empty), b: await measure(big) });
    const pick = (side: "e" | "b", k: string) => median(rounds.map((r) => r[side][k] ?? Number.NaN));
    const e = Object.fromEntries(Object.keys(LABELS).map((k) => [k, pick("e", k)]));
    const b = Object.fromEntries(Object.keys(LABELS).map((k) => [k, pick("b", k)]));
    const out = table(
      ["operation", "empty, median ms", `${N.toLocaleString("en-US")} ideas, median ms`, "ratio", "target"],
      Object.keys(LABELS).map((k) => [
        LABELS[k] ?? k,
        e[k] ?? Number.NaN,
        b[k] ?? Number.NaN,
        `${((b[k] ?? 0) / (e[k] ?? 1)).toFixed(2)}×`,
        "≤ 1.2×",
      ]),
    );
    console.log(out);
    const mb = statSync(big).size / 1e6;
    const note = `big database built in ${buildS.toFixed(1)} s, ${mb.toFixed(0)} MB; ${ROUNDS} alternating rounds of ${OPS} operations each (metrics ${Math.ceil(OPS / 4)}) and ${STARTS} start-ups; median of the rounds' medians`;
    console.log(`\n${note}`);
    writeFileSync(join(import.meta.dirname, "results", "history.md"), `${out}\n\n${note}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === import.meta.filename) await run();
