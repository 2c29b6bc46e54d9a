import { describe, expect, it } from "vitest";
import { httpStatusError } from "../../src/backends/http/errors.ts";
import { config, errors, FakeBackend, manager, messages, settings, signal } from "./helpers.ts";

/** A job carries its kind of work (and a model only when pinned); each backend picks its own model. */
describe("model choice", () => {
  const setup = (cfg: Record<string, string> = {}) =>
    manager({ config: config({ "hermes.budget.price_table": '{"gpt-5": [125, 1000]}', ...cfg }) }).manager;

  it("a paid backend is priced on its configured model even when its list names others first", async () => {
    const m = setup();
    const paid = new FakeBackend("gpt5", { kind: "openai", local: false, models: ["llama3.1:8b", "qwen"] });
    m.register(paid, settings({ type: "remote_api", defaultModel: "gpt-5" }));
    await m.checkHealth();
    expect(m.status()[0]?.availableModels).toEqual(["llama3.1:8b", "qwen"]);
    const reasons = m.select({ jobType: "creation", work: "draft", messages }).rejected.map((r) => r.reason);
    // Priced (gpt-5 has a price); what stops it here is only that this manager has no budget ledger.
    expect(reasons).toEqual(["no budget ledger: paid calls are off"]);
  });

  it("a free backend whose configured model is not installed takes an installed one", async () => {
    const m = setup();
    m.register(
      new FakeBackend("ollama", { models: ["qwen2.5-coder:7b"] }),
      settings({ defaultModel: "llama3.1:8b" }),
    );
    await m.checkHealth();
    const result = await m.execute({ jobId: 1, jobType: "creation", work: "draft", messages }, signal());
    expect(result.model).toBe("qwen2.5-coder:7b");
  });

  it("backend.<name>.work_models picks the model for a kind of work; other work runs the default", async () => {
    const m = setup({ "backend.server.work_models": "rewrite=qwen2.5:72b,refine=llama3.1:70b" });
    const server = new FakeBackend("server");
    m.register(server, settings({ type: "server_model", defaultModel: "llama3.1:8b" }));
    for (const [jobId, work] of [
      [1, "rewrite"],
      [2, "refine"],
      [3, "draft"],
    ] as const)
      await m.execute({ jobId, jobType: "creation", work, messages }, signal());
    expect(server.calls.map((c) => c.model)).toEqual(["qwen2.5:72b", "llama3.1:70b", "llama3.1:8b"]);
  });

  it("a pinned model wins, and a backend that does not serve it cannot take the job", async () => {
    const m = setup({ "backend.a.work_models": "draft=llama3.1:70b" });
    const a = new FakeBackend("a", { models: ["llama3.1:8b", "llama3.1:70b"] });
    const b = new FakeBackend("b", { models: ["mistral:7b"] });
    m.register(a, settings({ type: "local", defaultModel: "llama3.1:8b" }));
    m.register(b, settings({ type: "local", defaultModel: "mistral:7b" }));
    await m.checkHealth();
    const pinned = { jobId: 1, jobType: "x", work: "draft", model: "mistral:7b", messages };
    expect(await m.execute(pinned, signal())).toMatchObject({ backend: "b", model: "mistral:7b" });
    expect(a.calls).toHaveLength(0);
  });
});

describe("a backend without its own model", () => {
  const missing = (backend: string, model: string) =>
    httpStatusError({ backend, kind: "openai", host: `http://${backend}.test`, model }, 404, {
      message: `model '${model}' not found`,
    });

  it("is that backend's setup, not the job's: an unpinned job fails over instead of failing", async () => {
    const { manager: m } = manager({ config: config() });
    const a = new FakeBackend("a").failWith(() => missing("a", "m"));
    const b = new FakeBackend("b");
    m.register(a, settings({ type: "local" }));
    m.register(b, settings({ type: "local" }));
    expect(await m.execute({ jobId: 1, jobType: "x", work: "draft", messages }, signal())).toMatchObject({
      backend: "b",
    });
  });

  it("with the other backend failing for now, the job keeps a retryable error (it is not failed for good)", async () => {
    const { manager: m } = manager({ config: config() });
    m.register(
      new FakeBackend("a").failWith(() => errors.http500("a")),
      settings({ type: "local" }),
    );
    m.register(
      new FakeBackend("b").failWith(() => missing("b", "m")),
      settings({ type: "local" }),
    );
    const error = await m
      .execute({ jobId: 1, jobType: "x", work: "draft", messages }, signal())
      .catch((e) => e);
    expect(error).toMatchObject({ code: "BACKEND_ERROR", retryable: true });
  });

  it("a pinned model that is missing is the job's problem: not failed over", async () => {
    const { manager: m } = manager({ config: config() });
    const a = new FakeBackend("a").failWith(() => missing("a", "pinned"));
    const b = new FakeBackend("b");
    m.register(a, settings({ type: "local" }));
    m.register(b, settings({ type: "local" }));
    const pinned = { jobId: 1, jobType: "x", work: "draft", model: "pinned", messages };
    const error = await m.execute(pinned, signal()).catch((e) => e);
    expect(error).toMatchObject({ code: "BACKEND_ERROR", retryable: false });
    expect(b.calls).toHaveLength(0);
  });
});
