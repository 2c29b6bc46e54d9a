/**
 * Kysely types of the database, as built by `migrations/` (001 the spec's schema, 003 Hermes' additions).
 *
 * Conventions:
 * - SQLite has no booleans: BOOLEAN columns hold 0/1 and are typed `number`.
 * - Dates are TEXT. Hermes writes ISO-8601 (`new Date().toISOString()`); a column left to its
 *   `DEFAULT CURRENT_TIMESTAMP` holds SQLite's `YYYY-MM-DD HH:MM:SS` (UTC) instead, so set dates
 *   explicitly when they will be compared or sorted.
 * - A column with a DEFAULT is `Generated<T>`: optional on insert, and never written as NULL through
 *   Kysely, so it reads as `T`.
 * - JSON columns are TEXT (`string | null`); parse them with zod at the repository boundary.
 */
import type { Generated, Insertable, Selectable, Updateable } from "kysely";
import type { ConfigType, ConfigValueType } from "../../migrations/seed-config.ts";

export type { ConfigType, ConfigValueType };

/** Where a thread came from (idea_threads.source). */
export type ThreadSource = "telegram" | "api" | "cli" | "external";

/** budget_ledger.state: reserved before a paid call, settled with the actual cost, or released. */
export type LedgerState = "reserved" | "settled" | "released";

// 1. idea_threads ------------------------------------------------------------------------------

export interface IdeaThreadsTable {
  id: Generated<number>;
  uuid: string;
  title: string;
  original_request: string;
  initial_clarity_score: Generated<number>;
  final_clarity_score: Generated<number>;
  /** active, paused, completed, archived, failed */
  status: Generated<string>;
  /** research, creation, analysis, decision, mixed */
  idea_type: string | null;
  complexity_score: Generated<number>;
  priority: Generated<number>;

  user_context: string | null;
  communication_style: string | null;
  depth_preference: string | null;

  learned_patterns: string | null;
  optimization_applied: string | null;
  conversation_effectiveness: Generated<number>;

  final_result_summary: string | null;
  user_satisfaction: number | null;
  success_criteria_met: string | null;

  created_date: Generated<string>;
  last_active: Generated<string>;
  completed_date: string | null;
  total_execution_time_minutes: Generated<number>;
  total_conversation_time_minutes: Generated<number>;

  draft_count: Generated<number>;
  optimization_savings: Generated<number>;
  pattern_confidence: Generated<number>;

  // 003
  /** Owner: Telegram user id, or 'cli', or 'api'. */
  user_id: string | null;
  chat_id: string | null;
  source: Generated<ThreadSource>;
  callback_url: string | null;
  /** JSON */
  clarity_slots: string | null;
}

// 2. jobs --------------------------------------------------------------------------------------

export interface JobsTable {
  id: Generated<number>;
  thread_id: number;
  parent_job_id: number | null;
  job_sequence: Generated<number>;
  job_type: string;
  job_subtype: string | null;
  /** pending, queued, running, completed, failed, retrying */
  status: Generated<string>;

  classification_confidence: Generated<number>;
  required_clarity_level: Generated<number>;
  achieved_clarity_level: Generated<number>;

  prompt_template_used: string | null;
  prompt_variables: string | null;
  backend_used: string | null;
  model_used: string | null;
  backend_confidence: Generated<number>;
  model_confidence: Generated<number>;

  result_summary: string | null;
  full_result: string | null;
  result_quality_score: Generated<number>;
  user_feedback: number | null;
  met_success_criteria: string | null;

  execution_time_seconds: Generated<number>;
  queue_time_seconds: Generated<number>;
  processing_time_seconds: Generated<number>;
  cost_cents: Generated<number>;

  retry_count: Generated<number>;
  max_retries: Generated<number>;
  retry_reasons: string | null;
  error_message: string | null;
  recovery_strategy: string | null;

  dependencies: string | null;
  priority: Generated<number>;
  scheduled_date: Generated<string>;
  started_date: string | null;
  completed_date: string | null;

