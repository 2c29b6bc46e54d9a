import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHermes, type Hermes, type HermesOptions } from "../../src/app/hermes.ts";
import { parseEnv } from "../../src/config/env.ts";
import { mulberry32 } from "../../src/learning/random.ts";
import { createLogger, type Logger } from "../../src/log.ts";

export const OWNER_ID = 1001;

/** Starts a whole Hermes in-process on a temp database with the given environment overrides. */
export async function startTestHermes(
  env: Record<string, string>,
  configOverrides: Record<string, string> = {},
  /** Replaces the silent logger (a test that reads what Hermes logs). */
  logger?: Logger,
  /** The question flow's test seams (e.g. a value floor of 0: every slot worth asking is asked). */
  questions?: HermesOptions["questions"],
) {
  const dir = mkdtempSync(join(tmpdir(), "hermes-test-"));
  const fullEnv = parseEnv({
    HERMES_DB_PATH: join(dir, "hermes.db"),
    HERMES_HTTP_PORT: "0",
    HERMES_OWNER_IDS: String(OWNER_ID),
    ...env,
  });
  const boot = async (config: Record<string, string>) => {
    const h = await createHermes({
      env: fullEnv,
      logger: logger ?? createLogger({ level: process.env.TEST_LOG_LEVEL ?? "silent", secrets: [] }),
      // Fixed seed: the questions asked are the same on every run.
      random: mulberry32(20260101),
      stopGraceMs: 500,
      config,
      ...(questions ? { questions } : {}),
    });
    await h.start();
    return h;
  };
  let hermes: Hermes = await boot(configOverrides);
  const handle = {
    hermes,
    dir,
    /** Stops Hermes and starts a new one on the same database, as a restart would. */
    async restart() {
      await handle.hermes.stop();
      hermes = await boot({});
      handle.hermes = hermes;
    },
    async stop() {
      await handle.hermes.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return handle;
}
