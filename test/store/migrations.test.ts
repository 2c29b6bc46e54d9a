import Database from "better-sqlite3";
import { Kysely, SqliteDialect, sql } from "kysely";
import { type Migration, Migrator, NO_MIGRATIONS } from "kysely/migration";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { migrations } from "../../migrations/index.ts";
import { CONFIG_VALUE_TYPES, SEED_CONFIG } from "../../migrations/seed-config.ts";
import { migrateToLatest, staticMigrationProvider } from "../../src/store/migrator.ts";
import type { Database as Schema } from "../../src/store/schema.ts";

/**
 * Expected columns, copied from SPEC.md's CREATE TABLE statements (in order):
 * "name TYPE [NOT NULL] [DEFAULT x] [PK]". A dropped or altered column fails the test.
 */
const SPEC_COLUMNS: Record<string, readonly string[]> = {
  idea_threads: [
    "id INTEGER PK",
    "uuid TEXT NOT NULL",
    "title TEXT NOT NULL",
    "original_request TEXT NOT NULL",
    "initial_clarity_score REAL DEFAULT 0.0",
    "final_clarity_score REAL DEFAULT 0.0",
    "status TEXT DEFAULT 'active'",
    "idea_type TEXT",
    "complexity_score INTEGER DEFAULT 1",
    "priority INTEGER DEFAULT 5",
    "user_context TEXT",
    "communication_style TEXT",
    "depth_preference TEXT",
    "learned_patterns TEXT",
    "optimization_applied TEXT",
    "conversation_effectiveness REAL DEFAULT 0.0",
    "final_result_summary TEXT",
    "user_satisfaction INTEGER",
    "success_criteria_met TEXT",
    "created_date DATETIME DEFAULT CURRENT_TIMESTAMP",
    "last_active DATETIME DEFAULT CURRENT_TIMESTAMP",
    "completed_date DATETIME",
    "total_execution_time_minutes REAL DEFAULT 0.0",
    "total_conversation_time_minutes REAL DEFAULT 0.0",
    "draft_count INTEGER DEFAULT 0",
    "optimization_savings REAL DEFAULT 0.0",
    "pattern_confidence REAL DEFAULT 0.0",
  ],
  jobs: [
    "id INTEGER PK",
    "thread_id INTEGER NOT NULL",
    "parent_job_id INTEGER",
    "job_sequence INTEGER DEFAULT 1",
    "job_type TEXT NOT NULL",
    "job_subtype TEXT",
    "status TEXT DEFAULT 'pending'",
    "classification_confidence REAL DEFAULT 0.0",
    "required_clarity_level REAL DEFAULT 0.5",
    "achieved_clarity_level REAL DEFAULT 0.0",
    "prompt_template_used TEXT",
    "prompt_variables TEXT",
    "backend_used TEXT",
    "model_used TEXT",
    "backend_confidence REAL DEFAULT 0.0",
    "model_confidence REAL DEFAULT 0.0",
    "result_summary TEXT",
    "full_result TEXT",
    "result_quality_score REAL DEFAULT 0.0",
    "user_feedback INTEGER",
    "met_success_criteria TEXT",
    "execution_time_seconds REAL DEFAULT 0.0",
    "queue_time_seconds REAL DEFAULT 0.0",
    "processing_time_seconds REAL DEFAULT 0.0",
    "cost_cents INTEGER DEFAULT 0",
    "retry_count INTEGER DEFAULT 0",
    "max_retries INTEGER DEFAULT 999999",
    "retry_reasons TEXT",
    "error_message TEXT",
    "recovery_strategy TEXT",
    "dependencies TEXT",
    "priority INTEGER DEFAULT 5",
    "scheduled_date DATETIME DEFAULT CURRENT_TIMESTAMP",
    "started_date DATETIME",
    "completed_date DATETIME",
    "optimization_applied TEXT",
    "pattern_effectiveness REAL DEFAULT 0.0",
    "learned_from_job TEXT",
  ],
  conversations: [
    "id INTEGER PK",
    "thread_id INTEGER NOT NULL",
    "job_id INTEGER",
    "conversation_phase TEXT",
    "question_asked TEXT NOT NULL",
    "question_type TEXT NOT NULL",
    "question_template_id INTEGER",
    "question_confidence REAL DEFAULT 0.0",
    "user_response TEXT",
    "response_type TEXT",
    "clarity_improvement REAL DEFAULT 0.0",
    "conversation_efficiency REAL DEFAULT 0.0",
    "user_satisfaction INTEGER",
    "asked_date DATETIME DEFAULT CURRENT_TIMESTAMP",
    "responded_date DATETIME",
    "response_time_seconds REAL DEFAULT 0.0",
    "conversation_position INTEGER",
    "pattern_matched TEXT",
    "prediction_accuracy REAL DEFAULT 0.0",
    "optimization_suggested TEXT",
  ],
  question_templates: [
    "id INTEGER PK",
    "template_name TEXT NOT NULL",
    "question_category TEXT NOT NULL",
    "question_template TEXT NOT NULL",
    "trigger_patterns TEXT",
    "usage_count INTEGER DEFAULT 0",
    "success_rate REAL DEFAULT 0.0",
    "clarity_improvement_avg REAL DEFAULT 0.0",
    "user_satisfaction_avg REAL DEFAULT 0.0",
    "time_saved_avg REAL DEFAULT 0.0",
    "applicable_input_types TEXT",
    "required_confidence_threshold REAL DEFAULT 0.5",
    "optimal_timing TEXT",
    "user_preferences TEXT",
    "style_variations TEXT",
    "is_active BOOLEAN DEFAULT TRUE",
    "created_date DATETIME DEFAULT CURRENT_TIMESTAMP",
    "last_used DATETIME",
    "last_updated DATETIME DEFAULT CURRENT_TIMESTAMP",
    "effectiveness_trend TEXT",
  ],
  learned_patterns: [
    "id INTEGER PK",
    "pattern_name TEXT NOT NULL",
    "pattern_category TEXT NOT NULL",
    "pattern_description TEXT",
    "trigger_conditions TEXT NOT NULL",
    "confidence_level REAL DEFAULT 0.0",
    "validation_count INTEGER DEFAULT 0",
    "success_count INTEGER DEFAULT 0",
    "impact_description TEXT",
    "time_saved_estimate REAL DEFAULT 0.0",
    "quality_improvement_estimate REAL DEFAULT 0.0",
    "user_satisfaction_improvement REAL DEFAULT 0.0",
    "recommended_actions TEXT",
    "question_template_ids TEXT",
    "optimization_strategies TEXT",
    "created_date DATETIME DEFAULT CURRENT_TIMESTAMP",
    "last_applied DATETIME",
    "last_validated DATETIME",
    "pattern_evolution TEXT",
    "parent_pattern_id INTEGER",
    "related_pattern_ids TEXT",
    "supersedes_pattern_id INTEGER",
  ],
  user_preferences: [
    "id INTEGER PK",
    "preference_category TEXT NOT NULL",
    "preference_key TEXT NOT NULL",
    "preference_value TEXT NOT NULL",
    "confidence_score REAL DEFAULT 0.5",
    "stability_score REAL DEFAULT 0.5",
    "usage_count INTEGER DEFAULT 0",
    "applicable_contexts TEXT",
    "expiration_date DATETIME",
    "learned_from_interaction_id INTEGER",
    "validation_count INTEGER DEFAULT 0",
    "correction_count INTEGER DEFAULT 0",
    "created_date DATETIME DEFAULT CURRENT_TIMESTAMP",
    "last_applied DATETIME",
    "last_updated DATETIME DEFAULT CURRENT_TIMESTAMP",
    "source TEXT",
  ],
  system_config: [
    "id INTEGER PK",
    "config_key TEXT NOT NULL",
    "config_value TEXT NOT NULL",
    "config_type TEXT NOT NULL",
    "config_category TEXT",
    "description TEXT",
    "is_user_editable BOOLEAN DEFAULT FALSE",
    "requires_restart BOOLEAN DEFAULT FALSE",
    "validation_regex TEXT",
    "created_date DATETIME DEFAULT CURRENT_TIMESTAMP",
    "last_updated DATETIME DEFAULT CURRENT_TIMESTAMP",
    "updated_by TEXT",
    "depends_on TEXT",
    "impacts TEXT",
    "default_value TEXT",
    "min_value TEXT",
    "max_value TEXT",
  ],
  backends: [
    "id INTEGER PK",
    "name TEXT NOT NULL",
    "backend_type TEXT NOT NULL",
    "enabled BOOLEAN DEFAULT TRUE",
    "is_primary BOOLEAN DEFAULT FALSE",
    "config TEXT NOT NULL",
    "capabilities TEXT",
    "quality_score REAL DEFAULT 0.0",
    "speed_score REAL DEFAULT 0.0",
    "cost_score REAL DEFAULT 0.0",
    "reliability_score REAL DEFAULT 0.0",
    "health_status TEXT DEFAULT 'unknown'",
    "last_health_check DATETIME",
    "consecutive_failures INTEGER DEFAULT 0",
    "total_jobs INTEGER DEFAULT 0",
    "successful_jobs INTEGER DEFAULT 0",
    "failed_jobs INTEGER DEFAULT 0",
    "total_cost_cents INTEGER DEFAULT 0",
    "average_response_time REAL DEFAULT 0.0",
    "created_date DATETIME DEFAULT CURRENT_TIMESTAMP",
    "last_used DATETIME",
    "last_updated DATETIME DEFAULT CURRENT_TIMESTAMP",
    "preferred_for_job_types TEXT",
    "fallback_backends TEXT",
  ],
  backend_performance: [
    "id INTEGER PK",
    "backend_id INTEGER NOT NULL",
    "job_id INTEGER",
    "response_time_ms REAL",
    "quality_score REAL",
    "cost_cents INTEGER",
    "token_count INTEGER",
    "job_type TEXT",
    "job_complexity INTEGER",
    "model_used TEXT",
    "success BOOLEAN",
    "error_message TEXT",
    "user_satisfaction INTEGER",
    "executed_date DATETIME DEFAULT CURRENT_TIMESTAMP",
  ],
  backend_selection_history: [
    "id INTEGER PK",
    "job_id INTEGER NOT NULL",
    "selection_criteria TEXT",
    "available_backends TEXT",
    "selection_reasoning TEXT",
    "selected_backend_id INTEGER",
    "confidence_score REAL",
    "rejected_backends TEXT",
    "rejection_reasons TEXT",
    "selection_successful BOOLEAN",
    "fallback_used BOOLEAN",
    "final_backend_id INTEGER",
    "executed_date DATETIME DEFAULT CURRENT_TIMESTAMP",
  ],
  system_health: [
    "id INTEGER PK",
    "component TEXT NOT NULL",
    "health_status TEXT NOT NULL",
    "response_time_ms REAL DEFAULT 0.0",
    "error_rate REAL DEFAULT 0.0",
    "cpu_usage_percent REAL DEFAULT 0.0",
    "memory_usage_percent REAL DEFAULT 0.0",
    "disk_usage_percent REAL DEFAULT 0.0",
    "network_latency_ms REAL DEFAULT 0.0",
    "active_issues TEXT",
    "recent_errors TEXT",
    "recovery_actions TEXT",
    "measured_date DATETIME DEFAULT CURRENT_TIMESTAMP",
    "last_healthy_date DATETIME",
    "last_issue_date DATETIME",
  ],
};