  optimization_applied: string | null;
  pattern_effectiveness: Generated<number>;
  learned_from_job: string | null;

  // 003
  created_date: string | null;
  lease_owner: string | null;
  lease_expires_at: string | null;
  /** Fencing token: incremented at every claim; a completion must carry the current value. */
  attempt: Generated<number>;
  requested_backend: string | null;
  /** 0/1 */
  cancel_requested: Generated<number>;
  /** 0/1 */
  fallback_used: Generated<number>;
  final_backend: string | null;
  user_id: string | null;
}

// 3. conversations -----------------------------------------------------------------------------

export interface ConversationsTable {
  id: Generated<number>;
  thread_id: number;
  job_id: number | null;
  /** initial, refinement, clarification, completion */
  conversation_phase: string | null;

  question_asked: string;
  /** intent, constraint, success, context, scope */
  question_type: string;
  question_template_id: number | null;
  question_confidence: Generated<number>;

  user_response: string | null;
  response_type: string | null;

  clarity_improvement: Generated<number>;
  conversation_efficiency: Generated<number>;
  user_satisfaction: number | null;

  asked_date: Generated<string>;
  responded_date: string | null;
  response_time_seconds: Generated<number>;
  conversation_position: number | null;

  pattern_matched: string | null;
  prediction_accuracy: Generated<number>;
  optimization_suggested: string | null;
}

// 4. question_templates ------------------------------------------------------------------------

export interface QuestionTemplatesTable {
  id: Generated<number>;
  template_name: string;
  question_category: string;
  question_template: string;
  trigger_patterns: string | null;

  usage_count: Generated<number>;
  success_rate: Generated<number>;
  clarity_improvement_avg: Generated<number>;
  user_satisfaction_avg: Generated<number>;
  time_saved_avg: Generated<number>;

  applicable_input_types: string | null;
  required_confidence_threshold: Generated<number>;
  optimal_timing: string | null;

  user_preferences: string | null;
  style_variations: string | null;

  /** 0/1 */
  is_active: Generated<number>;
  created_date: Generated<string>;
  last_used: string | null;
  last_updated: Generated<string>;
  effectiveness_trend: string | null;
}

// 5. learned_patterns --------------------------------------------------------------------------

export interface LearnedPatternsTable {
  id: Generated<number>;
  pattern_name: string;
  /** conversation, execution, optimization, user_behavior */
  pattern_category: string;
  pattern_description: string | null;

  trigger_conditions: string;
  confidence_level: Generated<number>;
  validation_count: Generated<number>;
  success_count: Generated<number>;

  impact_description: string | null;
  time_saved_estimate: Generated<number>;
  quality_improvement_estimate: Generated<number>;
  user_satisfaction_improvement: Generated<number>;

  recommended_actions: string | null;
  question_template_ids: string | null;
  optimization_strategies: string | null;

  created_date: Generated<string>;
  last_applied: string | null;
  last_validated: string | null;
  pattern_evolution: string | null;

  parent_pattern_id: number | null;
  related_pattern_ids: string | null;
  supersedes_pattern_id: number | null;
}

// 6. user_preferences --------------------------------------------------------------------------

export interface UserPreferencesTable {
  id: Generated<number>;
  /** Whose preference (migration 005). */
  user_id: string | null;
  preference_category: string;
  preference_key: string;
  preference_value: string;

  confidence_score: Generated<number>;
  stability_score: Generated<number>;
  usage_count: Generated<number>;

  applicable_contexts: string | null;
  expiration_date: string | null;

  learned_from_interaction_id: number | null;
  validation_count: Generated<number>;
  correction_count: Generated<number>;

  created_date: Generated<string>;
  last_applied: string | null;
  last_updated: Generated<string>;
  /** explicit_user_feedback, observed_pattern, inference */
  source: string | null;
}

// 7. system_config -----------------------------------------------------------------------------

