import type { HermesDatabase } from "../../src/store/database.ts";

/**
 * Runs `fn` and returns the query plan of each statement it ran, in order (statements prepared
 * during `fn`: build the repositories inside it). Kysely prepares through the same handle.
 */
export async function plansOf(d: HermesDatabase, fn: () => Promise<unknown> | unknown): Promise<string[]> {
  const ran: { source: string; args: unknown[] }[] = [];
  const original = d.sqlite.prepare.bind(d.sqlite);
  d.sqlite.prepare = ((source: string) => {
    const statement = original(source);
    for (const method of ["all", "get", "run"] as const) {
      const call = statement[method].bind(statement) as (...args: unknown[]) => unknown;
      (statement as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
        ran.push({ source, args });
        return call(...args);
      };
    }
    return statement;
  }) as typeof d.sqlite.prepare;
  try {
    await fn();
  } finally {
    d.sqlite.prepare = original as typeof d.sqlite.prepare;
  }
  return ran.map(({ source, args }) =>
    (original(`EXPLAIN QUERY PLAN ${source}`).all(...args) as { detail: string }[])
      .map((r) => r.detail)
      .join("; "),
  );
}
