// pm2 processes. `pm2 start ecosystem.config.cjs --only hermes` on the Hermes machine,
// `--only talos` on the machine beside Ollama. Secrets come from the environment (or an
// env file you keep out of git), never from this file.
module.exports = {
  apps: [
    {
      name: "hermes",
      // Run `npm run build` first (npm start does it): the bundle starts in ~0.2 s and idles at ~80 MB.
      script: "dist/main.js",
      interpreter: "node",
      // The same flags as `npm start`. A small young generation: Hermes is I/O-bound, and this keeps
      // idle RSS ~5 MB lower. --liftoff-only: the only WebAssembly in Hermes is fetch's HTTP parser
      // (undici's llhttp, behind every backend call and the bot's polling); V8's optimising tier
      // for it cost ~13 MB of RSS for the life of the process, and CPU per idea did not measurably
      // change without it (bench/per-idea.ts). --no-concurrent-recompilation: the optimising compiler
      // runs on the main thread, so its scratch memory is malloc'd there and reused; on its own
      // threads it left their two malloc arenas (~7 MB each) resident after a burst of ideas (RSS
      // 107 → 90 MB after 1,000 ideas through the API and 40 s idle), for no measurable CPU per idea.
      node_args: "--max-semi-space-size=1 --liftoff-only --no-concurrent-recompilation",
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
