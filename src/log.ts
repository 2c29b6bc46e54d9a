import { createRequire } from "node:module";
import pino, { type DestinationStream, type Logger } from "pino";

export type { Logger };

export interface LogOptions {
  level: string;
  /**
   * Secret values (bot token, API keys, admin token, secrets held in settings) scrubbed from every
   * line, wherever they appear. A function is asked again after `secretsChanged()`.
   */
  secrets: (string | undefined)[] | (() => (string | undefined)[]);
  destination?: DestinationStream;
}

/**
 * pino with two layers of secret protection: known secret fields are redacted by path, and every
 * serialized line is scrubbed of the secret values themselves (a token can hide inside a URL in an
 * error message, where no path rule reaches).
 */
export function createLogger(options: LogOptions): Logger & { secretsChanged(): void } {
  const source = options.secrets;
  const current = () =>
    (typeof source === "function" ? source() : source).filter(
      (s): s is string => typeof s === "string" && s.length >= 6,
    );
  let secrets = current();
  const scrub = (line: string): string => {
    let out = line;
    for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join("[REDACTED]");
    return out;
  };
  const logger = pino(
    {
      level: options.level,
      base: { app: "hermes" },
      redact: {
        paths: [
          "token",
          "*.token",
          "apiKey",
          "*.apiKey",
          "authorization",
          "*.authorization",
          "headers.authorization",
          "*.headers.authorization",
          "config.key",
        ],
        censor: "[REDACTED]",
      },
      hooks: { streamWrite: scrub },
    },
    options.destination ?? defaultDestination(),
  );
  return Object.assign(logger, {
    secretsChanged: () => {
      secrets = current();
    },
  });
}

/**
 * A person at a terminal reads lines ("12:04:31 INFO  database ready  path=…"); pm2, files and
 * pipes get one JSON object per line. Both synchronous, so a fatal start-up message printed after
 * the logs comes after them. pino-pretty is required lazily: off a terminal it is never loaded.
 */
function defaultDestination(): DestinationStream {
  if (!process.stdout.isTTY) return pino.destination({ dest: 1, sync: true });
  const pretty = createRequire(import.meta.url)("pino-pretty") as (options: object) => DestinationStream;
  return pretty({
    sync: true,
    colorize: true,
    translateTime: "SYS:HH:MM:ss",
    ignore: "pid,hostname,app",
    singleLine: true,
  });
}
