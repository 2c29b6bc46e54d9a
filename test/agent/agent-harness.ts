import { JobManager, type JobManagerOptions } from "../../agent/jobs/jobs.ts";
import { OllamaGateway } from "../../agent/ollama.ts";
import type { ResourceSnapshot } from "../../agent/resources.ts";
import { createTalosApp } from "../../agent/server/server.ts";

/**
 * A Talos app in front of an Ollama URL, for tests: the real job manager and routes, with a
 * resource snapshot the test can change (to trip the resource guard).
 */
export function buildTalos(ollamaUrl: string, token: string, opts: Partial<JobManagerOptions> = {}) {
  const ollama = new OllamaGateway(ollamaUrl);
  const jobs = new JobManager({
    ollama,
    maxConcurrent: 1,
    jobTimeoutMs: 60_000,
    resultTtlMs: 3_600_000,
    maxResults: 500,
    ...opts,
  });
  const resources: ResourceSnapshot = {
    cpu_percent: 12,
    memory_percent: 40,
    load_avg: [0.5, 0.4, 0.3],
    disk_free_bytes: 500e9,
    disk_percent: 50,
  };
  const app = createTalosApp({
    token,
    jobs,
    ollama,
    resources: { snapshot: async () => ({ ...resources }) },
    limits: { maxCpuPercent: 90, maxMemoryPercent: 80 },
  });
  return { app, jobs, resources, ollama };
}
