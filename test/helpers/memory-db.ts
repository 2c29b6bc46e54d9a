import { type HermesDatabase, openDatabase } from "../../src/store/database.ts";

/** A migrated in-memory database, as every unit test of the store uses. */
export function memoryDb(): Promise<HermesDatabase> {
  return openDatabase({ path: ":memory:" });
}
