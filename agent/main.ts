/**
 * Talos entry point: `node agent/main.ts` (pm2 app "talos", or launchd on a Mac). Reads the
 * environment (agent/config.ts), serves the agent API and stops cleanly on SIGTERM/SIGINT: new
 * work is refused, running jobs are cancelled (their Ollama streams closed), then the process exits.
 * Hermes notices the lost jobs (status 404 or SHUTDOWN) and submits them again once Talos is back.
 */
import { homedir } from "node:os";
import { pino } from "pino";
import { ConfigError, loadConfig, type TalosConfig } from "./config.ts";
import { createResultLog, JobManager } from "./jobs/jobs.ts";
import { OllamaGateway } from "./ollama.ts";
import { TALOS_VERSION } from "./protocol.ts";
import { SystemResources } from "./resources.ts";
import { createTalosApp, listenTalos } from "./server/server.ts";

const log = pino({ name: "talos", level: process.env.TALOS_LOG_LEVEL ?? "info" });

let config: TalosConfig;
try {
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) {
    log.fatal(err.message);
    process.exit(1);
  }
  throw err;
}

const ollama = new OllamaGateway(config.ollamaHost);
const jobs = new JobManager({
  ollama,
  maxConcurrent: config.maxConcurrentJobs,
  jobTimeoutMs: config.jobTimeoutSeconds * 1000,
  resultTtlMs: config.resultTtlSeconds * 1000,
  maxResults: config.maxResults,
  onFinished: (() => {
    const write = config.logDir
      ? createResultLog(config.logDir, (err) =>
          log.warn({ err: err instanceof Error ? err.message : String(err) }, "cannot write the result log"),
        )
      : undefined;
    return (job) => {
      log.info(
        {
          job_id: job.job_id,
          status: job.status,
          model: job.model,
          tokens: job.tokens,
          error: job.error?.code,
        },
        "job finished",
      );
      write?.(job);
    };
  })(),
});
const resources = new SystemResources(config.logDir ?? homedir());
const app = createTalosApp({
  token: config.token,
  jobs,
  ollama,
  resources,
  limits: { maxCpuPercent: config.maxCpuPercent, maxMemoryPercent: config.maxMemoryPercent },
  log,
});

let running: Awaited<ReturnType<typeof listenTalos>>;
try {
  running = await listenTalos(app, { host: config.host, port: config.port });
} catch (err) {
  log.fatal(
    { err: err instanceof Error ? err.message : String(err), host: config.host, port: config.port },
    "cannot listen",
  );
  process.exit(1);
}

log.info(
  {
    url: `http://${config.host.includes(":") ? `[${config.host}]` : config.host}:${running.port}`,
    version: TALOS_VERSION,
    ollama: config.ollamaHost,
    max_concurrent: config.maxConcurrentJobs,
    auth: config.token === undefined ? "none (loopback only)" : "bearer",
    log_dir: config.logDir,
  },
  "talos listening",
);
ollama.probe().then((p) => {
  if (p.reachable) log.info({ version: p.version, loaded: p.loaded_models }, "ollama reachable");
  else
    log.warn({ url: config.ollamaHost, error: p.error }, "ollama is not reachable yet; health says degraded");
});

let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) {
    log.warn({ signal }, "second signal: exiting now");
    process.exit(1);
  }
  stopping = true;
  log.info({ signal }, "stopping: cancelling running jobs");
  const cancelled = await jobs.shutdown();
  await running.close();
  log.info({ cancelled }, "stopped");
  process.exit(0);
}
process.on("SIGTERM", () => void stop("SIGTERM"));
process.on("SIGINT", () => void stop("SIGINT"));
