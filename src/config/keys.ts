import {
  type AnyKeyDef,
  bool,
  CONFIG_REGEX,
  cron,
  float,
  int,
  json,
  list,
  oneOf,
  string,
  url,
  type ValueOf,
} from "./key-types.ts";

/**
 * Every setting Hermes reads from `system_config`, with its type, default, range or allowed values,
 * description, and whether it is a secret or needs a restart. This is the one source of:
 * - defaults (`SystemConfig.get` falls back to them; no call site restates one),
 * - validation (each key's zod schema, used by `SystemConfig.set` for every transport),
 * - the secret rule (masking in the API, /config and the audit),
 * - the seed rows (migrations 002, 006, 007 and 008 insert the keys marked with their number).
 *
 * The defaults are the spec's seed values. Changing one here changes only new databases; a key added
 * later needs a new migration that inserts its row (`since` names that migration).
 */
/** `work=model` items: the model a backend runs for one kind of work (draft, refine, rewrite…). */
const WORK_MODELS_REGEX = "^([a-z_]+=[^,=\\s]+(,[a-z_]+=[^,=\\s]+)*)?$";

/** `backend.<name>.work_models`: the same setting for every backend. */
const workModelsKey = () =>
  list({
    default: [],
    regex: WORK_MODELS_REGEX,
    kind: "system_setting",
    since: "012",
    description:
      "Model per kind of work, e.g. refine=gpt-5,rewrite=gpt-5-mini (other work: the backend's model)",
  });

