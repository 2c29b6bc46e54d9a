import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { openDatabase } from "../../src/store/database.ts";
import { JobsRepo } from "../../src/store/jobs/repo.ts";

const ROOT = join(import.meta.dirname, "..", "..");

/** Hermes as a real child process (`node src/main.ts`), as pm2 runs it. */
export function spawnHermes(env: Record<string, string>): {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
} {
  let out = "";
  const child = spawn(process.execPath, [join(ROOT, "src", "main.ts")], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      HERMES_HTTP_PORT: "0",
      HERMES_LOG_LEVEL: "info",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.on("data", (c: Buffer) => {
    out += c.toString();
  });
  child.stderr?.on("data", (c: Buffer) => {
    out += c.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, output: () => out, exited };
}

/** Creates the database (migrated) and queues `n` draft jobs whose prompts carry a unique marker. */
export async function seedJobs(dbPath: string, n: number): Promise<void> {
  const h = await openDatabase({ path: dbPath });
  const jobs = new JobsRepo(h.sqlite);
  for (let i = 1; i <= n; i++) {
    const threadId = Number(
      h.sqlite
        .prepare(
          "INSERT INTO idea_threads (uuid, title, original_request, user_id, source) VALUES (?, ?, ?, 'cli', 'cli') RETURNING id",
        )
        .pluck()
        .get(`00000000-0000-4000-8000-${String(i).padStart(12, "0")}`, `job-${i}`, `marker job-${i}`),
    );
    jobs.enqueue(
      {
        threadId,
        jobType: "creation",
        jobSubtype: "draft",
        priority: 5,
        promptTemplate: "draft",
        promptVariables: { idea: `marker job-${i}`, idea_type: "creation" },
      },
      Date.now(),
    );
  }
  await h.close();
}

/** Job statuses read through a separate read-only connection (WAL lets it read beside the child). */
export function jobStatuses(dbPath: string): Record<string, number> {
  const db = new BetterSqlite3(dbPath, { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare("SELECT status, count(*) AS n FROM jobs GROUP BY status").all() as {
      status: string;
      n: number;
    }[];
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  } finally {
    db.close();
  }
}

export async function waitUntil(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
