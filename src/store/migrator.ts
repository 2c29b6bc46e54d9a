import type { Kysely } from "kysely";
import { sql } from "kysely";
import type { Migration, MigrationProvider } from "kysely/migration";
import { Migrator } from "kysely/migration";
import { migrations as allMigrations } from "../../migrations/index.ts";

export interface MigrateToLatestOptions {
  /** The migrations to apply; defaults to `migrations/index.ts`. Tests pass their own. */
  readonly migrations?: Record<string, Migration>;
}

/** kysely's Migrator over a static list, so it works under type stripping and in a bundle. */
export function staticMigrationProvider(migrations: Record<string, Migration>): MigrationProvider {
  return { getMigrations: async () => migrations };
}

/**
 * Brings the SQLite database to the latest schema. Idempotent: a second call applies nothing.
 *
 * All pending migrations run in one `BEGIN IMMEDIATE` transaction, together with kysely's own
 * bookkeeping: either every one is applied and recorded, or (on error or a crash) none is, and the
 * next start retries from the same state. The write lock also serialises two processes starting at
 * once (kysely's SQLite lock is a no-op). Pass the root Kysely instance, not a transaction.
 *
 * Returns the names applied, in order; throws an Error naming the failed migration (cause attached).
 */
export async function migrateToLatest(
  // biome-ignore lint/suspicious/noExplicitAny: works on any schema version
  db: Kysely<any>,
  options: MigrateToLatestOptions = {},
): Promise<{ applied: string[] }> {
  const provider = staticMigrationProvider(options.migrations ?? allMigrations);

  const { error, results = [] } = await db.connection().execute(async (conn) => {
    await sql`BEGIN IMMEDIATE`.execute(conn);
    try {
      const resultSet = await new Migrator({
        db: conn,
        provider,
        nameComparator: byCodeUnits,
      }).migrateToLatest();
      await sql.raw(resultSet.error === undefined ? "COMMIT" : "ROLLBACK").execute(conn);
      return resultSet;
    } catch (thrown) {
      // SQLite may already have rolled back on its own (e.g. SQLITE_FULL); nothing more to undo then.
      await sql`ROLLBACK`.execute(conn).catch(() => {});
      throw thrown;
    }
  });

  if (error !== undefined) {
    const failed = results.find((result) => result.status === "Error");
    const reason = error instanceof Error ? error.message : String(error);
    const message =
      failed === undefined
        ? `Database migration failed: ${reason}`
        : `Database migration "${failed.migrationName}" failed: ${reason}`;
    throw new Error(`${message} (no migration of this run was applied)`, { cause: error });
  }

  return {
    applied: results.filter((result) => result.status === "Success").map((result) => result.migrationName),
  };
}

/**
 * Migration names ("001_initial", …) in code-unit order, which for these names is the order
 * kysely's default (String#localeCompare) gives; that default loaded ICU's collation tables at every
 * start, ~3 MB of resident memory for the life of the process.
 */
function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