export const CONFIG_KEYS = {
  "hermes.web.port": int({
    default: 5000,
    min: 1,
    max: 65535,
    kind: "system_setting",
    since: "002",
    editable: false,
    requiresRestart: true,
    description: "Port for Hermes web interface",
  }),
  "hermes.web.session_timeout_hours": int({
    default: 24,
    min: 1,
    kind: "system_setting",
    since: "002",
    description: "How long sessions remain active",
  }),
  "hermes.web.max_input_length": int({
    default: 10000,
    min: 1,
    kind: "system_setting",
    since: "002",
    description: "Maximum input length for ideas",
  }),
  "hermes.web.max_queued_jobs": int({
    default: 100,
    min: 1,
    kind: "system_setting",
    since: "002",
    description: "Maximum jobs in queue",
  }),
  "hermes.talos.tailscale_ip": string({
    default: "100.x.x.x",
    kind: "system_setting",
    since: "002",
    editable: false,
    requiresRestart: true,
    description: "Tailscale IP for Talos",
  }),
  "hermes.talos.tailscale_port": int({
    default: 8001,
    min: 1,
    max: 65535,
    kind: "system_setting",
    since: "002",
    editable: false,
    requiresRestart: true,
    description: "Port for Talos agent",
  }),
  "hermes.talos.health_check_interval": int({
    default: 10,
    min: 1,
    kind: "system_setting",
    since: "002",
    description: "Seconds between health checks",
  }),
  "hermes.talos.connection_timeout": int({
    default: 30,
    min: 1,
    kind: "system_setting",
    since: "002",
    description: "Connection timeout to Talos",
  }),
  "hermes.talos.max_retry_duration": int({
    default: 3600,
    min: 1,
    kind: "system_setting",
    since: "002",
    description: "Max seconds to retry Talos",
  }),
  "hermes.db.path": string({
    default: "./data/hermes.db",
    kind: "system_setting",
    since: "002",
    editable: false,
    requiresRestart: true,
    description: "Database file path",
  }),
  "hermes.db.backup_schedule": cron({
    default: "0 2 * * *",
    kind: "system_setting",
    since: "002",
    description: "Backup schedule (cron)",
  }),
  "hermes.db.max_size_mb": int({
    default: 1000,
    min: 1,
    kind: "system_setting",
    since: "002",
    description: "Maximum database size",
  }),
  "hermes.logs.cloud_retention_days": int({
    default: 30,
    min: 1,
    kind: "system_setting",
    since: "002",
    description: "Days to keep logs in cloud",
  }),
  "hermes.notifications.telegram_bot_token": string({
    default: "",
    regex: "^([0-9]+:[A-Za-z0-9_-]+)?$",
    kind: "system_setting",
    since: "002",
    requiresRestart: true,
    secret: true,
    description: "Telegram bot token",
  }),
  "hermes.notifications.telegram_chat_id": string({
    default: "",
    regex: "^(-?[0-9]+)?$",
    kind: "system_setting",
    since: "002",
    description: "Telegram chat ID",
  }),
  "hermes.notifications.alert_types": list({
    default: ["talos_down", "job_failure", "queue_full"],
    regex: CONFIG_REGEX.identifierList,
    kind: "system_setting",
    since: "002",
    description: "Types of alerts to send",
  }),
  "hermes.notifications.cooldown_minutes": int({
    default: 30,
    min: 0,
    kind: "system_setting",
    since: "002",
    description: "Minutes between same alerts",
  }),
  "hermes.budget.openrouter_api_key": string({
    default: "",
    kind: "system_setting",
    since: "002",
    secret: true,
    description: "OpenRouter API key",
  }),
  "hermes.budget.daily_budget_cents": int({
    default: 500,
    min: 0,
    kind: "budget",
    since: "002",
    description: "Daily budget in cents",
  }),
  "hermes.budget.project_budget_cents": int({
    default: 2000,
    min: 0,
    kind: "budget",
    since: "002",
    description: "Project budget in cents",
  }),
  "hermes.budget.cost_tracking_enabled": bool({
    default: true,
    kind: "preference",
    since: "002",
    description: "Enable cost tracking",
  }),
  "hermes.budget.budget_alerts": bool({
    default: true,
    kind: "preference",
    since: "002",
    description: "Enable budget alerts",
  }),
  "hermes.execution.local_first_enabled": bool({
    default: true,
    kind: "preference",
    since: "002",
    description: "Prefer local execution",
  }),
  "hermes.execution.local_retry_attempts": int({
    default: 3,
    min: 0,
    kind: "preference",
    since: "002",
    description: "Local retry attempts",
  }),
  "hermes.execution.stall_first_token_seconds": int({
    default: 30,
    min: 0,
    max: 3600,
    kind: "system_setting",
    since: "012",
    description:
      "A backend that sends nothing this many seconds after the call starts has stalled: TIMEOUT, failed over (0: no limit)",
  }),
  "hermes.execution.stall_between_tokens_seconds": int({
    default: 60,
    min: 0,
    max: 3600,
    kind: "system_setting",
    since: "012",
    description:
      "A stream that sends nothing more for this many seconds has stalled: TIMEOUT, failed over (0: no limit)",
  }),
  "hermes.execution.force_remote_threshold": float({
    default: 0.8,
    min: 0,
    max: 1,
    kind: "preference",
    since: "002",
    description: "Remote threshold (success rate)",
  }),
  "talos.models.local_models": list({
    default: ["llama3.1:8b", "qwen2.5-coder:7b"],
    regex: CONFIG_REGEX.modelList,
    kind: "system_setting",
    since: "002",
    description: "Available local models",
  }),
  "talos.models.default_model": string({
    default: "llama3.1:8b",
    kind: "system_setting",
    since: "002",
    description: "Default model",
  }),
  "talos.models.code_model": string({
    default: "qwen2.5-coder:7b",
    kind: "system_setting",
    since: "002",
    description: "Code generation model",
  }),
  "talos.ollama.host": url({
    default: "http://localhost:11434",
    kind: "system_setting",
    since: "002",
    editable: false,
    requiresRestart: true,
    description: "Ollama server URL",
  }),
  "talos.execution.max_concurrent_jobs": int({
    default: 1,
    min: 1,
    kind: "constraint",
    since: "002",
    description: "Maximum concurrent jobs",
  }),
  "talos.execution.job_timeout_seconds": int({
    default: 3600,
    min: 1,
    kind: "constraint",
    since: "002",
    description: "Job timeout in seconds",
  }),
  "talos.execution.retry_interval": int({
    default: 60,
    min: 1,
    kind: "system_setting",
    since: "002",
    description: "Retry interval in seconds",
  }),
  "talos.execution.max_retry_attempts": int({
    default: 999999,
    min: 0,
    kind: "constraint",
    since: "002",
    description: "Maximum retry attempts",
  }),
  "talos.logs.base_path": string({
    default: "./data/logs",
    kind: "system_setting",
    since: "002",
    editable: false,
    requiresRestart: true,
    description: "Base path for logs",
  }),
  "talos.logs.retention_days": int({
    default: 365,
    min: 1,
    kind: "system_setting",
    since: "002",
    description: "Days to keep logs",
  }),
  "talos.logs.performance_logging": bool({
    default: true,
    kind: "preference",
    since: "002",
    description: "Enable performance logging",
  }),
  "talos.logs.full_result_storage": bool({
    default: true,
    kind: "preference",
    since: "002",
    description: "Store full results",
  }),
  "talos.system.max_memory_usage_percent": int({
    default: 80,
    min: 0,
    max: 100,
    kind: "constraint",
    since: "002",
    description: "Max memory usage percent",
  }),
  "talos.system.max_cpu_usage_percent": int({
    default: 90,
    min: 0,
    max: 100,
    kind: "constraint",
    since: "002",
    description: "Max CPU usage percent",
  }),
  "talos.system.available_ram_gb": float({
    default: 16,
    min: 0,
    kind: "system_setting",
    since: "002",
    description: "Available RAM in GB",
  }),
  "talos.system.available_storage_tb": float({
    default: 5,
    min: 0,
    kind: "system_setting",
    since: "002",
    description: "Available storage in TB",
  }),
  "hermes.learning.enabled": bool({
    default: true,
    kind: "preference",
    since: "002",
    description: "Enable meta-learning",
  }),
  "hermes.learning.confidence_threshold": float({
    default: 0.7,
    min: 0,
    max: 1,
    kind: "system_setting",
    since: "002",
    description: "Minimum confidence for pattern application",
  }),
  "hermes.learning.max_questions_per_conversation": int({
    default: 5,
    min: 0,
    kind: "constraint",
    since: "002",
    description: "Max questions to ask",
  }),
  "hermes.learning.random_seed": int({
    default: 0,
    min: 0,
    max: 4294967295,
    kind: "system_setting",
    since: "018",
    requiresRestart: true,
    description:
      "Seed of the learners' randomness (question exploration, pattern validation); 0: a new seed each start. Set it to repeat a run exactly.",
  }),
  "hermes.learning.pattern_validation_threshold": float({
    default: 0.8,
    min: 0,
    max: 1,
    kind: "system_setting",
    since: "002",
    description: "Threshold for pattern validation",
  }),
  "hermes.projects.default_project_cents": int({
    default: 0,
    min: 0,
    kind: "budget",
    since: "002",
    description: "Default project budget (cents)",
  }),
  "hermes.projects.min_remote_budget_cents": int({
    default: 50,
    min: 0,
    kind: "budget",
    since: "002",
    description: "Minimum budget for remote use",
  }),
  "hermes.execution.consensus_threshold": float({
    default: 0.67,
    min: 0,
    max: 1,
    kind: "system_setting",
    since: "002",
    description: "Consensus threshold for validation",
  }),
  "hermes.execution.k_sample_count": int({
    default: 3,
    min: 1,
    kind: "system_setting",
    since: "002",
    description: "Number of samples for consensus",
  }),
  "hermes.classification.enable_llm": bool({
    default: true,
    kind: "preference",
    since: "002",
    description: "Enable LLM classification",
  }),
  "hermes.classification.model": string({
    default: "llama3.1:8b",
    kind: "system_setting",
    since: "002",
    description: "Model for classification",
  }),
  "hermes.classification.pattern_threshold": float({
    default: 0.7,
    min: 0,
    max: 1,
    kind: "system_setting",
    since: "002",
    description: "Threshold for pattern matching",
  }),
  "hermes.classification.deadline_ms": int({
    default: 1500,
    min: 50,
    max: 30_000,
    kind: "system_setting",
    since: "017",
    description:
      "How long the first question waits for the model's analysis of an idea (ms); past it the heuristics stand",
  }),
  "hermes.classification.local_only": bool({
    default: true,
    kind: "system_setting",
    since: "017",
    description: "Send the model-assisted analysis of ideas only to local or free backends",
  }),
  "hermes.workflow.max_steps": int({
    default: 10,
    min: 1,
    kind: "constraint",
    since: "002",
    description: "Maximum workflow steps",
  }),
  "hermes.workflow.timeout_minutes": int({
    default: 60,
    min: 1,
    kind: "constraint",
    since: "002",
    description: "Workflow timeout in minutes",
  }),
  "hermes.workflow.enable_dependencies": bool({
    default: true,
    kind: "preference",
    since: "002",
    description: "Enable dependency resolution",
  }),
  "hermes.backends.enabled": list({
    default: ["talos", "remote_api"],
    regex: CONFIG_REGEX.identifierList,
    kind: "system_setting",
    since: "002",
    description: "Enabled backends (comma-separated)",
  }),
  "hermes.backends.primary": string({
    default: "talos",
    regex: CONFIG_REGEX.identifier,
    kind: "system_setting",
    since: "002",
    description: "Primary backend",
  }),
  "hermes.backends.fallback": string({
    default: "remote_api",
    regex: "^[a-z0-9_]*$",
    kind: "system_setting",
    since: "002",
    description: "Fallback backend",
  }),
  "hermes.backends.load_balancing": bool({
    default: false,
    kind: "preference",
    since: "002",
    description: "Enable load balancing",
  }),
  "hermes.backends.auto_failover": bool({
    default: true,
    kind: "preference",
    since: "002",
    description: "Enable automatic failover",
  }),
  "hermes.selection.criteria": oneOf(["cost_first", "quality_first", "speed_first", "balanced"], {
    default: "cost_first",
    kind: "preference",
    since: "002",
    description: "Backend selection criteria",
  }),
  "hermes.selection.quality_threshold": float({
    default: 0.8,
    min: 0,
    max: 1,
    kind: "system_setting",
    since: "002",
    description: "Minimum quality threshold",
  }),
  "hermes.selection.max_cost_per_job": int({
    default: 100,
    min: 0,
    kind: "constraint",
    since: "002",
    description: "Maximum cost per job (cents)",
  }),
  "hermes.selection.prefer_free": bool({
    default: true,
    kind: "preference",
    since: "002",
    description: "Prefer free backends",
  }),
  "backend.talos.enabled": bool({
    default: true,
    kind: "system_setting",
    since: "002",
    description: "Enable Talos backend",
  }),
  "backend.talos.type": oneOf(["local", "remote_api", "server_model", "custom"], {
    default: "local",
    kind: "system_setting",
    since: "002",
    editable: false,
    description: "Talos backend type",
  }),
  "backend.talos.host": string({
    default: "100.x.x.x",
    kind: "system_setting",
    since: "002",
    editable: false,
    requiresRestart: true,
    description: "Talos Tailscale IP",
  }),
  "backend.talos.port": int({
    default: 8001,
    min: 1,
    max: 65535,
    kind: "system_setting",
    since: "002",
    editable: false,
    requiresRestart: true,
    description: "Talos port",
  }),
  "backend.talos.models": list({
    default: ["llama3.1:8b", "qwen2.5-coder:7b"],
    regex: CONFIG_REGEX.modelList,
    kind: "system_setting",
    since: "002",
    description: "Talos available models",
  }),
  "backend.talos.timeout": int({
    default: 300,
    min: 1,
    kind: "system_setting",
    since: "002",
    description: "Talos timeout (seconds)",
  }),
  "backend.talos.health_interval": int({
    default: 30,
    min: 1,
    kind: "system_setting",
    since: "002",
    description: "Talos health check interval",
  }),
  "backend.remote_api.enabled": bool({
    default: true,
    kind: "system_setting",
    since: "002",
    description: "Enable remote API backend",
  }),
  "backend.remote_api.type": oneOf(["openrouter", "openai", "vllm", "llamacpp", "ollama", "custom"], {
    default: "openrouter",
    kind: "system_setting",
    since: "002",
    description: "Remote API type",
  }),
  "backend.remote_api.key": string({
    default: "",
    kind: "system_setting",
    since: "002",
    secret: true,
    description: "Remote API key",
  }),
  "backend.remote_api.models": list({
    default: ["anthropic/claude-3-sonnet", "openai/gpt-4-turbo"],
    regex: CONFIG_REGEX.modelList,
    kind: "system_setting",
    since: "002",
    description: "Remote API models",
  }),
  "backend.remote_api.timeout": int({
    default: 120,
    min: 1,
    kind: "system_setting",
    since: "002",
    description: "Remote API timeout (seconds)",
  }),
  "backend.remote_api.rate_limit": int({
    default: 60,
    min: 1,
    kind: "system_setting",
    since: "002",
    description: "Remote API rate limit (per minute)",
  }),
  "backend.server_models.enabled": bool({
    default: false,
    kind: "system_setting",
    since: "002",
    description: "Enable server models backend",
  }),
  "backend.server_models.type": oneOf(["openrouter", "openai", "vllm", "llamacpp", "ollama", "custom"], {
    default: "custom",
    kind: "system_setting",
    since: "002",
    description: "Server models type",
  }),
  "backend.server_models.host": string({
    default: "",
    kind: "system_setting",
    since: "002",
    requiresRestart: true,
    description: "Server models host",
  }),
  "backend.server_models.port": int({
    default: 8080,
    min: 1,
    max: 65535,
    kind: "system_setting",
    since: "002",
    requiresRestart: true,
    description: "Server models port",
  }),
  "backend.server_models.key": string({
    default: "",
    kind: "system_setting",
    since: "002",
    secret: true,
    description: "Server models API key",
  }),
  "backend.server_models.models": list({
    default: ["llama3.2:70b", "qwen2.5:72b"],
    regex: CONFIG_REGEX.modelList,
    kind: "system_setting",
    since: "002",
    description: "Server models available",
  }),
  "backend.gpt5.enabled": bool({
    default: false,
    kind: "system_setting",
    since: "002",
    description: "Enable GPT-5 backend",
  }),
  "backend.gpt5.type": oneOf(["openrouter", "openai", "vllm", "llamacpp", "ollama", "custom"], {
    default: "openai",
    kind: "system_setting",
    since: "002",
    description: "GPT-5 backend type",
  }),
  "backend.gpt5.key": string({
    default: "",
    kind: "system_setting",
    since: "002",
    secret: true,
    description: "GPT-5 API key",
  }),
  "backend.gpt5.model": string({
    default: "gpt-5",
    kind: "system_setting",
    since: "002",
    description: "GPT-5 model",
  }),
  "backend.gpt5.work_models": workModelsKey(),
  "backend.remote_api.work_models": workModelsKey(),
  "backend.ollama.work_models": workModelsKey(),
  "backend.gpt5.timeout": int({
    default: 90,
    min: 1,
    kind: "system_setting",
    since: "002",
    description: "GPT-5 timeout (seconds)",
  }),
  "hermes.debug.mode": bool({
    default: false,
    kind: "system_setting",
    since: "002",
    editable: false,
    description: "Debug mode",
  }),
  "hermes.debug.verbose_logging": bool({
    default: false,
    kind: "system_setting",
    since: "002",
    editable: false,
    description: "Verbose logging",
  }),
  "hermes.debug.performance_monitoring": bool({
    default: true,
    kind: "preference",
    since: "002",
    description: "Performance monitoring",
  }),
  "hermes.debug.api_rate_limiting": bool({
    default: true,
    kind: "system_setting",
    since: "002",
    description: "API rate limiting",
  }),
  "hermes.db.backup_retention_count": int({
    default: 7,
    min: 1,
    max: 365,
    kind: "system_setting",
    since: "006",
    description: "How many database backups to keep in <db dir>/backups (oldest deleted first)",
  }),
  "hermes.api.rate_limit_per_minute": int({
    default: 120,
    min: 1,
    max: 100000,
    kind: "constraint",
    since: "006",
    description: "Requests per minute per API client (when hermes.debug.api_rate_limiting is true)",
  }),
  "hermes.api.max_body_kb": int({
    default: 64,
    min: 1,
    max: 10240,
    kind: "constraint",
    since: "006",
    description: "Largest accepted API request body, in KiB",
  }),
  "hermes.api.callback_max_attempts": int({
    default: 8,
    min: 1,
    max: 50,
    kind: "constraint",
    since: "006",
    description: "Delivery attempts of an external callback before giving up",
  }),
  "hermes.api.callback_secret": string({
    default: "",
    regex: "^(.{16,})?$",
    kind: "system_setting",
    since: "006",
    secret: true,
    description:
      "HMAC-SHA256 key of X-Hermes-Signature on external callbacks, both ways (empty: callbacks are off)",
  }),
  "hermes.api.callback_allowed_hosts": list({
    default: [],
    regex: "^([A-Za-z0-9.:\\[\\]-]+(,\\s*[A-Za-z0-9.:\\[\\]-]+)*)?$",
    kind: "system_setting",
    since: "009",
    description:
      "Host names a callback_url may use although they resolve to a loopback, private or link-local address (comma-separated; empty: none)",
  }),
  "hermes.budget.price_table": json({
    default: "{}",
    kind: "budget",
    since: "007",
    description:
      'Model prices in cents per million tokens, overriding the built-in table: {"model": [input, output]} or {"backend:model": …}',
  }),
  "hermes.budget.default_max_output_tokens": int({
    default: 4096,
    min: 1,
    max: 200000,
    kind: "budget",
    since: "007",
    description: "Output cap of a paid call that sets none; its budget reservation is computed against it",
  }),
  "backend.ollama.enabled": bool({
    default: true,
    kind: "system_setting",
    since: "007",
    description: "Enable the local Ollama backend (OLLAMA_HOST)",
  }),
  "backend.ollama.models": list({
    default: [],
    regex: CONFIG_REGEX.modelList,
    kind: "system_setting",
    since: "007",
    description: "Local Ollama models (empty: discovered by the health check)",
  }),
  "backend.ollama.concurrency": int({
    default: 1,
    min: 1,
    max: 64,
    kind: "constraint",
    since: "007",
    description: "Ollama: jobs at once",
  }),
  "backend.talos.concurrency": int({
    default: 1,
    min: 1,
    max: 64,
    kind: "constraint",
    since: "007",
    description: "Talos: jobs at once",
  }),
  "backend.remote_api.concurrency": int({
    default: 4,
    min: 1,
    max: 64,
    kind: "constraint",
    since: "007",
    description: "Remote API: jobs at once",
  }),
  "backend.server_models.concurrency": int({
    default: 2,
    min: 1,
    max: 64,
    kind: "constraint",
    since: "007",
    description: "Server models: jobs at once",
  }),
  "backend.gpt5.concurrency": int({
    default: 4,
    min: 1,
    max: 64,
    kind: "constraint",
    since: "007",
    description: "GPT-5: jobs at once",
  }),
  "hermes.guests.mode": oneOf(["refuse", "limited"], {
    default: "refuse",
    kind: "preference",
    since: "008",
    description: "Non-owners: refuse, or limited (local backends only, daily quota)",
  }),
  "hermes.guests.daily_quota": int({
    default: 3,
    min: 0,
    max: 1000,
    kind: "constraint",
    since: "008",
    description: "Ideas a guest may send per day in limited mode",
  }),
  "hermes.web.ideas_per_minute": int({
    default: 10,
    min: 1,
    max: 1000,
    kind: "constraint",
    since: "008",
    description: "Ideas one user may submit per minute (rate limit)",
  }),
  // Voice and files in Telegram (015). The environment (HERMES_TRANSCRIBE_*) wins over these rows,
  // as OPENAI_API_KEY does over backend.gpt5.key; both are read on every voice note (no restart).
  "hermes.transcription.url": url({
    default: "",
    kind: "system_setting",
    since: "015",
    description:
      "OpenAI-compatible transcription API root, e.g. https://api.openai.com/v1 or http://127.0.0.1:8000/v1 (empty: HERMES_TRANSCRIBE_URL, else voice notes are off)",
  }),
  "hermes.transcription.model": string({
    default: "whisper-1",
    regex: "^\\S{1,200}$",
    kind: "system_setting",
    since: "015",
    description:
      "Transcription model (OpenAI: whisper-1; Groq: whisper-large-v3; local servers: their model name)",
  }),
  "hermes.transcription.key": string({
    default: "",
    kind: "system_setting",
    since: "015",
    secret: true,
    description: "Bearer key of the transcription API (empty: HERMES_TRANSCRIBE_API_KEY, else none is sent)",
  }),
  "hermes.vision.backend": string({
    default: "",
    regex: "^[A-Za-z0-9_.-]*$",
    kind: "system_setting",
    since: "015",
    description:
      "Ollama or OpenAI-compatible backend that can see images (e.g. ollama); with hermes.vision.model, a photo sent with a new idea goes to it (empty: photos are not read)",
  }),
  "hermes.vision.model": string({
    default: "",
    regex: "^\\S{0,200}$",
    kind: "system_setting",
    since: "015",
    description:
      "Vision model on hermes.vision.backend (Ollama: llava, llama3.2-vision; OpenAI: gpt-4o-mini)",
  }),
  "hermes.telegram.max_document_chars": int({
    default: 20000,
    min: 100,
    max: 1000000,
    kind: "constraint",
    since: "015",
    description:
      "Characters of an attached .txt/.md document taken into the idea (also bounded by hermes.web.max_input_length)",
  }),
} as const satisfies Record<string, AnyKeyDef>;

