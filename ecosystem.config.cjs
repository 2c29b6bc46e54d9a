// pm2 processes. `pm2 start ecosystem.config.cjs --only hermes` on the Hermes machine,
// `--only talos` on the machine beside Ollama. Secrets come from the environment (or an
// env file you keep out of git), never from this file.
module.exports = {
  apps: [
    {
      name: "hermes",
      // Run `npm run build` first (npm start does it): the bundle starts in ~0.2-0.5 s (by the machine) and idles at ~78 MB
      // with the bot polling (bench/results/process.md).
      script: "dist/main.js",
      interpreter: "node",
      // The same flags as `npm start`. --liftoff-only: the only WebAssembly in Hermes is fetch's HTTP
      // parser (undici's llhttp, behind Telegram file transfers and OpenAI-compatible calls); V8's
      // optimising tier for it cost ~13 MB of RSS for the life of the process, and CPU per idea did
      // not measurably change without it (bench/per-idea.ts). Not --no-concurrent-recompilation: it
      // saves ~17 MB after a burst of ideas (the compiler threads' malloc arenas), but puts
      // optimisation on the main thread: c1 p99 per idea went 5.3–5.6 → 8.3–8.6 ms in 2 alternating
      // runs. --v8-pool-size=2 (Node's default is 4 V8 worker threads): that scratch memory is kept
      // per thread, and with two workers RSS after 20,000 ideas and a minute's idling was ~99 MB
      // against ~102–106 with four (bench/results/memory.md). No --max-semi-space-size: a 1 MB young
      // generation kept idle RSS low only until the start-up release (src/ops/idle-memory.ts) did the
      // same, and under load it cost ~30% more CPU per idea (bench/results/process.md).
      // --max-opt=2: V8 stops at its mid tier (Maglev). Its top tier (TurboFan) pages ~5 MB of its
      // own code in from the node binary the first time anything gets hot, even in an idle process
      // (~7 minutes of polling and timers: 79 -> 85 MB), and keeps scratch memory after a burst
      // (RSS after 20,000 ideas and a minute idle: 101.8 -> 90.8 MB). Hermes waits on SQLite and
      // the network: CPU per idea was the same within noise in 4 alternating per-idea runs.
      node_args: "--liftoff-only --v8-pool-size=2 --max-opt=2",
      cwd: __dirname,
      // Hermes finishes or requeues running jobs on SIGTERM; give it time before SIGKILL.
      kill_timeout: 15000,
      max_memory_restart: "300M",
      restart_delay: 2000,
      exp_backoff_restart_delay: 1000,
      env: { NODE_ENV: "production" },
    },
    {
      name: "talos",
      script: "agent/main.ts",
      interpreter: "node",
      cwd: __dirname,
      // A stopping Talos waits at most 3 s for its jobs to close.
      kill_timeout: 10000,
      max_memory_restart: "150M",
      restart_delay: 2000,
      exp_backoff_restart_delay: 1000,
      env: { NODE_ENV: "production" },
    },
  ],
};
