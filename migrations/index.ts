import type { Migration } from "kysely/migration";
import * as initialSchema from "./001_initial_schema.ts";
import * as seedSystemConfig from "./002_seed_system_config.ts";
import * as hermesRuntime from "./003_hermes_runtime.ts";
import * as queueIndexes from "./004_queue_indexes.ts";
import * as seedQuestionTemplates from "./005_seed_question_templates.ts";
import * as httpApi from "./006_http_api.ts";
import * as backendManager from "./007_backend_manager.ts";
import * as telegram from "./008_telegram.ts";
import * as callbackGuards from "./009_callback_guards.ts";
import * as historyIndexes from "./010_history_indexes.ts";
import * as questionSuggestions from "./011_question_suggestions.ts";
import * as stallAndWorkModels from "./012_stall_and_work_models.ts";
import * as durableTelegram from "./013_durable_telegram.ts";
import * as intakeLedger from "./014_intake_ledger.ts";
import * as media from "./015_media.ts";
import * as modelUnderstanding from "./017_model_understanding.ts";
import * as learningSeed from "./018_learning_seed.ts";
import * as questionWording from "./019_question_wording.ts";
import * as narrowJobIndexes from "./022_narrow_job_indexes.ts";
import * as childKeyIndexes from "./023_child_key_indexes.ts";
import * as settledJobCounts from "./024_settled_job_counts.ts";
import * as draftCountedOnCompletion from "./025_draft_counted_on_completion.ts";

/**
 * Every migration, keyed by name; kysely runs them in name order. Static imports (no directory
 * scanning) so this works under Node's type stripping and in a bundle. Append new ones here,
 * numbered after the highest (016, 020 and 021 were never used): the migrator refuses a database
 * that has run a later migration than a pending one, so a gap must never be filled.
 */
export const migrations: Record<string, Migration> = {
  "001_initial_schema": initialSchema,
  "002_seed_system_config": seedSystemConfig,
  "003_hermes_runtime": hermesRuntime,
  "004_queue_indexes": queueIndexes,
  "005_seed_question_templates": seedQuestionTemplates,
  "006_http_api": httpApi,
  "007_backend_manager": backendManager,
  "008_telegram": telegram,
  "009_callback_guards": callbackGuards,
  "010_history_indexes": historyIndexes,
  "011_question_suggestions": questionSuggestions,
  "012_stall_and_work_models": stallAndWorkModels,
  "013_durable_telegram": durableTelegram,
  "014_intake_ledger": intakeLedger,
  "015_media": media,
  "017_model_understanding": modelUnderstanding,
  "018_learning_seed": learningSeed,
  "019_question_wording": questionWording,
  "022_narrow_job_indexes": narrowJobIndexes,
  "023_child_key_indexes": childKeyIndexes,
  "024_settled_job_counts": settledJobCounts,
  "025_draft_counted_on_completion": draftCountedOnCompletion,
};