/** Hermes' additions (migration 003), appended to the spec tables or in tables of their own. */
const HERMES_COLUMNS: Record<string, readonly string[]> = {
  idea_threads: [
    "user_id TEXT",
    "chat_id TEXT",
    "source TEXT DEFAULT 'telegram'",
    "callback_url TEXT",
    "clarity_slots TEXT",
  ],
  jobs: [
    "created_date TEXT",
    "lease_owner TEXT",
    "lease_expires_at TEXT",
    "attempt INTEGER DEFAULT 0",
    "requested_backend TEXT",
    "cancel_requested INTEGER DEFAULT 0",
    "fallback_used INTEGER DEFAULT 0",
    "final_backend TEXT",
    "user_id TEXT",
  ],
  system_config: ["value_type TEXT"],
  kv_store: ["key TEXT NOT NULL PK", "value TEXT NOT NULL", "updated_at TEXT NOT NULL"],
  budget_ledger: [
    "id INTEGER PK",
    "day TEXT NOT NULL",
    "thread_id INTEGER",
    "job_id INTEGER",
    "backend TEXT NOT NULL",
    "model TEXT",
    "reserved_cents REAL NOT NULL",
    "actual_cents REAL",
    "state TEXT NOT NULL DEFAULT 'reserved'",
    "created_at TEXT NOT NULL",
    "settled_at TEXT",
  ],
  alert_log: [
    "alert_type TEXT NOT NULL PK",
    "alert_key TEXT NOT NULL PK",
    "last_sent_at TEXT NOT NULL",
    "count INTEGER DEFAULT 1",
  ],
};

