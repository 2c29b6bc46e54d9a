import type { Migration } from "kysely/migration";
import * as initialSchema from "./001_initial_schema.ts";
import * as seedSystemConfig from "./002_seed_system_config.ts";
import * as hermesRuntime from "./003_hermes_runtime.ts";
import * as queueIndexes from "./004_queue_indexes.ts";

/**
 * Every migration, keyed by name; kysely runs them in name order. Static imports (no directory
 * scanning) so this works under Node's type stripping and in a bundle. Append new ones here.
 */
export const migrations: Record<string, Migration> = {
  "001_initial_schema": initialSchema,
  "002_seed_system_config": seedSystemConfig,
  "003_hermes_runtime": hermesRuntime,
  "004_queue_indexes": queueIndexes,
};