const PROVIDER_TYPES = ["openrouter", "openai", "vllm", "llamacpp", "ollama", "custom"] as const;
const BACKEND_TYPES = ["local", "remote_api", "server_model", "custom"] as const;
const FAMILY = { kind: "system_setting", since: "007" } as const;

/**
 * `backend.<name>.<field>`: a backend's settings, for any backend name (the seeded ones are in
 * CONFIG_KEYS with their own defaults). A field's default here is only what a reader gets when the
 * row is missing.
 */
export const BACKEND_FIELDS = {
  enabled: bool({ ...FAMILY, default: true, description: "Enable this backend" }),
  type: oneOf([...PROVIDER_TYPES, ...BACKEND_TYPES.filter((t) => t !== "custom")], {
    ...FAMILY,
    default: "custom",
    description: "Backend type or wire protocol",
  }),
  host: string({ ...FAMILY, default: "", requiresRestart: true, description: "Host" }),
  port: int({ ...FAMILY, default: 8080, min: 1, max: 65535, requiresRestart: true, description: "Port" }),
  key: string({ ...FAMILY, default: "", secret: true, description: "API key" }),
  model: string({ ...FAMILY, default: "", description: "Model" }),
  default_model: string({ ...FAMILY, default: "", description: "Default model (empty: the first model)" }),
  models: list({ ...FAMILY, default: [], regex: CONFIG_REGEX.modelList, description: "Models" }),
  work_models: list({
    ...FAMILY,
    default: [],
    regex: WORK_MODELS_REGEX,
    description:
      "Model per kind of work, e.g. refine=gpt-5,rewrite=gpt-5-mini (other work: the backend's model)",
  }),
  timeout: int({ ...FAMILY, default: 120, min: 1, description: "Timeout (seconds)" }),
  health_interval: int({ ...FAMILY, default: 30, min: 1, description: "Health check interval (seconds)" }),
  concurrency: int({
    ...FAMILY,
    default: 1,
    min: 1,
    max: 64,
    kind: "constraint",
    description: "Jobs at once",
  }),
  rate_limit: int({ ...FAMILY, default: 60, min: 1, description: "Rate limit (per minute)" }),
} as const;

