import { createHermes, type Hermes } from "./app/hermes.ts";
import { type Env, EnvError, parseEnv } from "./config/env.ts";

/**
 * `npm start`: parses the environment, builds and starts Hermes (src/app/hermes.ts is the
 * composition root), and stops it cleanly on SIGTERM/SIGINT. Exit codes: 1 when the environment
 * is invalid, Hermes cannot start or stops uncleanly; 0 after a clean stop.
 */
async function main(): Promise<void> {
  let env: Env;
  try {
    env = parseEnv();
  } catch (error) {
    if (error instanceof EnvError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  let hermes: Hermes;
  try {
    hermes = await createHermes({ env });
  } catch (error) {
    return fail(error);
  }
  // Handlers first: a signal while start() still runs (Telegram's getMe, the first health round)
  // must stop Hermes cleanly, not kill it with the default action.
  const started = hermes.start();
  const shutdown = (signal: string) => {
    hermes.log.info({ signal }, "signal received");
    started
      .catch(() => {})
      .then(() => hermes.stop())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          hermes.log.error({ err: error instanceof Error ? error.message : String(error) }, "unclean stop");
          process.exit(1);
        },
      );
  };
  process.once("SIGTERM", () => shutdown("SIGTERM"));
  process.once("SIGINT", () => shutdown("SIGINT"));
  await started.catch(fail);
}

function fail(error: unknown): never {
  process.stderr.write(`Hermes could not start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}

if (process.argv[1] && import.meta.filename === process.argv[1]) await main();