/** The spec's FOREIGN KEY clauses: table → "column -> table(column)". */
const FOREIGN_KEYS: Record<string, readonly string[]> = {
  jobs: ["thread_id -> idea_threads(id)", "parent_job_id -> jobs(id)"],
  conversations: ["thread_id -> idea_threads(id)", "job_id -> jobs(id)"],
  learned_patterns: [
    "parent_pattern_id -> learned_patterns(id)",
    "supersedes_pattern_id -> learned_patterns(id)",
  ],
  backend_performance: ["backend_id -> backends(id)", "job_id -> jobs(id)"],
  backend_selection_history: [
    "job_id -> jobs(id)",
    "selected_backend_id -> backends(id)",
    "final_backend_id -> backends(id)",
  ],
};

const INDEXES: Record<string, readonly string[]> = {
  // Since 022 the queue's statuses have partial indexes (checked in job-index-plans.test.ts); since
  // 024 the ready index ends with status, so that counting it reads the index alone.
  jobs: ["thread_id", "parent_job_id", "priority,id,status", "scheduled_date", "completed_date"],
  conversations: ["thread_id"],
  backend_performance: ["backend_id,job_type"],
  backend_selection_history: ["job_id"],
  system_health: ["component,measured_date"],
  question_templates: ["question_category"],
  learned_patterns: ["pattern_category"],
  budget_ledger: ["day,state"],
  idea_threads: ["user_id,last_active"],
};

