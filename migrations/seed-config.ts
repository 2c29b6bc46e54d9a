/**
 * The seed of `system_config` (SPEC.md, "Initial Data Seeding"): every row of the spec, in the spec's
 * order, with the columns the spec fills (key, value, config_type, config_category, description,
 * is_user_editable) plus what Hermes adds: value_type, a natural min/max range, a validation regex,
 * requires_restart, and whether the value is a secret (masked by the config API, never logged).
 *
 * Migration 002 inserts these rows and migration 003 sets their value_type. Both have run on existing
 * databases, so a key added here later reaches only new databases: add new keys with a new migration.
 *
 * Conventions for the config layer:
 * - `min_value` / `max_value` are inclusive numeric bounds, stored as text (like the values).
 * - `validation_regex` is a JavaScript RegExp source, tested against the whole value (it is anchored).
 * - bool values are the strings 'true' / 'false'; list values are comma-separated, no spaces.
 */

/** How `config_value` is parsed and validated. */
export type ConfigValueType = "int" | "float" | "bool" | "string" | "list" | "cron" | "url" | "enum";

export const CONFIG_VALUE_TYPES: readonly ConfigValueType[] = [
  "int",
  "float",
  "bool",
  "string",
  "list",
  "cron",
  "url",
  "enum",
];

/** The spec's `config_type` vocabulary. */
export type ConfigType = "constraint" | "preference" | "system_setting" | "budget";

export interface SeedConfigEntry {
  readonly config_key: string;
  readonly config_value: string;
  readonly config_type: ConfigType;
  readonly config_category: "hermes" | "talos";
  readonly description: string;
  readonly is_user_editable: boolean;
  readonly value_type: ConfigValueType;
  readonly min_value?: string;
  readonly max_value?: string;
  readonly validation_regex?: string;
  readonly requires_restart?: boolean;
  /** API keys and tokens: masked by the config API, never logged. */
  readonly secret?: boolean;
}

/** Regexes shared by several keys. */
export const CONFIG_REGEX = {
  bool: "^(true|false)$",
  /** Comma-separated identifiers (alert types, backend names), possibly empty. */
  identifierList: "^([a-z0-9_]+(,[a-z0-9_]+)*)?$",
  /** Comma-separated model names (`llama3.1:8b`, `openai/gpt-4-turbo`), no spaces, possibly empty. */
  modelList: "^([^,\\s]+(,[^,\\s]+)*)?$",
  identifier: "^[a-z0-9_]+$",
  /** Five cron fields (minute hour day-of-month month day-of-week); croner checks the details. */
  cron: "^\\s*[0-9A-Za-z*/,?#-]+(\\s+[0-9A-Za-z*/,?#-]+){4}\\s*$",
  url: "^https?://[^\\s]+$",
  selectionCriteria: "^(cost_first|quality_first|speed_first|balanced)$",
  /** The `backends.backend_type` vocabulary of the spec. */
  backendType: "^(local|remote_api|server_model|custom)$",
  /** The wire protocol a remote backend speaks. */
  providerType: "^(openrouter|openai|vllm|llamacpp|ollama|custom)$",
} as const;

const PORT = { value_type: "int", min_value: "1", max_value: "65535", requires_restart: true } as const;
const PERCENT = { value_type: "int", min_value: "0", max_value: "100" } as const;
const RATIO = { value_type: "float", min_value: "0", max_value: "1" } as const;
const BOOL = { value_type: "bool", validation_regex: CONFIG_REGEX.bool } as const;
/** Counts, durations: at least 1. */
const POSITIVE = { value_type: "int", min_value: "1" } as const;
/** Budgets in cents, retry counts, cooldowns: zero is meaningful. */
const NON_NEGATIVE = { value_type: "int", min_value: "0" } as const;
const MODELS = { value_type: "list", validation_regex: CONFIG_REGEX.modelList } as const;
const SECRET = { value_type: "string", secret: true } as const;