export type StaticConfigKey = keyof typeof CONFIG_KEYS;
export type BackendField = keyof typeof BACKEND_FIELDS;
export type BackendConfigKey = `backend.${string}.${BackendField}`;
/** Every key the code may read: a literal of the registry or a backend family key. */
export type ConfigKey = StaticConfigKey | BackendConfigKey;

/** The typed value of a key (`hermes.budget.daily_budget_cents` → number). */
export type ConfigValue<K extends ConfigKey> = K extends StaticConfigKey
  ? ValueOf<(typeof CONFIG_KEYS)[K]>
  : K extends `backend.${string}.${infer F extends BackendField}`
    ? ValueOf<(typeof BACKEND_FIELDS)[F]>
    : never;

const STATIC: ReadonlyMap<string, AnyKeyDef> = new Map(Object.entries(CONFIG_KEYS));
const FAMILY_KEY = /^backend\.[A-Za-z0-9_-]+\.([a-z_]+)$/;

/** The registry entry of a key, or undefined for a key Hermes does not know. */
export function keyDef(key: string): AnyKeyDef | undefined {
  const known = STATIC.get(key);
  if (known) return known;
  const field = FAMILY_KEY.exec(key)?.[1];
  return field !== undefined && Object.hasOwn(BACKEND_FIELDS, field)
    ? BACKEND_FIELDS[field as BackendField]
    : undefined;
}

