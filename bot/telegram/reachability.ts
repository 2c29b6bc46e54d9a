import { HttpError, type Transformer } from "grammy";

/**
 * Says at once when Telegram's API cannot be reached, with the reason, instead of staying silent
 * while auto-retry backs off (about 45 s before start-up gives up). Installed inside auto-retry, so
 * it sees every attempt; it logs on the change only (unreachable, then reachable again).
 */
export function reachabilityReporter(log: {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}): Transformer {
  let unreachable = false;
  return async (prev, method, payload, signal) => {
    try {
      const result = await prev(method, payload, signal);
      if (unreachable) log.info({ method }, "Telegram API reachable again");
      unreachable = false;
      return result;
    } catch (error) {
      if (error instanceof HttpError && !unreachable) {
        unreachable = true;
        log.warn(
          { method, err: error.message },
          "Telegram API unreachable (check the network, TELEGRAM_API_ROOT or a proxy); retrying",
        );
      }
      throw error;
    }
  };
}
