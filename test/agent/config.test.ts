// Talos' environment: defaults, the token rule, and errors that name the variable.
import { describe, expect, it } from "vitest";
import { ConfigError, isLoopbackHost, loadConfig } from "../../agent/config.ts";
import { JobManager } from "../../agent/jobs/jobs.ts";
import type { ChatPort } from "../../agent/ollama.ts";
import { createResourceGuard, parseVmStat, SystemResources } from "../../agent/resources.ts";

const TOKEN = "0123456789abcdef0123";

function configError(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error("expected a ConfigError");
}

describe("loadConfig", () => {
  it("applies the documented defaults", () => {
    expect(loadConfig({ TALOS_TOKEN: TOKEN })).toEqual({
      host: "127.0.0.1",
      port: 8001,
      token: TOKEN,
      ollamaHost: "http://127.0.0.1:11434",
      maxConcurrentJobs: 1,
      jobTimeoutSeconds: 3600,
      maxMemoryPercent: 80,
      maxCpuPercent: 90,
      logDir: undefined,
      resultTtlSeconds: 3600,
      maxResults: 500,
    });
  });

  it("reads every variable", () => {
    const c = loadConfig({
      TALOS_HOST: "100.64.0.7",
      TALOS_PORT: "9001",
      TALOS_TOKEN: TOKEN,
      OLLAMA_HOST: "gpu-box:11434",
      TALOS_MAX_CONCURRENT_JOBS: "2",
      TALOS_JOB_TIMEOUT_SECONDS: "600",
      TALOS_MAX_MEMORY_PERCENT: "85",
      TALOS_MAX_CPU_PERCENT: "95",
      TALOS_LOG_DIR: "/tmp/talos",
      TALOS_RESULT_TTL_SECONDS: "120",
      TALOS_MAX_RESULTS: "50",
    });
    expect(c).toMatchObject({
      host: "100.64.0.7",
      port: 9001,
      ollamaHost: "http://gpu-box:11434",
      logDir: "/tmp/talos",
    });
    expect(c.maxConcurrentJobs + c.jobTimeoutSeconds + c.resultTtlSeconds + c.maxResults).toBe(
      2 + 600 + 120 + 50,
    );
  });

  it("refuses to start without a token, unless loopback and TALOS_ALLOW_NO_TOKEN=1", () => {
    expect(configError({})).toMatch(/TALOS_TOKEN is required/);
    expect(configError({ TALOS_HOST: "0.0.0.0", TALOS_ALLOW_NO_TOKEN: "1" })).toMatch(
      /TALOS_TOKEN is required/,
    );
    expect(configError({ TALOS_ALLOW_NO_TOKEN: "yes" })).toMatch(/TALOS_ALLOW_NO_TOKEN/);
    expect(loadConfig({ TALOS_ALLOW_NO_TOKEN: "1" }).token).toBeUndefined();
    expect(loadConfig({ TALOS_HOST: "::1", TALOS_ALLOW_NO_TOKEN: "1" }).token).toBeUndefined();
  });

  it("names the variable of an invalid value, and never prints the token", () => {
    expect(configError({ TALOS_TOKEN: TOKEN, TALOS_PORT: "eighty" })).toMatch(/TALOS_PORT must be a number/);
    expect(configError({ TALOS_TOKEN: TOKEN, TALOS_MAX_CPU_PERCENT: "150" })).toMatch(
      /TALOS_MAX_CPU_PERCENT must be at most 100/,
    );
    expect(configError({ TALOS_TOKEN: TOKEN, TALOS_MAX_CONCURRENT_JOBS: "0" })).toMatch(
      /TALOS_MAX_CONCURRENT_JOBS must be at least 1/,
    );
    expect(configError({ TALOS_TOKEN: TOKEN, OLLAMA_HOST: "ftp://x" })).toMatch(/OLLAMA_HOST/);
    const short = configError({ TALOS_TOKEN: "abc123" });
    expect(short).toMatch(/TALOS_TOKEN is too short/);
    expect(short).not.toContain("abc123");
  });

  it("knows loopback hosts", () => {
    for (const h of ["127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]"])
      expect(isLoopbackHost(h)).toBe(true);
    for (const h of ["0.0.0.0", "100.64.0.7", "::", "example.com"]) expect(isLoopbackHost(h)).toBe(false);
  });
});

describe("resources", () => {
  it("reads this machine's usage", async () => {
    const s = await new SystemResources().snapshot();
    expect(s.cpu_percent).toBeGreaterThanOrEqual(0);
    expect(s.cpu_percent).toBeLessThanOrEqual(100);
    expect(s.memory_percent).toBeGreaterThan(0);
    expect(s.load_avg).toHaveLength(3);
    expect(s.disk_free_bytes).toBeGreaterThan(0);
  });

  it("macOS vm_stat: app + wired + compressed memory is in use, cache is available", () => {
    const out = [
      "Mach Virtual Memory Statistics: (page size of 16384 bytes)",
      "Pages free:                               10000.",
      "Pages active:                            200000.",
      "Pages inactive:                          190000.",
      "Pages speculative:                         5000.",
      "Pages wired down:                        100000.",
      "Pages purgeable:                          20000.",
      "Anonymous pages:                         220000.",
      "Pages occupied by compressor:             50000.",
    ].join("\n");
    const total = 1_048_576 * 16384; // 16 GiB
    expect(parseVmStat(out, total)).toBe(total - (220000 - 20000 + 100000 + 50000) * 16384);
    expect(parseVmStat("garbage", total)).toBeUndefined();
  });

  it("the guard passes under the limits and refuses above either", async () => {
    let snap = { cpu_percent: 50, memory_percent: 50, load_avg: [], disk_free_bytes: 1, disk_percent: 1 };
    const guard = createResourceGuard(
      { snapshot: async () => snap },
      { maxCpuPercent: 90, maxMemoryPercent: 80 },
    );
    expect(await guard.check()).toEqual({ ok: true });
    snap = { ...snap, cpu_percent: 91 };
    expect(await guard.check()).toMatchObject({ ok: false, retryAfter: 30 });
  });
});

describe("JobManager without Ollama", () => {
  it("a stream that ends without its final message fails the job", async () => {
    const ollama: ChatPort = {
      async *chat() {
        yield { text: "half an answer", done: false };
      },
    };
    const jobs = new JobManager({
      ollama,
      maxConcurrent: 1,
      jobTimeoutMs: 1000,
      resultTtlMs: 1000,
      maxResults: 10,
    });
    jobs.submit({ job_id: "x", model: "m", prompt: "p" });
    await jobs.settled("x");
    expect(jobs.status("x")).toMatchObject({
      status: "failed",
      error: { code: "OLLAMA_ERROR", message: expect.stringMatching(/ended before its final message/) },
      progress: { tokens: 1 },
    });
  });
});
