import { describe, expect, it } from "vitest";
import { classifyFailure, httpStatusError, redactUrls } from "../../src/backends/http/errors.ts";

const ctx = { backend: "ollama", kind: "ollama" as const, host: "http://gpu.local:11434" };
const state = { timedOut: false, cancelled: false, responseStarted: false, timeoutMs: 1000 };

describe("URLs in backend error texts", () => {
  it("strips userinfo and secret query values from every URL in a text", () => {
    const text =
      "request to http://alice:hunter2@gpu.local:11434/api/chat?api_key=abc123&model=x failed; " +
      "also https://tok3n@example.com/v1?token=zzz and http://host/plain?page=2";
    const out = redactUrls(text);
    expect(out).not.toMatch(/alice|hunter2|abc123|tok3n|zzz/);
    expect(out).toContain("gpu.local:11434/api/chat");
    expect(out).toContain("model=x");
    expect(out).toContain("http://host/plain?page=2");
  });

  it("errors built from an HTTP client's failure never carry a URL's credentials", () => {
    const thrown = new Error(
      "connect to http://alice:hunter2@gpu.local:11434/api/tags?access_token=s3cr3t failed",
    );
    const error = classifyFailure(ctx, thrown, state);
    expect(`${error.message} ${error.details ?? ""}`).not.toMatch(/hunter2|alice|s3cr3t/);
    const status = httpStatusError(ctx, 500, {
      message: "upstream http://bob:pw-secret@proxy.local/x?key=k3y broke",
    });
    expect(`${status.message} ${status.details ?? ""}`).not.toMatch(/pw-secret|bob|k3y/);
  });
});
