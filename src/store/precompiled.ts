import type { Compilable, CompiledQuery, Kysely, QueryResult } from "kysely";

/**
 * A Kysely query built and compiled once, then run with new values: for the few queries on every
 * idea's path. Kysely builds a query tree and compiles it to SQL on every call — about 15 of the
 * 20 µs such a read costs — although only the values change (README.md, rule 3). The query is
 * still written with Kysely, so it is type-checked against schema.ts and its rows have the
 * builder's type; it still runs through Kysely's executor like any other query. (Kysely's SQLite
 * driver holds no lock on its one connection: a query issued while a Kysely transaction is open
 * runs inside that transaction, as the raw handle's statements do.)
 *
 * `build` receives one stand-in per argument and must use each as a value (never to choose the
 * query's shape: an `in` list's length, whether a clause is there); each stand-in is found in the
 * compiled parameters and replaced by the call's value, wherever Kysely put it.
 */
export function precompile<DB, A extends unknown[], R>(
  db: Kysely<DB>,
  arity: A["length"],
  build: (...args: A) => Compilable<R>,
): (...args: A) => Promise<QueryResult<R>> {
  const marks = Array.from({ length: arity }, (_, i) => Symbol(`argument ${i}`));
  const compiled = build(...(marks as unknown as A)).compile();
  const slots = compiled.parameters.map((p) => marks.indexOf(p as symbol));
  for (const [i, mark] of marks.entries()) {
    if (!compiled.parameters.includes(mark))
      throw new Error(`precompile: argument ${i} is not a value of the query (${compiled.sql})`);
  }
  return (...args) => {
    const parameters = compiled.parameters.map((p, i) => {
      const slot = slots[i] as number;
      return slot < 0 ? p : args[slot];
    });
    return db.executeQuery({ ...compiled, parameters } as CompiledQuery<R>);
  };
}