export interface SystemConfigTable {
  id: Generated<number>;
  config_key: string;
  config_value: string;
  config_type: string;
  config_category: string | null;

  description: string | null;
  /** 0/1 */
  is_user_editable: Generated<number>;
  /** 0/1 */
  requires_restart: Generated<number>;
  validation_regex: string | null;

  created_date: Generated<string>;
  last_updated: Generated<string>;
  /** user, system, deployment */
  updated_by: string | null;

  depends_on: string | null;
  impacts: string | null;

  default_value: string | null;
  min_value: string | null;
  max_value: string | null;

  // 003 (set for every seeded row)
  value_type: ConfigValueType | null;
}

// 8. backends ----------------------------------------------------------------------------------

export interface BackendsTable {
  id: Generated<number>;
  name: string;
  /** local, remote_api, server_model, custom */
  backend_type: string;
  /** 0/1 */
  enabled: Generated<number>;
  /** 0/1 */
  is_primary: Generated<number>;

  config: string;
  capabilities: string | null;

  quality_score: Generated<number>;
  speed_score: Generated<number>;
  cost_score: Generated<number>;
  reliability_score: Generated<number>;

  /** healthy, degraded, unhealthy, unknown */
  health_status: Generated<string>;
  last_health_check: string | null;
  consecutive_failures: Generated<number>;

  total_jobs: Generated<number>;
  successful_jobs: Generated<number>;
  failed_jobs: Generated<number>;
  total_cost_cents: Generated<number>;
  average_response_time: Generated<number>;

  created_date: Generated<string>;
  last_used: string | null;
  last_updated: Generated<string>;

  preferred_for_job_types: string | null;
  fallback_backends: string | null;
}

// 9. backend_performance -----------------------------------------------------------------------

export interface BackendPerformanceTable {
  id: Generated<number>;
  backend_id: number;
  job_id: number | null;

  response_time_ms: number | null;
  quality_score: number | null;
  cost_cents: number | null;
  token_count: number | null;

  job_type: string | null;
  job_complexity: number | null;
  model_used: string | null;

  /** 0/1 */
  success: number | null;
  error_message: string | null;
  user_satisfaction: number | null;

  executed_date: Generated<string>;
}

// 10. backend_selection_history ----------------------------------------------------------------

export interface BackendSelectionHistoryTable {
  id: Generated<number>;
  job_id: number;

  selection_criteria: string | null;
  available_backends: string | null;
  selection_reasoning: string | null;

  selected_backend_id: number | null;
  confidence_score: number | null;

  rejected_backends: string | null;
  rejection_reasons: string | null;

  /** 0/1 */
  selection_successful: number | null;
  /** 0/1 */
  fallback_used: number | null;
  final_backend_id: number | null;

  executed_date: Generated<string>;
}

// 11. system_health ----------------------------------------------------------------------------

export interface SystemHealthTable {
  id: Generated<number>;
  /** hermes, talos, backend name, database */
  component: string;
  /** healthy, degraded, unhealthy, unknown */
  health_status: string;
  response_time_ms: Generated<number>;
  error_rate: Generated<number>;

  cpu_usage_percent: Generated<number>;
  memory_usage_percent: Generated<number>;
  disk_usage_percent: Generated<number>;
  network_latency_ms: Generated<number>;

  active_issues: string | null;
  recent_errors: string | null;
  recovery_actions: string | null;

  measured_date: Generated<string>;
  last_healthy_date: string | null;
  last_issue_date: string | null;
}

// Hermes' own tables (003) ---------------------------------------------------------------------

/** Storage of @grammyjs/conversations (and any small key-value state). */
export interface KvStoreTable {
  key: string;
  value: string;
  updated_at: string;
}

/** Paid calls: reserve before, settle after, so spend never exceeds the daily budget. */
export interface BudgetLedgerTable {
  id: Generated<number>;
  /** UTC day, YYYY-MM-DD */
  day: string;
  thread_id: number | null;
  job_id: number | null;
  backend: string;
  model: string | null;
  reserved_cents: number;
  actual_cents: number | null;
  state: Generated<LedgerState>;
  created_at: string;
  settled_at: string | null;
}