/**
 * The spec's system_config seed: [key, value, config_type, config_category, description, editable],
 * with the two portable paths ('hermes.db.path', 'talos.logs.base_path') corrected.
 */
const SPEC_SEED: ReadonlyArray<readonly [string, string, string, string, string, boolean]> = [
  ["hermes.web.port", "5000", "system_setting", "hermes", "Port for Hermes web interface", false],
  [
    "hermes.web.session_timeout_hours",
    "24",
    "system_setting",
    "hermes",
    "How long sessions remain active",
    true,
  ],
  [
    "hermes.web.max_input_length",
    "10000",
    "system_setting",
    "hermes",
    "Maximum input length for ideas",
    true,
  ],
  ["hermes.web.max_queued_jobs", "100", "system_setting", "hermes", "Maximum jobs in queue", true],
  ["hermes.talos.tailscale_ip", "100.x.x.x", "system_setting", "hermes", "Tailscale IP for Talos", false],
  ["hermes.talos.tailscale_port", "8001", "system_setting", "hermes", "Port for Talos agent", false],
  [
    "hermes.talos.health_check_interval",
    "10",
    "system_setting",
    "hermes",
    "Seconds between health checks",
    true,
  ],
  ["hermes.talos.connection_timeout", "30", "system_setting", "hermes", "Connection timeout to Talos", true],
  ["hermes.talos.max_retry_duration", "3600", "system_setting", "hermes", "Max seconds to retry Talos", true],
  ["hermes.db.path", "./data/hermes.db", "system_setting", "hermes", "Database file path", false],
  ["hermes.db.backup_schedule", "0 2 * * *", "system_setting", "hermes", "Backup schedule (cron)", true],
  ["hermes.db.max_size_mb", "1000", "system_setting", "hermes", "Maximum database size", true],
  ["hermes.logs.cloud_retention_days", "30", "system_setting", "hermes", "Days to keep logs in cloud", true],
  ["hermes.notifications.telegram_bot_token", "", "system_setting", "hermes", "Telegram bot token", true],
  ["hermes.notifications.telegram_chat_id", "", "system_setting", "hermes", "Telegram chat ID", true],
  [
    "hermes.notifications.alert_types",
    "talos_down,job_failure,queue_full",
    "system_setting",
    "hermes",
    "Types of alerts to send",
    true,
  ],
  [
    "hermes.notifications.cooldown_minutes",
    "30",
    "system_setting",
    "hermes",
    "Minutes between same alerts",
    true,
  ],
  ["hermes.budget.openrouter_api_key", "", "system_setting", "hermes", "OpenRouter API key", true],
  ["hermes.budget.daily_budget_cents", "500", "budget", "hermes", "Daily budget in cents", true],
  ["hermes.budget.project_budget_cents", "2000", "budget", "hermes", "Project budget in cents", true],
  ["hermes.budget.cost_tracking_enabled", "true", "preference", "hermes", "Enable cost tracking", true],
  ["hermes.budget.budget_alerts", "true", "preference", "hermes", "Enable budget alerts", true],
  ["hermes.execution.local_first_enabled", "true", "preference", "hermes", "Prefer local execution", true],
  ["hermes.execution.local_retry_attempts", "3", "preference", "hermes", "Local retry attempts", true],
  [
    "hermes.execution.force_remote_threshold",
    "0.8",
    "preference",
    "hermes",
    "Remote threshold (success rate)",
    true,
  ],
  [
    "talos.models.local_models",
    "llama3.1:8b,qwen2.5-coder:7b",
    "system_setting",
    "talos",
    "Available local models",
    true,
  ],
  ["talos.models.default_model", "llama3.1:8b", "system_setting", "talos", "Default model", true],
  ["talos.models.code_model", "qwen2.5-coder:7b", "system_setting", "talos", "Code generation model", true],
  ["talos.ollama.host", "http://localhost:11434", "system_setting", "talos", "Ollama server URL", false],
  ["talos.execution.max_concurrent_jobs", "1", "constraint", "talos", "Maximum concurrent jobs", true],
  ["talos.execution.job_timeout_seconds", "3600", "constraint", "talos", "Job timeout in seconds", true],
  ["talos.execution.retry_interval", "60", "system_setting", "talos", "Retry interval in seconds", true],
  ["talos.execution.max_retry_attempts", "999999", "constraint", "talos", "Maximum retry attempts", true],
  ["talos.logs.base_path", "./data/logs", "system_setting", "talos", "Base path for logs", false],
  ["talos.logs.retention_days", "365", "system_setting", "talos", "Days to keep logs", true],
  ["talos.logs.performance_logging", "true", "preference", "talos", "Enable performance logging", true],
  ["talos.logs.full_result_storage", "true", "preference", "talos", "Store full results", true],
  ["talos.system.max_memory_usage_percent", "80", "constraint", "talos", "Max memory usage percent", true],
  ["talos.system.max_cpu_usage_percent", "90", "constraint", "talos", "Max CPU usage percent", true],
  ["talos.system.available_ram_gb", "16", "system_setting", "talos", "Available RAM in GB", true],
  ["talos.system.available_storage_tb", "5", "system_setting", "talos", "Available storage in TB", true],
  ["hermes.learning.enabled", "true", "preference", "hermes", "Enable meta-learning", true],
  [
    "hermes.learning.confidence_threshold",
    "0.7",
    "system_setting",
    "hermes",
    "Minimum confidence for pattern application",
    true,
  ],
  [
    "hermes.learning.max_questions_per_conversation",
    "5",
    "constraint",
    "hermes",
    "Max questions to ask",
    true,
  ],
  [
    "hermes.learning.pattern_validation_threshold",
    "0.8",
    "system_setting",
    "hermes",
    "Threshold for pattern validation",
    true,
  ],
  ["hermes.projects.default_project_cents", "0", "budget", "hermes", "Default project budget (cents)", true],
  [
    "hermes.projects.min_remote_budget_cents",
    "50",
    "budget",
    "hermes",
    "Minimum budget for remote use",
    true,
  ],
  [
    "hermes.execution.consensus_threshold",
    "0.67",
    "system_setting",
    "hermes",
    "Consensus threshold for validation",
    true,
  ],
  [
    "hermes.execution.k_sample_count",
    "3",
    "system_setting",
    "hermes",
    "Number of samples for consensus",
    true,
  ],
  ["hermes.classification.enable_llm", "true", "preference", "hermes", "Enable LLM classification", true],
  [
    "hermes.classification.model",
    "llama3.1:8b",
    "system_setting",
    "hermes",
    "Model for classification",
    true,
  ],
  [
    "hermes.classification.pattern_threshold",
    "0.7",
    "system_setting",
    "hermes",
    "Threshold for pattern matching",
    true,
  ],
  ["hermes.workflow.max_steps", "10", "constraint", "hermes", "Maximum workflow steps", true],
  ["hermes.workflow.timeout_minutes", "60", "constraint", "hermes", "Workflow timeout in minutes", true],
  [
    "hermes.workflow.enable_dependencies",
    "true",
    "preference",
    "hermes",
    "Enable dependency resolution",
    true,
  ],
  [
    "hermes.backends.enabled",
    "talos,remote_api",
    "system_setting",
    "hermes",
    "Enabled backends (comma-separated)",
    true,
  ],
  ["hermes.backends.primary", "talos", "system_setting", "hermes", "Primary backend", true],
  ["hermes.backends.fallback", "remote_api", "system_setting", "hermes", "Fallback backend", true],
  ["hermes.backends.load_balancing", "false", "preference", "hermes", "Enable load balancing", true],
  ["hermes.backends.auto_failover", "true", "preference", "hermes", "Enable automatic failover", true],
  ["hermes.selection.criteria", "cost_first", "preference", "hermes", "Backend selection criteria", true],
  [
    "hermes.selection.quality_threshold",
    "0.8",
    "system_setting",
    "hermes",
    "Minimum quality threshold",
    true,
  ],
  ["hermes.selection.max_cost_per_job", "100", "constraint", "hermes", "Maximum cost per job (cents)", true],
  ["hermes.selection.prefer_free", "true", "preference", "hermes", "Prefer free backends", true],
  ["backend.talos.enabled", "true", "system_setting", "hermes", "Enable Talos backend", true],
  ["backend.talos.type", "local", "system_setting", "hermes", "Talos backend type", false],
  ["backend.talos.host", "100.x.x.x", "system_setting", "hermes", "Talos Tailscale IP", false],
  ["backend.talos.port", "8001", "system_setting", "hermes", "Talos port", false],
  [
    "backend.talos.models",
    "llama3.1:8b,qwen2.5-coder:7b",
    "system_setting",
    "hermes",
    "Talos available models",
    true,
  ],
  ["backend.talos.timeout", "300", "system_setting", "hermes", "Talos timeout (seconds)", true],
  ["backend.talos.health_interval", "30", "system_setting", "hermes", "Talos health check interval", true],
  ["backend.remote_api.enabled", "true", "system_setting", "hermes", "Enable remote API backend", true],
  ["backend.remote_api.type", "openrouter", "system_setting", "hermes", "Remote API type", true],
  ["backend.remote_api.key", "", "system_setting", "hermes", "Remote API key", true],
  [
    "backend.remote_api.models",
    "anthropic/claude-3-sonnet,openai/gpt-4-turbo",
    "system_setting",
    "hermes",
    "Remote API models",
    true,
  ],
  ["backend.remote_api.timeout", "120", "system_setting", "hermes", "Remote API timeout (seconds)", true],
  [
    "backend.remote_api.rate_limit",
    "60",
    "system_setting",
    "hermes",
    "Remote API rate limit (per minute)",
    true,
  ],
  [
    "backend.server_models.enabled",
    "false",
    "system_setting",
    "hermes",
    "Enable server models backend",
    true,
  ],
  ["backend.server_models.type", "custom", "system_setting", "hermes", "Server models type", true],
  ["backend.server_models.host", "", "system_setting", "hermes", "Server models host", true],
  ["backend.server_models.port", "8080", "system_setting", "hermes", "Server models port", true],
  ["backend.server_models.key", "", "system_setting", "hermes", "Server models API key", true],
  [
    "backend.server_models.models",
    "llama3.2:70b,qwen2.5:72b",
    "system_setting",
    "hermes",
    "Server models available",
    true,
  ],
  ["backend.gpt5.enabled", "false", "system_setting", "hermes", "Enable GPT-5 backend", true],
  ["backend.gpt5.type", "openai", "system_setting", "hermes", "GPT-5 backend type", true],
  ["backend.gpt5.key", "", "system_setting", "hermes", "GPT-5 API key", true],
  ["backend.gpt5.model", "gpt-5", "system_setting", "hermes", "GPT-5 model", true],
  ["backend.gpt5.timeout", "90", "system_setting", "hermes", "GPT-5 timeout (seconds)", true],
  ["hermes.debug.mode", "false", "system_setting", "hermes", "Debug mode", false],
  ["hermes.debug.verbose_logging", "false", "system_setting", "hermes", "Verbose logging", false],
  ["hermes.debug.performance_monitoring", "true", "preference", "hermes", "Performance monitoring", true],
  ["hermes.debug.api_rate_limiting", "true", "system_setting", "hermes", "API rate limiting", true],
];

