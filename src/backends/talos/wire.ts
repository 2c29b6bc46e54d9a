/**
 * Talos' wire format (agent/protocol.ts), loaded by the first call to a Talos agent. Its zod
 * schemas cost ~0.3 MB of heap, and the registry evaluates this folder whether or not a Talos
 * backend is configured; most Hermes installs never talk to one.
 */
export type Protocol = typeof import("../../../agent/protocol.ts");

let loading: Promise<Protocol> | undefined;

export function protocol(): Promise<Protocol> {
  loading ??= import("../../../agent/protocol.ts");
  return loading;
}