/** Last time each alert was sent, for cooldowns. */
export interface AlertLogTable {
  alert_type: string;
  alert_key: string;
  last_sent_at: string;
  count: Generated<number>;
}

export interface Database {
  idea_threads: IdeaThreadsTable;
  jobs: JobsTable;
  conversations: ConversationsTable;
  question_templates: QuestionTemplatesTable;
  learned_patterns: LearnedPatternsTable;
  user_preferences: UserPreferencesTable;
  system_config: SystemConfigTable;
  backends: BackendsTable;
  backend_performance: BackendPerformanceTable;
  backend_selection_history: BackendSelectionHistoryTable;
  system_health: SystemHealthTable;
  kv_store: KvStoreTable;
  budget_ledger: BudgetLedgerTable;
  alert_log: AlertLogTable;
}

export type IdeaThreadRow = Selectable<IdeaThreadsTable>;
export type NewIdeaThread = Insertable<IdeaThreadsTable>;
export type IdeaThreadUpdate = Updateable<IdeaThreadsTable>;

export type JobRow = Selectable<JobsTable>;
export type JobUpdate = Updateable<JobsTable>;

export type ConversationRow = Selectable<ConversationsTable>;
export type NewConversation = Insertable<ConversationsTable>;
export type ConversationUpdate = Updateable<ConversationsTable>;

export type QuestionTemplateRow = Selectable<QuestionTemplatesTable>;
export type NewQuestionTemplate = Insertable<QuestionTemplatesTable>;
export type QuestionTemplateUpdate = Updateable<QuestionTemplatesTable>;

export type LearnedPatternRow = Selectable<LearnedPatternsTable>;
export type NewLearnedPattern = Insertable<LearnedPatternsTable>;
export type LearnedPatternUpdate = Updateable<LearnedPatternsTable>;

export type UserPreferenceRow = Selectable<UserPreferencesTable>;
export type NewUserPreference = Insertable<UserPreferencesTable>;
export type UserPreferenceUpdate = Updateable<UserPreferencesTable>;

export type SystemConfigRow = Selectable<SystemConfigTable>;
export type NewSystemConfig = Insertable<SystemConfigTable>;
export type SystemConfigUpdate = Updateable<SystemConfigTable>;

export type BackendRow = Selectable<BackendsTable>;
export type NewBackend = Insertable<BackendsTable>;
export type BackendUpdate = Updateable<BackendsTable>;

export type BackendPerformanceRow = Selectable<BackendPerformanceTable>;
export type NewBackendPerformance = Insertable<BackendPerformanceTable>;
export type BackendPerformanceUpdate = Updateable<BackendPerformanceTable>;

export type BackendSelectionRow = Selectable<BackendSelectionHistoryTable>;
export type NewBackendSelection = Insertable<BackendSelectionHistoryTable>;
export type BackendSelectionUpdate = Updateable<BackendSelectionHistoryTable>;

export type SystemHealthRow = Selectable<SystemHealthTable>;
export type NewSystemHealth = Insertable<SystemHealthTable>;
export type SystemHealthUpdate = Updateable<SystemHealthTable>;

export type KvRow = Selectable<KvStoreTable>;
export type NewKv = Insertable<KvStoreTable>;
export type KvUpdate = Updateable<KvStoreTable>;

export type BudgetLedgerRow = Selectable<BudgetLedgerTable>;
export type NewBudgetLedger = Insertable<BudgetLedgerTable>;
export type BudgetLedgerUpdate = Updateable<BudgetLedgerTable>;

export type AlertLogRow = Selectable<AlertLogTable>;
export type NewAlertLog = Insertable<AlertLogTable>;
export type AlertLogUpdate = Updateable<AlertLogTable>;
