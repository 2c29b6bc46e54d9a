import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { runChat } from "../../src/cli/chat.ts";
import { parseEnv } from "../../src/config/env.ts";
import { FakeOllama } from "../fakes/fake-ollama.ts";

let ollama: FakeOllama | undefined;
let dir: string | undefined;
afterEach(async () => {
  await ollama?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("npm run chat", () => {
  it("drives the same engine: idea in, draft out, then stops at end of input", async () => {
    ollama = await FakeOllama.start();
    ollama.setResponder(() => ({ text: "A tidy draft about bees." }));
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
    });
    input.write("Write a short note about bees\n");
    input.end();
    await done;
    expect(text).toMatch(
      /💡 [0-9a-f]{8}: “Write a short note about bees” — drafting on ollama · llama3\.1:8b/,
    );
    expect(text).toContain("── Draft 1");
    expect(text).toContain("A tidy draft about bees.");
    expect(ollama.requests).toHaveLength(1);
  });
});
