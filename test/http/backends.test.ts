import { afterEach, describe, expect, it } from "vitest";
import { FakeOllama } from "../fakes/fake-ollama.ts";
import { FakeOpenAI } from "../fakes/fake-openai.ts";
import { startTestHermes } from "../helpers/hermes-harness.ts";

const TOKEN = "admin-token-for-tests-0123";

interface ApiBody {
  status?: string;
  data?: {
    backends?: { name: string }[];
    backend?: Record<string, unknown>;
    thread_id?: string;
    completed_jobs?: unknown[];
  };
  error?: { code: string };
}
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

async function setup() {
  const ollama = await FakeOllama.start();
  cleanups.push(() => ollama.stop());
  const vllm = await FakeOpenAI.start({ models: ["qwen2.5:72b"] });
  cleanups.push(() => vllm.stop());
  vllm.setResponder(() => ({ text: "answer from the self-hosted server" }));
  const h = await startTestHermes({ OLLAMA_HOST: ollama.url, HERMES_ADMIN_TOKEN: TOKEN });
  cleanups.push(() => h.stop());
  const base = `http://127.0.0.1:${h.hermes.httpPort}`;
  const call = async (method: string, path: string, body?: unknown, token: string | null = TOKEN) => {
    const res = await fetch(base + path, {
      method,
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as ApiBody };
  };
  return { h, vllm, call };
}

describe("/api/backends: the registry at runtime, without a restart", () => {
  it("lists backends only with the token", async () => {
    const { call } = await setup();
    expect((await call("GET", "/api/backends", undefined, null)).status).toBe(401);
    const res = await call("GET", "/api/backends");
    expect(res.status).toBe(200);
    expect(res.body.data?.backends?.map((b: { name: string }) => b.name)).toContain("ollama");
  });

  it("adds a self-hosted backend, disables Ollama, and the next idea runs on the new one", async () => {
    const { h, vllm, call } = await setup();
    const added = await call("POST", "/api/backends", {
      name: "vllm",
      provider: "custom",
      type: "server_model",
      url: vllm.url,
      free: true,
      models: ["qwen2.5:72b"],
      default_model: "qwen2.5:72b",
    });
    expect(added.status).toBe(200);
    expect(added.body.data?.backend).toMatchObject({ name: "vllm", enabled: true });
    const off = await call("PUT", "/api/backends/ollama", { enabled: false });
    expect(off.status).toBe(200);
    expect(off.body.data?.backend).toMatchObject({ name: "ollama", enabled: false });

    const submitted = await call("POST", "/api/submit", { idea: "Summarise the history of tea" });
    expect(submitted.status).toBe(202);
    const threadId = submitted.body.data?.thread_id as string;
    // Until the job completes, however long a busy machine takes (the limit only names a hang).
    await expect
      .poll(
        async () =>
          (await call("GET", `/api/threads/${threadId}/status`)).body.data?.completed_jobs?.length ?? 0,
        { timeout: 15_000, interval: 50 },
      )
      .toBeGreaterThan(0);
    const job = h.hermes.database.sqlite
      .prepare("SELECT backend_used, model_used, full_result FROM jobs")
      .get();
    expect(job).toEqual({
      backend_used: "vllm",
      model_used: "qwen2.5:72b",
      full_result: "answer from the self-hosted server",
    });
    // Persisted: the registry row exists and Ollama stays disabled across the manager's view.
    expect(h.hermes.backends.status().find((b) => b.name === "ollama")?.enabled).toBe(false);
    expect(
      h.hermes.database.sqlite.prepare("SELECT count(*) FROM backends WHERE name = 'vllm'").pluck().get(),
    ).toBe(1);
  });

  it("refuses bad input naming the field, and an unknown backend", async () => {
    const { call } = await setup();
    const bad = await call("POST", "/api/backends", { name: "x", provider: "custom", url: "ftp://host" });
    expect(bad.status).toBe(400);
    expect(bad.body.error?.code).toBe("INVALID_INPUT");
    expect(JSON.stringify(bad.body.error)).toContain("url");
    const creds = await call("POST", "/api/backends", {
      name: "y",
      provider: "custom",
      url: "http://user:pw@host",
    });
    expect(creds.status).toBe(400);
    const dup = await call("POST", "/api/backends", {
      name: "ollama",
      provider: "ollama",
      url: "http://127.0.0.1:1",
    });
    expect(dup.status).toBe(400);
    const unknown = await call("PUT", "/api/backends/nope", { enabled: true });
    expect(unknown.status).toBe(404);
  });
});

describe("/api/backends: no other component's secret leaves with a backend", () => {
  const TALOS_TOKEN = "talos-token-must-stay-home-0123";

  async function hermesWith(env: Record<string, string>) {
    const ollama = await FakeOllama.start();
    cleanups.push(() => ollama.stop());
    const h = await startTestHermes({ OLLAMA_HOST: ollama.url, HERMES_ADMIN_TOKEN: TOKEN, ...env });
    cleanups.push(() => h.stop());
    const base = `http://127.0.0.1:${h.hermes.httpPort}`;
    return async (method: string, path: string, body: unknown) => {
      const res = await fetch(base + path, {
        method,
        headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as ApiBody, h };
    };
  }

  it("refuses secret_env naming the bot token, the Talos token or the admin token", async () => {
    const call = await hermesWith({ TALOS_TOKEN });
    let last: Awaited<ReturnType<typeof call>> | undefined;
    for (const secretEnv of ["TALOS_TOKEN", "TELEGRAM_BOT_TOKEN", "HERMES_ADMIN_TOKEN", "HOME"]) {
      const res = await call("POST", "/api/backends", {
        name: "grab",
        provider: "custom",
        url: "http://127.0.0.1:9/v1",
        secret_env: secretEnv,
      });
      expect(res.status, secretEnv).toBe(400);
      expect(JSON.stringify(res.body), secretEnv).toContain("secret_env");
      expect(res.h.hermes.backends.names(), secretEnv).not.toContain("grab");
      last = res;
    }
    const stored = last?.h.hermes.database.sqlite
      .prepare("SELECT count(*) FROM backends WHERE origin = 'runtime'")
      .pluck()
      .get();
    expect(stored).toBe(0);
  });

  it("accepts the allow-listed key variables and HERMES_BACKEND_KEY_<NAME>", async () => {
    const call = await hermesWith({});
    for (const [i, secretEnv] of ["GROQ_API_KEY", "HERMES_BACKEND_KEY_VLLM"].entries()) {
      const res = await call("POST", "/api/backends", {
        name: `ok${i}`,
        provider: "custom",
        url: "http://127.0.0.1:9/v1",
        secret_env: secretEnv,
      });
      expect(res.status, secretEnv).toBe(200);
    }
  });

  it("will not move Talos (and its token) to another URL at runtime", async () => {
    const call = await hermesWith({ TALOS_URL: "http://127.0.0.1:9", TALOS_TOKEN });
    const moved = await call("PUT", "/api/backends/talos", { url: "http://127.0.0.1:10" });
    expect(moved.status).toBe(400);
    expect(moved.body.error?.code).toBe("INVALID_INPUT");
    const rekeyed = await call("PUT", "/api/backends/ollama", { secret_env: "TALOS_TOKEN" });
    expect(rekeyed.status).toBe(400);
    expect(moved.h.hermes.backends.status().find((b) => b.name === "talos")?.location).toBe(
      "http://127.0.0.1:9",
    );
    // What stays allowed: tuning Talos without moving it.
    const tuned = await call("PUT", "/api/backends/talos", { timeout_seconds: 120 });
    expect(tuned.status).toBe(200);
  });

  it("refuses credentials in the URL however they are spelled", async () => {
    const call = await hermesWith({});
    for (const url of [
      "http://user:pw@127.0.0.1:9",
      "http://tok@127.0.0.1:9/v1",
      "http:user:pw@127.0.0.1:9",
    ]) {
      const res = await call("POST", "/api/backends", { name: "creds", provider: "custom", url });
      expect(res.status, url).toBe(400);
      expect(JSON.stringify(res.body), url).not.toContain("pw");
    }
  });
});