/** The registry's default of a key. */
export function configDefault<K extends ConfigKey>(key: K): ConfigValue<K> {
  const def = keyDef(key);
  if (!def) throw new Error(`Unknown config key ${key}`);
  return def.default as ConfigValue<K>;
}

/** The registry's default of a key as stored text (`"500"`, `"true"`, `"a,b"`). */
export function defaultText(key: ConfigKey): string {
  const def = keyDef(key);
  if (!def) throw new Error(`Unknown config key ${key}`);
  return def.format(def.default);
}

/** Names that hold a secret whatever the registry says (a row it does not know, a backend's key). */
const SECRET_NAME = /(^|[._])(key|api_key|token|secret|password)$/i;

/**
 * The one secret rule (API, /config, audit alike): the registry's flag, or — for a row the
 * registry does not know — a name that says it holds a key, token, secret or password.
 */
export function isSecretKey(key: string): boolean {
  const def = keyDef(key);
  return def?.secret === true || (def === undefined && SECRET_NAME.test(key));
}

/** A secret as shown anywhere: at most its last two characters (`••••89`), none when short. */
export function maskSecret(value: string): string {
  if (value === "") return "";
  return value.length < 8 ? "••••" : `••••${value.slice(-2)}`;
}

/** The registry's keys in seed order, with their definitions. */
export function registryEntries(): [StaticConfigKey, AnyKeyDef][] {
  return Object.entries(CONFIG_KEYS) as [StaticConfigKey, AnyKeyDef][];
}
