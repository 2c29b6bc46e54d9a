import { createHermes, type HermesOptions } from "../../src/app/hermes.ts";
import { ManualClock } from "../../src/clock.ts";
import { parseEnv } from "../../src/config/env.ts";
import { mulberry32 } from "../../src/learning/random.ts";
import { createLogger } from "../../src/log.ts";
import type { Dispatcher } from "../../src/queue/scheduler/scheduler.ts";
import { FakeBackend } from "../manager/helpers.ts";

export interface LogLine {
  level: "info" | "warn" | "error";
  obj: object;
  msg: string;
}

const LEVELS: Record<number, LogLine["level"]> = { 30: "info", 40: "warn", 50: "error" };

/** A real pino logger (as production's) whose info/warn/error lines land in `lines`. */
export function recordingLogger(lines: LogLine[]) {
  return createLogger({
    level: "info",
    secrets: [],
    destination: {
      write(line: string) {
        const { level, msg, time: _t, pid: _p, hostname: _h, app: _a, ...obj } = JSON.parse(line);
        const named = LEVELS[level as number];
        if (named) lines.push({ level: named, obj, msg });
      },
    },
  });
}

export interface TestHermesOptions extends Partial<Omit<HermesOptions, "env" | "clock">> {
  env?: Record<string, string>;
  clock?: ManualClock;
  dispatch: Dispatcher;
}

/**
 * createHermes as production builds it, on an in-memory database with a manual clock, no HTTP
 * listener and no bot; Ollama is a fake backend (always healthy) and jobs run on `dispatch`.
 * Nothing runs until start().
 */
export async function testHermes(opts: TestHermesOptions) {
  const clock = opts.clock ?? new ManualClock();
  const ollama = new FakeBackend("ollama", { kind: "ollama" });
  const hermes = await createHermes({
    logger: createLogger({ level: process.env.TEST_LOG_LEVEL ?? "silent", secrets: [] }),
    http: false,
    telegram: false,
    jitter: () => 0.5,
    stopGraceMs: 0,
    backendFactories: { ollama: () => ollama },
    // The learners' randomness is fixed unless the test seeds it through configuration itself.
    ...(opts.config?.["hermes.learning.random_seed"] === undefined ? { random: mulberry32(20260101) } : {}),
    ...opts,
    env: parseEnv({ HERMES_DB_PATH: ":memory:", HERMES_HTTP_PORT: "0", ...opts.env }),
    clock,
  });
  return { hermes, clock, ollama };
}
