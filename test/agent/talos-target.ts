import { listenTalos } from "../../agent/server/server.ts";
import { TalosBackend } from "../../src/backends/talos/backend.ts";
import type { ContractSetup, ContractTarget } from "../backends/contract.ts";
import { FakeOllama } from "../fakes/fake-ollama.ts";
import { buildTalos } from "./agent-harness.ts";

export const TALOS_TOKEN = "talos-contract-token-0123456789";

/**
 * The talos kind for the shared backend suites: Hermes' TalosBackend → a real Talos app on
 * loopback → the fake Ollama. `fake` is the Ollama behind Talos; stopping it stops both.
 */
export const talosTarget: ContractTarget = {
  name: "talos",
  async start(opts = {}): Promise<ContractSetup> {
    const ollama = await FakeOllama.start();
    const { app, jobs } = buildTalos(ollama.url, TALOS_TOKEN, { resultTtlMs: 60_000, maxResults: 100 });
    const server = await listenTalos(app, { host: "127.0.0.1", port: 0 });
    const backend = new TalosBackend({
      name: "talos",
      url: `http://127.0.0.1:${server.port}`,
      token: TALOS_TOKEN,
      pollIntervalMs: 10,
      maxPollIntervalMs: 40,
      defaultTimeoutMs: opts.defaultTimeoutMs,
      reconnectGraceMs: 200,
    });
    let stopped = false;
    return {
      backend,
      model: "llama3.1:8b",
      progress: "batched",
      unavailableCode: "TALOS_UNAVAILABLE",
      fake: {
        get requests() {
          return ollama.requests;
        },
        get structuredRequests() {
          return ollama.structuredRequests;
        },
        setResponder: (fn) => ollama.setResponder(fn),
        setStructuredResponder: (fn) => ollama.setStructuredResponder(fn),
        abortedCount: () => ollama.abortedCount(),
        inFlight: () => ollama.inFlight(),
        async stop() {
          if (stopped) return;
          stopped = true;
          await server.close();
          await jobs.shutdown(200);
          await ollama.stop();
        },
      },
    };
  },
};
