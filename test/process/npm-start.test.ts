import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { FakeOllama } from "../fakes/fake-ollama.ts";
import { waitUntil } from "../helpers/child-hermes.ts";

const ROOT = join(import.meta.dirname, "..", "..");
const START_MS = 90_000; // a fresh clone builds dist/ first, on a busy machine
const STOP_MS = 20_000;

let ollama: FakeOllama | undefined;
let dir: string | undefined;
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) c.kill("SIGKILL");
  await ollama?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function npmStart(env: Record<string, string>) {
  let out = "";
  const child = spawn("npm", ["start"], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", HERMES_HTTP_PORT: "0", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  for (const stream of [child.stdout, child.stderr]) stream?.on("data", (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, exited, output: () => out };
}

const portOf = (output: string) => Number(/"url":"http:\/\/127\.0\.0\.1:(\d+)"/.exec(output)?.[1] ?? 0);

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

describe("npm start as a person runs it", () => {
  it(
    "SIGTERM to npm start stops Hermes and frees its port; the next start does not rebuild; no bundler noise",
    async () => {
      ollama = await FakeOllama.start();
      dir = mkdtempSync(join(tmpdir(), "hermes-npm-start-"));
      const env = { HERMES_DB_PATH: join(dir, "hermes.db"), OLLAMA_HOST: ollama.url };
      const first = npmStart(env);
      await waitUntil(() => portOf(first.output()) > 0, START_MS, "Hermes to listen");
      const port = portOf(first.output());
      first.child.kill("SIGTERM");
      expect(await first.exited).toBe(0);
      expect(first.output()).toContain("stopped cleanly");
      expect(await portIsFree(port)).toBe(true);
      expect(first.output()).not.toContain("[EVAL]");

      const second = npmStart(env);
      await waitUntil(() => portOf(second.output()) > 0, START_MS, "Hermes to listen again");
      second.child.kill("SIGTERM");
      expect(await second.exited).toBe(0);
      expect(second.output()).not.toContain("Building Hermes");
      expect(second.output()).toMatch(/backends: ollama on \(llama3\.1:8b at http:\/\/127\.0\.0\.1:\d+\)/);
    },
    2 * (START_MS + STOP_MS),
  );
});
