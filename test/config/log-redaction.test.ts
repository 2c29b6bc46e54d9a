import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { SystemConfig } from "../../src/config/system-config.ts";
import { createLogger } from "../../src/log.ts";
import { ConfigAuditRepo } from "../../src/store/system/config-audit-repo.ts";
import { ConfigRepo } from "../../src/store/system/config-repo.ts";
import { memoryDb } from "../helpers/memory-db.ts";

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { lines, destination };
}

describe("logging", () => {
  it("never writes a secret, whether in a known field or inside a message or URL", () => {
    const token = "123456:AAE-secret-bot-token-value";
    const key = "sk-or-v1-verysecretkey";
    const { lines, destination } = capture();
    const log = createLogger({ level: "info", secrets: [token, key], destination });
    log.info({ token, apiKey: key }, "configured");
    log.error({ err: `request to https://api.telegram.org/bot${token}/getMe failed` }, `calling with ${key}`);
    log.info({ headers: { authorization: `Bearer ${key}` } }, "outgoing");
    const all = lines.join("");
    expect(all).not.toContain(token);
    expect(all).not.toContain(key);
    expect(all).toContain("[REDACTED]");
    expect(lines).toHaveLength(3);
  });

  it("scrubs secrets held in settings, including one set after start", async () => {
    const db = await memoryDb();
    const config = await SystemConfig.load(new ConfigRepo(db.db), new ConfigAuditRepo(db.sqlite));
    const { lines, destination } = capture();
    const log = createLogger({ level: "info", secrets: () => config.secretValues(), destination });
    config.onChange(() => log.secretsChanged());
    const key = "sk-proj-set-through-telegram-config";
    await config.set("backend.gpt5.key", key, "telegram:1");
    log.error({ err: `401 from https://api.openai.com with ${key}` }, "call failed");
    expect(lines.join("")).not.toContain(key);
    expect(lines.join("")).toContain("[REDACTED]");
    await db.close();
  });
});
