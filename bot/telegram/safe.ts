/**
 * Telegram calls that are nice to have (chat action, setMyCommands, edits of a status line) must
 * never break the flow: a failure there is logged at debug level and forgotten.
 */
export async function optional<T>(
  call: () => Promise<T>,
  log: { debug(obj: object, msg: string): void },
  what: string,
): Promise<T | undefined> {
  try {
    return await call();
  } catch (error) {
    log.debug(
      { err: error instanceof Error ? error.message : String(error) },
      `optional Telegram call failed: ${what}`,
    );
    return undefined;
  }
}