const NUMERIC = new Set(["int", "float"]);
const RESTART_KEY = /\.(port|tailscale_port|host|tailscale_ip|path|base_path)$/;

let sqlite: Database.Database;
let db: Kysely<Schema>;

beforeEach(() => {
  sqlite = new Database(":memory:");
  db = new Kysely<Schema>({ dialect: new SqliteDialect({ database: sqlite }) });
});

afterEach(async () => {
  await db.destroy();
});

interface ColumnInfo {
  name: string;
  type: string;
  notnull: number;
  dflt_value: string | null;
  pk: number;
}

function columnsOf(table: string): string[] {
  const rows = sqlite.prepare(`PRAGMA table_info(${table})`).all() as ColumnInfo[];
  return rows.map(
    (c) =>
      `${c.name} ${c.type}${c.notnull ? " NOT NULL" : ""}${c.dflt_value === null ? "" : ` DEFAULT ${c.dflt_value}`}${c.pk ? " PK" : ""}`,
  );
}

function tableNames(): string[] {
  const rows = sqlite
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
    .all() as { name: string }[];
  return rows.map((r) => r.name);
}

/** Every row of every table, for "nothing changed" comparisons. */
function snapshot(): Record<string, unknown[]> {
  const all: Record<string, unknown[]> = {};
  for (const table of tableNames())
    all[table] = sqlite.prepare(`SELECT * FROM ${table} ORDER BY rowid`).all();
  return all;
}

