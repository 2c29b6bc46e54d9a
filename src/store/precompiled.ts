import {
  type Compilable,
  type CompiledQuery,
  type Kysely,
  type QueryResult,
  type RawBuilder,
  sql,
} from "kysely";

/**
 * A Kysely query built and compiled once, then run with new values: for the few queries on every
 * idea's path. Kysely builds a query tree and compiles it to SQL on every call — about 15 of the
 * 20 µs such a read costs — although only the values change (README.md, rule 3). The query is
 * still written with Kysely, so it is type-checked against schema.ts and its rows have the
 * builder's type; it still runs through Kysely's executor, so it waits its turn behind an open
 * Kysely transaction like any other query.
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

/**
 * A value compared in a WHERE that SQLite must not plan by: `col = +?` instead of `col = ?`.
 * SQLite (3.54, as better-sqlite3 13 builds it) marks a statement `WHERE col = ? ORDER BY …` (and
 * any `LIMIT ?`) to be prepared again whenever a value is bound to that parameter — and
 * better-sqlite3 binds on every run, so such a statement is compiled anew on each run (thread's
 * jobs: 90 µs instead of 1.5). The unary plus is a no-op on the value and on the comparison
 * (same affinity rules, same index), but hides the parameter from that planning.
 */
export function unplanned<T>(value: T): RawBuilder<T> {
  return sql<T>`+${value}`;
}