export const SEED_CONFIG: readonly SeedConfigEntry[] = [
  // HERMES WEB CONFIG
  {
    config_key: "hermes.web.port",
    config_value: "5000",
    config_type: "system_setting",
    config_category: "hermes",
    description: "Port for Hermes web interface",
    is_user_editable: false,
    ...PORT,
  },
  {
    config_key: "hermes.web.session_timeout_hours",
    config_value: "24",
    config_type: "system_setting",
    config_category: "hermes",
    description: "How long sessions remain active",
    is_user_editable: true,
    ...POSITIVE,
  },
  {
    config_key: "hermes.web.max_input_length",
    config_value: "10000",
    config_type: "system_setting",
    config_category: "hermes",
    description: "Maximum input length for ideas",
    is_user_editable: true,
    ...POSITIVE,
  },
  {
    config_key: "hermes.web.max_queued_jobs",
    config_value: "100",
    config_type: "system_setting",
    config_category: "hermes",
    description: "Maximum jobs in queue",
    is_user_editable: true,
    ...POSITIVE,
  },

  // TALOS COMMUNICATION
  {
    config_key: "hermes.talos.tailscale_ip",
    config_value: "100.x.x.x",
    config_type: "system_setting",
    config_category: "hermes",
    description: "Tailscale IP for Talos",
    is_user_editable: false,
    value_type: "string",
    requires_restart: true,
  },
  {
    config_key: "hermes.talos.tailscale_port",
    config_value: "8001",
    config_type: "system_setting",
    config_category: "hermes",
    description: "Port for Talos agent",
    is_user_editable: false,
    ...PORT,
  },
  {
    config_key: "hermes.talos.health_check_interval",
    config_value: "10",
    config_type: "system_setting",
    config_category: "hermes",
    description: "Seconds between health checks",
    is_user_editable: true,
    ...POSITIVE,
  },
  {
    config_key: "hermes.talos.connection_timeout",
    config_value: "30",
    config_type: "system_setting",
    config_category: "hermes",
    description: "Connection timeout to Talos",
    is_user_editable: true,
    ...POSITIVE,
  },
  {
    config_key: "hermes.talos.max_retry_duration",
    config_value: "3600",
    config_type: "system_setting",
    config_category: "hermes",
    description: "Max seconds to retry Talos",
    is_user_editable: true,
    ...POSITIVE,
  },

  // DATABASE & STORAGE
  {
    config_key: "hermes.db.path",
    config_value: "./data/hermes.db",
    config_type: "system_setting",
    config_category: "hermes",
    description: "Database file path",
    is_user_editable: false,
    value_type: "string",
    requires_restart: true,
  },
  {
    config_key: "hermes.db.backup_schedule",
    config_value: "0 2 * * *",
    config_type: "system_setting",
    config_category: "hermes",
    description: "Backup schedule (cron)",
    is_user_editable: true,
    value_type: "cron",
    validation_regex: CONFIG_REGEX.cron,
  },
  {
    config_key: "hermes.db.max_size_mb",
    config_value: "1000",
    config_type: "system_setting",
    config_category: "hermes",
    description: "Maximum database size",
    is_user_editable: true,
    ...POSITIVE,
  },
  {
    config_key: "hermes.logs.cloud_retention_days",
    config_value: "30",
    config_type: "system_setting",
    config_category: "hermes",
    description: "Days to keep logs in cloud",
    is_user_editable: true,
    ...POSITIVE,
  },

  // NOTIFICATIONS
  {
    config_key: "hermes.notifications.telegram_bot_token",
    config_value: "",
    config_type: "system_setting",
    config_category: "hermes",
    description: "Telegram bot token",
    is_user_editable: true,
    ...SECRET,
    validation_regex: "^([0-9]+:[A-Za-z0-9_-]+)?$",
    requires_restart: true,
  },
  {
    config_key: "hermes.notifications.telegram_chat_id",
    config_value: "",
    config_type: "system_setting",
    config_category: "hermes",
    description: "Telegram chat ID",
    is_user_editable: true,
    value_type: "string",
    validation_regex: "^(-?[0-9]+)?$",
  },
  {
    config_key: "hermes.notifications.alert_types",
    config_value: "talos_down,job_failure,queue_full",
    config_type: "system_setting",
    config_category: "hermes",
    description: "Types of alerts to send",
    is_user_editable: true,
    value_type: "list",
    validation_regex: CONFIG_REGEX.identifierList,
  },
  {
    config_key: "hermes.notifications.cooldown_minutes",
    config_value: "30",
    config_type: "system_setting",
    config_category: "hermes",
    description: "Minutes between same alerts",
    is_user_editable: true,
    ...NON_NEGATIVE,
  },

  // BUDGET & COST CONTROL
  {
    config_key: "hermes.budget.openrouter_api_key",
    config_value: "",
    config_type: "system_setting",
    config_category: "hermes",
    description: "OpenRouter API key",
    is_user_editable: true,
    ...SECRET,
  },
  {
    config_key: "hermes.budget.daily_budget_cents",
    config_value: "500",
    config_type: "budget",
    config_category: "hermes",
    description: "Daily budget in cents",
    is_user_editable: true,
    ...NON_NEGATIVE,
  },
  {
    config_key: "hermes.budget.project_budget_cents",
    config_value: "2000",
    config_type: "budget",
    config_category: "hermes",
    description: "Project budget in cents",
    is_user_editable: true,
    ...NON_NEGATIVE,
  },
  {
    config_key: "hermes.budget.cost_tracking_enabled",
    config_value: "true",
    config_type: "preference",
    config_category: "hermes",
    description: "Enable cost tracking",
    is_user_editable: true,
    ...BOOL,
  },
  {
    config_key: "hermes.budget.budget_alerts",
    config_value: "true",
    config_type: "preference",
    config_category: "hermes",
    description: "Enable budget alerts",
    is_user_editable: true,
    ...BOOL,
  },

  // LOCAL-FIRST POLICY
  {
    config_key: "hermes.execution.local_first_enabled",
    config_value: "true",
    config_type: "preference",
    config_category: "hermes",
    description: "Prefer local execution",
    is_user_editable: true,
    ...BOOL,
  },
  {
    config_key: "hermes.execution.local_retry_attempts",
    config_value: "3",
    config_type: "preference",
    config_category: "hermes",
    description: "Local retry attempts",
    is_user_editable: true,
    ...NON_NEGATIVE,
  },
  {
    config_key: "hermes.execution.force_remote_threshold",
    config_value: "0.8",
    config_type: "preference",
    config_category: "hermes",
    description: "Remote threshold (success rate)",
    is_user_editable: true,
    ...RATIO,
  },

  // TALOS CONFIG
  {
    config_key: "talos.models.local_models",
    config_value: "llama3.1:8b,qwen2.5-coder:7b",
    config_type: "system_setting",
    config_category: "talos",
    description: "Available local models",
    is_user_editable: true,
    ...MODELS,
  },
  {
    config_key: "talos.models.default_model",
    config_value: "llama3.1:8b",
    config_type: "system_setting",
    config_category: "talos",
    description: "Default model",
    is_user_editable: true,
    value_type: "string",
  },
  {
    config_key: "talos.models.code_model",
    config_value: "qwen2.5-coder:7b",
    config_type: "system_setting",
    config_category: "talos",
    description: "Code generation model",
    is_user_editable: true,
    value_type: "string",
  },
  {
    config_key: "talos.ollama.host",
    config_value: "http://localhost:11434",
    config_type: "system_setting",
    config_category: "talos",
    description: "Ollama server URL",
    is_user_editable: false,
    value_type: "url",
    validation_regex: CONFIG_REGEX.url,
    requires_restart: true,
  },

  // TALOS EXECUTION CONSTRAINTS
  {
    config_key: "talos.execution.max_concurrent_jobs",
    config_value: "1",
    config_type: "constraint",
    config_category: "talos",
    description: "Maximum concurrent jobs",
    is_user_editable: true,
    ...POSITIVE,
  },
  {
    config_key: "talos.execution.job_timeout_seconds",
    config_value: "3600",
    config_type: "constraint",
    config_category: "talos",
    description: "Job timeout in seconds",
    is_user_editable: true,
    ...POSITIVE,
  },
  {
    config_key: "talos.execution.retry_interval",
    config_value: "60",
    config_type: "system_setting",
    config_category: "talos",
    description: "Retry interval in seconds",
    is_user_editable: true,
    ...POSITIVE,
  },
  {
    config_key: "talos.execution.max_retry_attempts",
    config_value: "999999",
    config_type: "constraint",
    config_category: "talos",
    description: "Maximum retry attempts",
    is_user_editable: true,
    ...NON_NEGATIVE,
  },

  // TALOS STORAGE & LOGGING
  {
    config_key: "talos.logs.base_path",
    config_value: "./data/logs",
    config_type: "system_setting",
    config_category: "talos",
    description: "Base path for logs",
    is_user_editable: false,
    value_type: "string",
    requires_restart: true,
  },
  {
    config_key: "talos.logs.retention_days",
    config_value: "365",
    config_type: "system_setting",
    config_category: "talos",
    description: "Days to keep logs",
    is_user_editable: true,
    ...POSITIVE,
  },
  {
    config_key: "talos.logs.performance_logging",
    config_value: "true",
    config_type: "preference",
    config_category: "talos",
    description: "Enable performance logging",
    is_user_editable: true,
    ...BOOL,
  },
  {
    config_key: "talos.logs.full_result_storage",
    config_value: "true",
    config_type: "preference",
    config_category: "talos",
    description: "Store full results",
    is_user_editable: true,
    ...BOOL,
  },

  // TALOS SYSTEM CONSTRAINTS
  {
    config_key: "talos.system.max_memory_usage_percent",
    config_value: "80",
    config_type: "constraint",
    config_category: "talos",
    description: "Max memory usage percent",
    is_user_editable: true,
    ...PERCENT,
  },
  {
    config_key: "talos.system.max_cpu_usage_percent",
    config_value: "90",
    config_type: "constraint",
    config_category: "talos",
    description: "Max CPU usage percent",
    is_user_editable: true,
    ...PERCENT,
  },
  {
    config_key: "talos.system.available_ram_gb",
    config_value: "16",
    config_type: "system_setting",
    config_category: "talos",
    description: "Available RAM in GB",
    is_user_editable: true,
    value_type: "float",
    min_value: "0",
  },
  {
    config_key: "talos.system.available_storage_tb",
    config_value: "5",
    config_type: "system_setting",
    config_category: "talos",
    description: "Available storage in TB",
    is_user_editable: true,
    value_type: "float",
    min_value: "0",
  },

  // META-LEARNING CONFIG
  {
    config_key: "hermes.learning.enabled",
    config_value: "true",
    config_type: "preference",
    config_category: "hermes",
    description: "Enable meta-learning",
    is_user_editable: true,
    ...BOOL,
  },
  {
    config_key: "hermes.learning.confidence_threshold",
    config_value: "0.7",
    config_type: "system_setting",
    config_category: "hermes",
    description: "Minimum confidence for pattern application",
    is_user_editable: true,
    ...RATIO,
  },
  {
    config_key: "hermes.learning.max_questions_per_conversation",
    config_value: "5",
    config_type: "constraint",
    config_category: "hermes",
    description: "Max questions to ask",
    is_user_editable: true,
    ...NON_NEGATIVE,
  },
  {
    config_key: "hermes.learning.pattern_validation_threshold",
    config_value: "0.8",
    config_type: "system_setting",
    config_category: "hermes",
    description: "Threshold for pattern validation",
    is_user_editable: true,
    ...RATIO,
  },

  // PROJECT & TASK CONFIG
  {
    config_key: "hermes.projects.default_project_cents",
    config_value: "0",
    config_type: "budget",
    config_category: "hermes",
    description: "Default project budget (cents)",
    is_user_editable: true,
    ...NON_NEGATIVE,
  },
  {
    config_key: "hermes.projects.min_remote_budget_cents",
    config_value: "50",
    config_type: "budget",
    config_category: "hermes",
    description: "Minimum budget for remote use",
    is_user_editable: true,
    ...NON_NEGATIVE,
  },
  {
    config_key: "hermes.execution.consensus_threshold",
    config_value: "0.67",
    config_type: "system_setting",
    config_category: "hermes",
    description: "Consensus threshold for validation",
    is_user_editable: true,
    ...RATIO,
  },
  {
    config_key: "hermes.execution.k_sample_count",
    config_value: "3",
    config_type: "system_setting",
    config_category: "hermes",
    description: "Number of samples for consensus",
    is_user_editable: true,
    ...POSITIVE,
  },

  // TASK CLASSIFICATION
  {
    config_key: "hermes.classification.enable_llm",
    config_value: "true",
    config_type: "preference",
    config_category: "hermes",
    description: "Enable LLM classification",
    is_user_editable: true,
    ...BOOL,
  },
  {
    config_key: "hermes.classification.model",
    config_value: "llama3.1:8b",
    config_type: "system_setting",
    config_category: "hermes",
    description: "Model for classification",
    is_user_editable: true,
    value_type: "string",
  },
  {
    config_key: "hermes.classification.pattern_threshold",
    config_value: "0.7",
    config_type: "system_setting",
    config_category: "hermes",
    description: "Threshold for pattern matching",
    is_user_editable: true,
    ...RATIO,
  },

  // WORKFLOW ORCHESTRATION
  {
    config_key: "hermes.workflow.max_steps",
    config_value: "10",
    config_type: "constraint",
    config_category: "hermes",
    description: "Maximum workflow steps",
    is_user_editable: true,
    ...POSITIVE,
  },
  {
    config_key: "hermes.workflow.timeout_minutes",
    config_value: "60",
    config_type: "constraint",
    config_category: "hermes",
    description: "Workflow timeout in minutes",
    is_user_editable: true,
    ...POSITIVE,
  },
  {
    config_key: "hermes.workflow.enable_dependencies",
    config_value: "true",
    config_type: "preference",
    config_category: "hermes",
    description: "Enable dependency resolution",
    is_user_editable: true,
    ...BOOL,
  },

  // BACKEND CONFIGURATION (NEW)
  {
    config_key: "hermes.backends.enabled",
    config_value: "talos,remote_api",
    config_type: "system_setting",
    config_category: "hermes",
    description: "Enabled backends (comma-separated)",
    is_user_editable: true,
    value_type: "list",
    validation_regex: CONFIG_REGEX.identifierList,
  },
  {
    config_key: "hermes.backends.primary",
    config_value: "talos",
    config_type: "system_setting",
    config_category: "hermes",
    description: "Primary backend",
    is_user_editable: true,
    value_type: "string",
    validation_regex: CONFIG_REGEX.identifier,
  },
  {
    config_key: "hermes.backends.fallback",
    config_value: "remote_api",
    config_type: "system_setting",
    config_category: "hermes",
    description: "Fallback backend",
    is_user_editable: true,
    value_type: "string",
    // Empty: no fallback.
    validation_regex: "^[a-z0-9_]*$",
  },
  {
    config_key: "hermes.backends.load_balancing",
    config_value: "false",
    config_type: "preference",
    config_category: "hermes",
    description: "Enable load balancing",
    is_user_editable: true,
    ...BOOL,
  },
  {
    config_key: "hermes.backends.auto_failover",
    config_value: "true",
    config_type: "preference",
    config_category: "hermes",
    description: "Enable automatic failover",
    is_user_editable: true,
    ...BOOL,
  },

  // BACKEND SELECTION LOGIC (NEW)
  {
    config_key: "hermes.selection.criteria",
    config_value: "cost_first",
    config_type: "preference",
    config_category: "hermes",
    description: "Backend selection criteria",
    is_user_editable: true,
    value_type: "enum",
    validation_regex: CONFIG_REGEX.selectionCriteria,
  },
  {
    config_key: "hermes.selection.quality_threshold",
    config_value: "0.8",
    config_type: "system_setting",
    config_category: "hermes",
    description: "Minimum quality threshold",
    is_user_editable: true,
    ...RATIO,
  },
  {
    config_key: "hermes.selection.max_cost_per_job",
    config_value: "100",
    config_type: "constraint",
    config_category: "hermes",
    description: "Maximum cost per job (cents)",
    is_user_editable: true,
    ...NON_NEGATIVE,
  },
  {
    config_key: "hermes.selection.prefer_free",
    config_value: "true",
    config_type: "preference",
    config_category: "hermes",
    description: "Prefer free backends",
    is_user_editable: true,
    ...BOOL,
  },

  // TALOS BACKEND CONFIG (UPDATED)
  {
    config_key: "backend.talos.enabled",
    config_value: "true",
    config_type: "system_setting",
    config_category: "hermes",
    description: "Enable Talos backend",
    is_user_editable: true,
    ...BOOL,
  },
  {
    config_key: "backend.talos.type",
    config_value: "local",
    config_type: "system_setting",
    config_category: "hermes",
    description: "Talos backend type",
    is_user_editable: false,
    value_type: "enum",
    validation_regex: CONFIG_REGEX.backendType,
  },
  {
    config_key: "backend.talos.host",
    config_value: "100.x.x.x",
    config_type: "system_setting",
    config_category: "hermes",
    description: "Talos Tailscale IP",
    is_user_editable: false,
    value_type: "string",
    requires_restart: true,
  },
  {
    config_key: "backend.talos.port",
    config_value: "8001",
    config_type: "system_setting",
    config_category: "hermes",
    description: "Talos port",
    is_user_editable: false,
    ...PORT,
  },
  {
    config_key: "backend.talos.models",
    config_value: "llama3.1:8b,qwen2.5-coder:7b",
    config_type: "system_setting",
    config_category: "hermes",
    description: "Talos available models",
    is_user_editable: true,
    ...MODELS,
  },
  {
    config_key: "backend.talos.timeout",
    config_value: "300",
    config_type: "system_setting",
    config_category: "hermes",
    description: "Talos timeout (seconds)",
    is_user_editable: true,
    ...POSITIVE,
  },
  {
    config_key: "backend.talos.health_interval",
    config_value: "30",
    config_type: "system_setting",
    config_category: "hermes",
    description: "Talos health check interval",
    is_user_editable: true,
    ...POSITIVE,
  },

  // REMOTE API BACKEND CONFIG (NEW)
  {
    config_key: "backend.remote_api.enabled",
    config_value: "true",
    config_type: "system_setting",
    config_category: "hermes",
    description: "Enable remote API backend",
    is_user_editable: true,
    ...BOOL,
  },
  {
    config_key: "backend.remote_api.type",
    config_value: "openrouter",
    config_type: "system_setting",
    config_category: "hermes",
    description: "Remote API type",
    is_user_editable: true,
    value_type: "enum",
    validation_regex: CONFIG_REGEX.providerType,
  },
  {
    config_key: "backend.remote_api.key",
    config_value: "",
    config_type: "system_setting",
    config_category: "hermes",
    description: "Remote API key",
    is_user_editable: true,
    ...SECRET,
  },
  {
    config_key: "backend.remote_api.models",
    config_value: "anthropic/claude-3-sonnet,openai/gpt-4-turbo",
    config_type: "system_setting",
    config_category: "hermes",
    description: "Remote API models",
    is_user_editable: true,
    ...MODELS,
  },
  {
    config_key: "backend.remote_api.timeout",
    config_value: "120",
    config_type: "system_setting",
    config_category: "hermes",
    description: "Remote API timeout (seconds)",
    is_user_editable: true,
    ...POSITIVE,
  },
  {
    config_key: "backend.remote_api.rate_limit",
    config_value: "60",
    config_type: "system_setting",
    config_category: "hermes",
    description: "Remote API rate limit (per minute)",
    is_user_editable: true,
    ...POSITIVE,
  },

  // SERVER MODELS BACKEND CONFIG (NEW)
  {
    config_key: "backend.server_models.enabled",
    config_value: "false",
    config_type: "system_setting",
    config_category: "hermes",
    description: "Enable server models backend",
    is_user_editable: true,
    ...BOOL,
  },
  {
    config_key: "backend.server_models.type",
    config_value: "custom",
    config_type: "system_setting",
    config_category: "hermes",
    description: "Server models type",
    is_user_editable: true,
    value_type: "enum",
    validation_regex: CONFIG_REGEX.providerType,
  },
  {
    config_key: "backend.server_models.host",
    config_value: "",
    config_type: "system_setting",
    config_category: "hermes",
    description: "Server models host",
    is_user_editable: true,
    value_type: "string",
    requires_restart: true,
  },
  {
    config_key: "backend.server_models.port",
    config_value: "8080",
    config_type: "system_setting",
    config_category: "hermes",
    description: "Server models port",
    is_user_editable: true,
    ...PORT,
  },
  {
    config_key: "backend.server_models.key",
    config_value: "",
    config_type: "system_setting",
    config_category: "hermes",
    description: "Server models API key",
    is_user_editable: true,
    ...SECRET,
  },
  {
    config_key: "backend.server_models.models",
    config_value: "llama3.2:70b,qwen2.5:72b",
    config_type: "system_setting",
    config_category: "hermes",
    description: "Server models available",
    is_user_editable: true,
    ...MODELS,
  },

  // GPT-5 BACKEND CONFIG (FUTURE)
  {
    config_key: "backend.gpt5.enabled",
    config_value: "false",
    config_type: "system_setting",
    config_category: "hermes",
    description: "Enable GPT-5 backend",
    is_user_editable: true,
    ...BOOL,
  },
  {
    config_key: "backend.gpt5.type",
    config_value: "openai",
    config_type: "system_setting",
    config_category: "hermes",
    description: "GPT-5 backend type",
    is_user_editable: true,
    value_type: "enum",
    validation_regex: CONFIG_REGEX.providerType,
  },
  {
    config_key: "backend.gpt5.key",
    config_value: "",
    config_type: "system_setting",
    config_category: "hermes",
    description: "GPT-5 API key",
    is_user_editable: true,
    ...SECRET,
  },
  {
    config_key: "backend.gpt5.model",
    config_value: "gpt-5",
    config_type: "system_setting",
    config_category: "hermes",
    description: "GPT-5 model",
    is_user_editable: true,
    value_type: "string",
  },
  {
    config_key: "backend.gpt5.timeout",
    config_value: "90",
    config_type: "system_setting",
    config_category: "hermes",
    description: "GPT-5 timeout (seconds)",
    is_user_editable: true,
    ...POSITIVE,
  },

  // DEBUG & DEVELOPMENT
  {
    config_key: "hermes.debug.mode",
    config_value: "false",
    config_type: "system_setting",
    config_category: "hermes",
    description: "Debug mode",
    is_user_editable: false,
    ...BOOL,
  },
  {
    config_key: "hermes.debug.verbose_logging",
    config_value: "false",
    config_type: "system_setting",
    config_category: "hermes",
    description: "Verbose logging",
    is_user_editable: false,
    ...BOOL,
  },
  {
    config_key: "hermes.debug.performance_monitoring",
    config_value: "true",
    config_type: "preference",
    config_category: "hermes",
    description: "Performance monitoring",
    is_user_editable: true,
    ...BOOL,
  },
  {
    config_key: "hermes.debug.api_rate_limiting",
    config_value: "true",
    config_type: "system_setting",
    config_category: "hermes",
    description: "API rate limiting",
    is_user_editable: true,
    ...BOOL,
  },
];
