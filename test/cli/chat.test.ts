import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { runChat } from "../../src/cli/chat.ts";
import { parseEnv } from "../../src/config/env.ts";
import { mulberry32 } from "../../src/learning/random.ts";
import { FakeOllama } from "../fakes/fake-ollama.ts";

let ollama: FakeOllama | undefined;
let dir: string | undefined;
afterEach(async () => {
  await ollama?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function chat(lines: (output: () => string) => AsyncGenerator<string>) {
  ollama = await FakeOllama.start();
  ollama.setResponder((req) => ({ text: `DRAFT:\n${req.messages.at(-1)?.content ?? ""}` }));
  dir = mkdtempSync(join(tmpdir(), "hermes-chat-"));
  const input = new PassThrough();
  const output = new PassThrough();
  let text = "";
  output.on("data", (c: Buffer) => {
    text += c.toString();
  });
  const done = runChat({
    env: parseEnv({ HERMES_DB_PATH: join(dir, "chat.db"), OLLAMA_HOST: ollama.url }),
    input,
    output,
    random: mulberry32(7),
  });
  for await (const line of lines(() => text)) input.write(`${line}\n`);
  input.end();
  await done;
  return text;
}

async function until(cond: () => boolean, ms = 10_000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("npm run chat", () => {
  it("“enough” with nothing answered says draft 1 stands and runs no second draft", async () => {
    const text = await chat(async function* (out) {
      yield "Explain compound interest";
      await until(() => /❓ 1\./.test(out()));
      yield "e";
      await until(() => /Draft 1 stands/.test(out()) && /── Draft 1/.test(out()));
    });
    expect(text).not.toContain("Refining the draft");
    expect(text).not.toContain("── Draft 2");
  });

  it("goes through the same flow as Telegram: idea, a question answered by number and by text, enough, both drafts", async () => {
    const text = await chat(async function* (out) {
      yield "Write a short note about bees";
      await until(() => /❓ 1\./.test(out()));
      yield "1";
      await until(() => /❓ 2\./.test(out()));
      yield "For my neighbours, who keep hives";
      await until(() => /❓ 3\./.test(out()) || /Refining/.test(out()));
      if (/❓ 3\./.test(out())) yield "e";
    });
    expect(text).toMatch(
      /💡 [0-9a-f]{8}: “Write a short note about bees” — (?:drafting on ollama · llama3\.1:8b|draft 1 is above)/,
    );
    expect(text).toMatch(/ {3}1\) /);
    expect(text).toContain("🛠 Refining the draft with your answers");
    expect(text).toContain("── Draft 1");
    expect(text).toContain("── Draft 2");
    // The typed answer reached the refined draft's prompt (the fake echoes it back).
    const draft2 = text.slice(text.indexOf("── Draft 2"));
    expect(draft2).toContain("For my neighbours, who keep hives");
  });

  it("rates the last draft and asks for a shorter one", async () => {
    const text = await chat(async function* (out) {
      yield "Explain compound interest";
      await until(() => /❓ 1\./.test(out()));
      yield "1";
      await until(() => /❓ 2\./.test(out()) || /Refining/.test(out()));
      if (/❓ 2\./.test(out())) yield "e";
      await until(() => /── Draft 2/.test(out()));
      yield "/rate 4";
      await until(() => /Noted/.test(out()));
      yield "/shorter";
      await until(() => /── Draft 3/.test(out()));
      yield "/patterns";
      await until(() => /Preferences in every draft's prompt/.test(out()));
    });
    expect(text).toMatch(/Noted/);
    expect(text).toContain("── Draft 3");
    // What "/shorter" said it learned is visible.
    expect(text).toContain("I'll keep drafts shorter from now on (see /patterns).");
    expect(text).toContain("- Keep it short and to the point.");
  });
});

describe("npm run chat answers every input", () => {
  it("after /cancel a typed '2' gets a reply (it is no answer: the question closed with the idea)", async () => {
    const text = await chat(async function* (out) {
      yield "Write a short note about bees";
      await until(() => /❓ 1\./.test(out()));
      yield "/cancel";
      await until(() => /✖ (Cancelled|Stopped the questions of) /.test(out()));
      const before = out().length;
      yield "2";
      await until(() => out().length > before);
    });
    // Draft 1 (instant on the fake) may finish before /cancel: then only the questions are stopped.
    expect(text).toMatch(/closed its questions|Stopped the questions of/);
    expect(text).toContain("No question is open, so “2” is not an answer.");
  });

  it("a new idea typed while a question is open is said to be one, and /answer takes it as the answer instead", async () => {
    const text = await chat(async function* (out) {
      yield "Write a short note about bees";
      await until(() => /❓ 1\./.test(out()));
      yield "Different thing: find a birthday present for my dad, he likes fishing";
      await until(() => /\/answer takes it as the answer instead/.test(out()));
      yield "/answer";
      await until(() => /↩ Not a new idea/.test(out()));
    });
    expect(text).toMatch(/Taken as a new idea, not as the answer to question 1 of [0-9a-f]{8}/);
    expect(text).toContain(
      "took “Different thing: find a birthday present for my dad, he likes fishing” as the answer to question 1",
    );
    expect(text).toMatch(/❓ 1\. .*\(idea [0-9a-f]{8} · Write a short note about bees\)/);
  });

  it("a typed answer that was a new idea: /idea undoes the answer and starts the idea", async () => {
    const text = await chat(async function* (out) {
      yield "Write a short note about bees";
      await until(() => /❓ 1\./.test(out()));
      yield "For my neighbours";
      await until(() => /\/idea if it was a new idea/.test(out()));
      yield "/idea";
      await until(() => /↩ Not an answer/.test(out()));
    });
    expect(text).toMatch(
      /✍ Answer to question 1 of [0-9a-f]{8} \(Write a short note about bees\): For my neighbours/,
    );
    expect(text).toMatch(/↩ Not an answer: question 1 of [0-9a-f]{8} is open again\./);
    expect(text).toMatch(/💡 [0-9a-f]{8}: “For my neighbours”/);
  });
});