/** The spec's schema and Hermes' runtime additions (001–003); later migrations are checked by their own tests. */
const THROUGH_003 = Object.fromEntries(Object.entries(migrations).slice(0, 3));

describe("migrations", () => {
  it("applies 001, 002, 003 in order on an empty database", async () => {
    const { applied } = await migrateToLatest(db);
    expect(applied.slice(0, 3)).toEqual([
      "001_initial_schema",
      "002_seed_system_config",
      "003_hermes_runtime",
    ]);
    expect(applied).toEqual(Object.keys(migrations));
  });

  it("creates every spec table with every column, type and default, plus Hermes' additions", async () => {
    await migrateToLatest(db, { migrations: THROUGH_003 });
    const expectedTables = [...new Set([...Object.keys(SPEC_COLUMNS), ...Object.keys(HERMES_COLUMNS)])];
    expect(tableNames()).toEqual(expect.arrayContaining(expectedTables));
    expect(Object.keys(SPEC_COLUMNS)).toHaveLength(11);
    for (const table of expectedTables) {
      const expected = [...(SPEC_COLUMNS[table] ?? []), ...(HERMES_COLUMNS[table] ?? [])];
      expect(columnsOf(table), table).toEqual(expected);
    }
  });

  it("declares the spec's UNIQUE constraints", async () => {
    await migrateToLatest(db);
    for (const [table, column] of [
      ["idea_threads", "uuid"],
      ["system_config", "config_key"],
      ["backends", "name"],
    ] as const) {
      const unique = (
        sqlite.prepare(`PRAGMA index_list(${table})`).all() as { name: string; unique: number }[]
      )
        .filter((i) => i.unique)
        .map((i) =>
          (sqlite.prepare(`PRAGMA index_info(${i.name})`).all() as { name: string }[]).map((c) => c.name),
        );
      expect(unique, `${table}.${column}`).toContainEqual([column]);
    }
  });

  it("declares the spec's foreign keys", async () => {
    await migrateToLatest(db);
    for (const [table, expected] of Object.entries(FOREIGN_KEYS)) {
      const keys = (
        sqlite.prepare(`PRAGMA foreign_key_list(${table})`).all() as {
          from: string;
          table: string;
          to: string;
        }[]
      ).map((fk) => `${fk.from} -> ${fk.table}(${fk.to})`);
      expect(keys.sort(), table).toEqual([...expected].sort());
    }
  });

  it("creates the indexes the queue, status and learning queries use", async () => {
    await migrateToLatest(db);
    for (const [table, expected] of Object.entries(INDEXES)) {
      const indexed = (
        sqlite.prepare(`PRAGMA index_list(${table})`).all() as { name: string; origin: string }[]
      )
        .filter((i) => i.origin === "c")
        .map((i) =>
          (sqlite.prepare(`PRAGMA index_info(${i.name})`).all() as { seqno: number; name: string }[])
            .sort((a, b) => a.seqno - b.seqno)
            .map((c) => c.name)
            .join(","),
        );
      expect(indexed, table).toEqual(expect.arrayContaining([...expected]));
    }
  });

  it("seeds every system_config row of the spec with its value, type, category, description and editable flag", async () => {
    await migrateToLatest(db, { migrations: THROUGH_003 });
    const rows = await db.selectFrom("system_config").selectAll().orderBy("id").execute();
    expect(SPEC_SEED).toHaveLength(92);
    expect(rows.map((r) => r.config_key)).toEqual(SPEC_SEED.map(([key]) => key));
    for (const [key, value, type, category, description, editable] of SPEC_SEED) {
      const row = rows.find((r) => r.config_key === key);
      expect(row, key).toBeDefined();
      expect(
        [row?.config_value, row?.config_type, row?.config_category, row?.description, row?.is_user_editable],
        key,
      ).toEqual([value, type, category, description, editable ? 1 : 0]);
    }
    // The exported list (read by the config layer) is the same seed.
    expect(SEED_CONFIG.map((e) => [e.config_key, e.config_value, e.config_type, e.is_user_editable])).toEqual(
      SPEC_SEED.map(([key, value, type, , , editable]) => [key, value, type, editable]),
    );
  });

  it("gives every seeded row a value_type, a reset default and a consistent range and regex", async () => {
    await migrateToLatest(db, { migrations: THROUGH_003 });
    const rows = await db.selectFrom("system_config").selectAll().execute();
    for (const row of rows) {
      const key = row.config_key;
      const value = row.config_value;
      expect(row.value_type, key).not.toBeNull();
      expect(CONFIG_VALUE_TYPES, key).toContain(row.value_type);
      expect(row.value_type, key).toBe(SEED_CONFIG.find((e) => e.config_key === key)?.value_type);
      expect(row.default_value, key).toBe(value);
      expect(row.updated_by, key).toBe("deployment");
      expect(row.requires_restart, key).toBe(
        RESTART_KEY.test(key) || key.endsWith("telegram_bot_token") ? 1 : 0,
      );

      switch (row.value_type) {
        case "int":
          expect(value, key).toMatch(/^-?\d+$/);
          break;
        case "float":
          expect(Number.isFinite(Number(value)) && value !== "", key).toBe(true);
          break;
        case "bool":
          expect(["true", "false"], key).toContain(value);
          break;
        case "url":
          expect(() => new URL(value), key).not.toThrow();
          break;
        case "cron":
          expect(value.trim().split(/\s+/), key).toHaveLength(5);
          break;
        case "enum":
          expect(row.validation_regex, `${key} enum needs its allowed values`).not.toBeNull();
          break;
      }
      if (row.value_type === "bool" || row.value_type === "list" || row.value_type === "cron") {
        expect(row.validation_regex, key).not.toBeNull();
      }
      if (row.validation_regex !== null) {
        expect(value, key).toMatch(new RegExp(row.validation_regex));
      }
      if (row.min_value !== null || row.max_value !== null) {
        expect(NUMERIC.has(row.value_type ?? ""), `${key} has a range but is ${row.value_type}`).toBe(true);
        const n = Number(value);
        if (row.min_value !== null) expect(n, key).toBeGreaterThanOrEqual(Number(row.min_value));
        if (row.max_value !== null) expect(n, key).toBeLessThanOrEqual(Number(row.max_value));
      } else {
        expect(NUMERIC.has(row.value_type ?? ""), `${key} is numeric without a range`).toBe(false);
      }
    }
    const byKey = (key: string) => rows.find((r) => r.config_key === key);
    expect([byKey("hermes.web.port")?.min_value, byKey("hermes.web.port")?.max_value]).toEqual([
      "1",
      "65535",
    ]);
    expect([byKey("talos.system.max_cpu_usage_percent")?.max_value]).toEqual(["100"]);
    expect([byKey("hermes.learning.confidence_threshold")?.max_value]).toEqual(["1"]);
    expect(byKey("hermes.selection.criteria")?.validation_regex).toBe(
      "^(cost_first|quality_first|speed_first|balanced)$",
    );
    expect("balanced").toMatch(new RegExp(byKey("hermes.selection.criteria")?.validation_regex ?? ""));
    expect("cheapest").not.toMatch(new RegExp(byKey("hermes.selection.criteria")?.validation_regex ?? ""));
    expect("0 2 * *").not.toMatch(new RegExp(byKey("hermes.db.backup_schedule")?.validation_regex ?? ""));
  });

  it("is idempotent: a second run applies nothing and changes no row", async () => {
    await migrateToLatest(db);
    const before = snapshot();
    const { applied } = await migrateToLatest(db);
    expect(applied).toEqual([]);
    expect(snapshot()).toEqual(before);
  });

  it("upgrades an older database (only 001 applied) to latest, keeping its data", async () => {
    const older = new Migrator({
      db,
      provider: staticMigrationProvider({ "001_initial_schema": migrations["001_initial_schema"]! }),
    });
    const first = await older.migrateToLatest();
    expect(first.error).toBeUndefined();

    await sql`INSERT INTO idea_threads (uuid, title, original_request) VALUES ('t-1', 'Old idea', 'plan a trip')`.execute(
      db,
    );
    await sql`INSERT INTO jobs (thread_id, job_type, scheduled_date) VALUES (1, 'research', '2024-05-01 10:20:30')`.execute(
      db,
    );

    const { applied } = await migrateToLatest(db);
    expect(applied).toEqual(Object.keys(migrations).slice(1));

    const thread = await db.selectFrom("idea_threads").selectAll().executeTakeFirstOrThrow();
    expect(thread).toMatchObject({
      uuid: "t-1",
      title: "Old idea",
      original_request: "plan a trip",
      status: "active",
      source: "telegram",
      user_id: null,
    });
    const job = await db.selectFrom("jobs").selectAll().executeTakeFirstOrThrow();
    expect(job).toMatchObject({
      thread_id: 1,
      job_type: "research",
      status: "pending",
      attempt: 0,
      cancel_requested: 0,
      fallback_used: 0,
      created_date: "2024-05-01T10:20:30.000Z",
    });
    // Later migrations add their own keys; every key of the spec is there.
    const keys = (await db.selectFrom("system_config").select("config_key").execute()).map(
      (r) => r.config_key,
    );
    expect(keys).toEqual(expect.arrayContaining(SPEC_SEED.map(([key]) => key)));
  });

  it("fails naming the migration, and applies nothing of that run", async () => {
    const broken: Record<string, Migration> = {
      ...migrations,
      "004_broken": {
        up: async (kysely) => {
          await sql`CREATE TABLE half_done (id INTEGER)`.execute(kysely);
          throw new Error("boom");
        },
      },
    };
    await expect(migrateToLatest(db, { migrations: broken })).rejects.toThrow(/"004_broken" failed: boom/);
    expect(tableNames()).toEqual([]);

    await migrateToLatest(db);
    const before = snapshot();
    await expect(migrateToLatest(db, { migrations: broken })).rejects.toThrow(/004_broken/);
    expect(snapshot()).toEqual(before);
    expect(tableNames()).not.toContain("half_done");
  });

  it("works with foreign keys enforced, and rolls all the way down", async () => {
    sqlite.pragma("foreign_keys = ON");
    await migrateToLatest(db);
    await expect(
      sql`INSERT INTO jobs (thread_id, job_type) VALUES (999, 'research')`.execute(db),
    ).rejects.toThrow(/FOREIGN KEY/);

    const migrator = new Migrator({ db, provider: staticMigrationProvider(migrations) });
    const down = await migrator.migrateTo(NO_MIGRATIONS);
    expect(down.error).toBeUndefined();
    expect(tableNames().filter((name) => !name.startsWith("kysely_"))).toEqual([]);
  });
});
