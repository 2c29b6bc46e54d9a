import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "../../src/log.ts";

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
});
