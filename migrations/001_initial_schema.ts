import type { Kysely } from "kysely";
import { sql } from "kysely";

/**
 * 001 — the seed specification's schema (SPEC.md, "Database Schema Design"), verbatim:
 * eleven tables with every column, type, default and foreign key exactly as the spec writes them,
 * plus the indexes the queue, status and learning queries need.
 *
 * Frozen: never edit an applied migration; add a new numbered one instead.
 */

const TABLES: readonly string[] = [
  `CREATE TABLE idea_threads (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid TEXT UNIQUE NOT NULL,                    -- Public thread identifier
    title TEXT NOT NULL,                           -- Human-readable title
    original_request TEXT NOT NULL,               -- User's original input
    initial_clarity_score REAL DEFAULT 0.0,       -- How clear initial understanding was
    final_clarity_score REAL DEFAULT 0.0,         -- How clear final understanding became
    status TEXT DEFAULT 'active',                  -- active, paused, completed, archived, failed
    idea_type TEXT,                                -- research, creation, analysis, decision, mixed
    complexity_score INTEGER DEFAULT 1,           -- 1-10 complexity estimate
    priority INTEGER DEFAULT 5,                   -- 1-10 priority level

    -- User Context & Preferences
    user_context TEXT,                             -- JSON of user preferences/constraints
    communication_style TEXT,                      -- formal, casual, technical
    depth_preference TEXT,                         -- overview, detailed, comprehensive

    -- System Learning
    learned_patterns TEXT,                         -- JSON of patterns discovered
    optimization_applied TEXT,                     -- JSON of optimizations used
    conversation_effectiveness REAL DEFAULT 0.0,   -- How well conversation worked

    -- Results & Outcomes
    final_result_summary TEXT,                     -- Human-readable summary
    user_satisfaction INTEGER,                     -- 1-5 rating if provided
    success_criteria_met TEXT,                     -- JSON of which success criteria were met

    -- Timing & Performance
    created_date DATETIME DEFAULT CURRENT_TIMESTAMP,
    last_active DATETIME DEFAULT CURRENT_TIMESTAMP,
    completed_date DATETIME,
    total_execution_time_minutes REAL DEFAULT 0.0,
    total_conversation_time_minutes REAL DEFAULT 0.0,

    -- Meta-learning Data
    draft_count INTEGER DEFAULT 0,                -- How many drafts/iterations
    optimization_savings REAL DEFAULT 0.0,         -- Time saved by optimizations
    pattern_confidence REAL DEFAULT 0.0            -- Confidence in applied patterns
  )`,
  `CREATE TABLE jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    thread_id INTEGER NOT NULL,                   -- Links to idea thread
    parent_job_id INTEGER,                        -- For job sequences and dependencies
    job_sequence INTEGER DEFAULT 1,               -- Which iteration/draft this is
    job_type TEXT NOT NULL,                       -- research, analysis, creation, optimization
    job_subtype TEXT,                             -- More specific task classification
    status TEXT DEFAULT 'pending',                -- pending, queued, running, completed, failed, retrying

    -- Classification & Understanding
    classification_confidence REAL DEFAULT 0.0,   -- How confident we are in classification
    required_clarity_level REAL DEFAULT 0.5,      -- How much clarity needed for this job
    achieved_clarity_level REAL DEFAULT 0.0,      -- How much clarity actually achieved

    -- Execution Details
    prompt_template_used TEXT,                     -- Which prompt template was used
    prompt_variables TEXT,                        -- JSON of variables applied to template
    backend_used TEXT,                             -- Which backend executed this job
    model_used TEXT,                              -- Which model executed this job
    backend_confidence REAL DEFAULT 0.0,          -- How confident we were in backend selection
    model_confidence REAL DEFAULT 0.0,            -- How confident model was in result

    -- Results & Quality
    result_summary TEXT,                          -- Human-readable summary
    full_result TEXT,                             -- Complete model output
    result_quality_score REAL DEFAULT 0.0,         -- System assessment of result quality
    user_feedback INTEGER,                        -- 1-5 user rating if provided
    met_success_criteria TEXT,                    -- JSON of which criteria were met

    -- Performance Metrics
    execution_time_seconds REAL DEFAULT 0.0,
    queue_time_seconds REAL DEFAULT 0.0,
    processing_time_seconds REAL DEFAULT 0.0,
    cost_cents INTEGER DEFAULT 0,

    -- Retry & Error Handling
    retry_count INTEGER DEFAULT 0,
    max_retries INTEGER DEFAULT 999999,
    retry_reasons TEXT,                           -- JSON of why retries were needed
    error_message TEXT,
    recovery_strategy TEXT,                       -- What we did to fix errors

    -- Dependencies & Scheduling
    dependencies TEXT,                            -- JSON of job dependencies
    priority INTEGER DEFAULT 5,
    scheduled_date DATETIME DEFAULT CURRENT_TIMESTAMP,
    started_date DATETIME,
    completed_date DATETIME,

    -- Learning Data
    optimization_applied TEXT,                     -- JSON of optimizations used
    pattern_effectiveness REAL DEFAULT 0.0,       -- How well applied patterns worked
    learned_from_job TEXT,                        -- Key insights from this job

    FOREIGN KEY (thread_id) REFERENCES idea_threads (id),
    FOREIGN KEY (parent_job_id) REFERENCES jobs (id)
  )`,
  `CREATE TABLE conversations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    thread_id INTEGER NOT NULL,
    job_id INTEGER,                               -- Optional: if conversation is job-specific
    conversation_phase TEXT,                      -- initial, refinement, clarification, completion

    -- Question & Response Data
    question_asked TEXT NOT NULL,                 -- The question asked
    question_type TEXT NOT NULL,                  -- intent, constraint, success, context, scope
    question_template_id INTEGER,                 -- Links to question template
    question_confidence REAL DEFAULT 0.0,         -- How confident we were this was the right question

    user_response TEXT,                           -- User's response
    response_type TEXT,                           -- direct_answer, clarification, preference, correction

    -- Effectiveness Analysis
    clarity_improvement REAL DEFAULT 0.0,         -- How much this improved understanding
    conversation_efficiency REAL DEFAULT 0.0,     -- How efficiently this moved conversation forward
    user_satisfaction INTEGER,                    -- 1-5 rating if provided

    -- Timing & Context
    asked_date DATETIME DEFAULT CURRENT_TIMESTAMP,
    responded_date DATETIME,
    response_time_seconds REAL DEFAULT 0.0,
    conversation_position INTEGER,                 -- Where this was in conversation sequence

    -- Learning Data
    pattern_matched TEXT,                         -- Which historical pattern this matched
    prediction_accuracy REAL DEFAULT 0.0,         -- How well we predicted user's needs
    optimization_suggested TEXT,                  -- What optimizations this enabled

    FOREIGN KEY (thread_id) REFERENCES idea_threads (id),
    FOREIGN KEY (job_id) REFERENCES jobs (id)
  )`,
  `CREATE TABLE question_templates (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    template_name TEXT NOT NULL,
    question_category TEXT NOT NULL,               -- intent, constraint, success, context, scope
    question_template TEXT NOT NULL,               -- Template with placeholders
    trigger_patterns TEXT,                        -- JSON of when to use this template

    -- Effectiveness Metrics
    usage_count INTEGER DEFAULT 0,
    success_rate REAL DEFAULT 0.0,                 -- How often this leads to better outcomes
    clarity_improvement_avg REAL DEFAULT 0.0,     -- Average clarity improvement
    user_satisfaction_avg REAL DEFAULT 0.0,       -- Average user satisfaction
    time_saved_avg REAL DEFAULT 0.0,              -- Average time saved by asking this

    -- Context Matching
    applicable_input_types TEXT,                   -- JSON of input types this applies to
    required_confidence_threshold REAL DEFAULT 0.5,
    optimal_timing TEXT,                           -- beginning, middle, end of conversation

    -- Personalization Data
    user_preferences TEXT,                         -- JSON of how to adapt for different users
    style_variations TEXT,                         -- JSON of alternative phrasings

    -- System Management
    is_active BOOLEAN DEFAULT TRUE,
    created_date DATETIME DEFAULT CURRENT_TIMESTAMP,
    last_used DATETIME,
    last_updated DATETIME DEFAULT CURRENT_TIMESTAMP,
    effectiveness_trend TEXT                       -- improving, stable, declining
  )`,
  `CREATE TABLE learned_patterns (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    pattern_name TEXT NOT NULL,
    pattern_category TEXT NOT NULL,                -- conversation, execution, optimization, user_behavior
    pattern_description TEXT,

    -- Pattern Recognition
    trigger_conditions TEXT NOT NULL,              -- JSON of when this pattern applies
    confidence_level REAL DEFAULT 0.0,             -- How confident we are in this pattern
    validation_count INTEGER DEFAULT 0,            -- How many times we've seen this
    success_count INTEGER DEFAULT 0,               -- How many times it led to success

    -- Impact & Effectiveness
    impact_description TEXT,                       -- What this pattern enables
    time_saved_estimate REAL DEFAULT 0.0,          -- Average time saved
    quality_improvement_estimate REAL DEFAULT 0.0, -- Average quality improvement
    user_satisfaction_improvement REAL DEFAULT 0.0,

    -- Application Data
    recommended_actions TEXT,                       -- JSON of what to do when pattern matches
    question_template_ids TEXT,                    -- JSON of related question templates
    optimization_strategies TEXT,                  -- JSON of optimizations to apply

    -- Evolution Tracking
    created_date DATETIME DEFAULT CURRENT_TIMESTAMP,
    last_applied DATETIME,
    last_validated DATETIME,
    pattern_evolution TEXT,                        -- How pattern has changed over time

    -- Relationships
    parent_pattern_id INTEGER,                     -- For hierarchical patterns
    related_pattern_ids TEXT,                      -- JSON of related patterns
    supersedes_pattern_id INTEGER,                 -- If this replaces an older pattern

    FOREIGN KEY (parent_pattern_id) REFERENCES learned_patterns (id),
    FOREIGN KEY (supersedes_pattern_id) REFERENCES learned_patterns (id)
  )`,
  `CREATE TABLE user_preferences (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    preference_category TEXT NOT NULL,             -- communication, depth, style, constraints
    preference_key TEXT NOT NULL,                  -- Specific preference
    preference_value TEXT NOT NULL,                -- The actual preference

    -- Preference Strength & Stability
    confidence_score REAL DEFAULT 0.5,            -- How confident we are in this preference
    stability_score REAL DEFAULT 0.5,              -- How stable this preference is over time
    usage_count INTEGER DEFAULT 0,                 -- How often this preference has been applied

    -- Context & Applicability
    applicable_contexts TEXT,                      -- JSON of when this preference applies
    expiration_date DATETIME,                      -- If this preference should expire

    -- Learning Data
    learned_from_interaction_id INTEGER,            -- Which interaction taught us this
    validation_count INTEGER DEFAULT 0,            -- How many times this has been confirmed
    correction_count INTEGER DEFAULT 0,            -- How many times we've had to correct this

    -- Metadata
    created_date DATETIME DEFAULT CURRENT_TIMESTAMP,
    last_applied DATETIME,
    last_updated DATETIME DEFAULT CURRENT_TIMESTAMP,
    source TEXT                                    -- explicit_user_feedback, observed_pattern, inference
  )`,
  `CREATE TABLE system_config (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    config_key TEXT UNIQUE NOT NULL,
    config_value TEXT NOT NULL,
    config_type TEXT NOT NULL,                     -- constraint, preference, system_setting, budget
    config_category TEXT,                          -- hermes, talos, communication, learning

    -- Configuration Management
    description TEXT,
    is_user_editable BOOLEAN DEFAULT FALSE,
    requires_restart BOOLEAN DEFAULT FALSE,
    validation_regex TEXT,                         -- For validating input values

    -- Change Tracking
    created_date DATETIME DEFAULT CURRENT_TIMESTAMP,
    last_updated DATETIME DEFAULT CURRENT_TIMESTAMP,
    updated_by TEXT,                               -- user, system, deployment

    -- Dependencies & Impact
    depends_on TEXT,                               -- JSON of other config this depends on
    impacts TEXT,                                  -- JSON of what this config affects

    default_value TEXT,                            -- For reset functionality
    min_value TEXT,                                -- For numeric/config ranges
    max_value TEXT                                 -- For numeric/config ranges
  )`,
  `CREATE TABLE backends (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT UNIQUE NOT NULL,
    backend_type TEXT NOT NULL,                  -- local, remote_api, server_model, custom
    enabled BOOLEAN DEFAULT TRUE,
    is_primary BOOLEAN DEFAULT FALSE,

    -- Configuration
    config TEXT NOT NULL,                        -- JSON of backend-specific config
    capabilities TEXT,                           -- JSON of backend capabilities

    -- Performance Metadata
    quality_score REAL DEFAULT 0.0,             -- 0-1 quality rating
    speed_score REAL DEFAULT 0.0,               -- 0-1 speed rating
    cost_score REAL DEFAULT 0.0,                -- 0-1 cost efficiency (1=free)
    reliability_score REAL DEFAULT 0.0,          -- 0-1 reliability rating

    -- Health & Status
    health_status TEXT DEFAULT 'unknown',        -- healthy, degraded, unhealthy, unknown
    last_health_check DATETIME,
    consecutive_failures INTEGER DEFAULT 0,

    -- Usage Statistics
    total_jobs INTEGER DEFAULT 0,
    successful_jobs INTEGER DEFAULT 0,
    failed_jobs INTEGER DEFAULT 0,
    total_cost_cents INTEGER DEFAULT 0,
    average_response_time REAL DEFAULT 0.0,

    -- Metadata
    created_date DATETIME DEFAULT CURRENT_TIMESTAMP,
    last_used DATETIME,
    last_updated DATETIME DEFAULT CURRENT_TIMESTAMP,

    -- Relationships
    preferred_for_job_types TEXT,                -- JSON of ideal job types
    fallback_backends TEXT                       -- JSON of fallback options
  )`,
  `CREATE TABLE backend_performance (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    backend_id INTEGER NOT NULL,
    job_id INTEGER,

    -- Performance Metrics
    response_time_ms REAL,
    quality_score REAL,                          -- User or system-rated quality
    cost_cents INTEGER,
    token_count INTEGER,

    -- Job Context
    job_type TEXT,
    job_complexity INTEGER,
    model_used TEXT,

    -- Outcome
    success BOOLEAN,
    error_message TEXT,
    user_satisfaction INTEGER,                   -- 1-5 rating

    -- Timestamps
    executed_date DATETIME DEFAULT CURRENT_TIMESTAMP,

    FOREIGN KEY (backend_id) REFERENCES backends (id),
    FOREIGN KEY (job_id) REFERENCES jobs (id)
  )`,
  `CREATE TABLE backend_selection_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id INTEGER NOT NULL,

    -- Selection Process
    selection_criteria TEXT,                     -- cost_first, quality_first, etc.
    available_backends TEXT,                     -- JSON of backends considered
    selection_reasoning TEXT,                    -- Why this backend was chosen

    -- Selected Backend
    selected_backend_id INTEGER,
    confidence_score REAL,                       -- How confident we were in selection

    -- Alternative Options
    rejected_backends TEXT,                      -- JSON of backends considered but rejected
    rejection_reasons TEXT,                      -- Why others were rejected

    -- Outcome
    selection_successful BOOLEAN,                -- Did this selection work well?
    fallback_used BOOLEAN,                       -- Did we need to fallback?
    final_backend_id INTEGER,                    -- If fallback was used

    executed_date DATETIME DEFAULT CURRENT_TIMESTAMP,

    FOREIGN KEY (job_id) REFERENCES jobs (id),
    FOREIGN KEY (selected_backend_id) REFERENCES backends (id),
    FOREIGN KEY (final_backend_id) REFERENCES backends (id)
  )`,
  `CREATE TABLE system_health (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    component TEXT NOT NULL,                       -- hermes, talos, backend_name, database
    health_status TEXT NOT NULL,                   -- healthy, degraded, unhealthy, unknown
    response_time_ms REAL DEFAULT 0.0,
    error_rate REAL DEFAULT 0.0,

    -- Health Metrics
    cpu_usage_percent REAL DEFAULT 0.0,
    memory_usage_percent REAL DEFAULT 0.0,
    disk_usage_percent REAL DEFAULT 0.0,
    network_latency_ms REAL DEFAULT 0.0,

    -- Issue Tracking
    active_issues TEXT,                            -- JSON of current problems
    recent_errors TEXT,                            -- JSON of recent error messages
    recovery_actions TEXT,                         -- JSON of what we did to fix issues

    -- Timestamps
    measured_date DATETIME DEFAULT CURRENT_TIMESTAMP,
    last_healthy_date DATETIME,
    last_issue_date DATETIME
  )`,
];

const INDEXES: readonly string[] = [
  "CREATE INDEX idx_jobs_status_priority_scheduled ON jobs (status, priority, scheduled_date)",
  "CREATE INDEX idx_jobs_thread_id ON jobs (thread_id)",
  "CREATE INDEX idx_jobs_parent_job_id ON jobs (parent_job_id)",
  "CREATE INDEX idx_conversations_thread_id ON conversations (thread_id)",
  "CREATE INDEX idx_backend_performance_backend_job_type ON backend_performance (backend_id, job_type)",
  "CREATE INDEX idx_backend_selection_history_job_id ON backend_selection_history (job_id)",
  "CREATE INDEX idx_system_health_component_measured ON system_health (component, measured_date)",
  "CREATE INDEX idx_question_templates_category ON question_templates (question_category)",
  "CREATE INDEX idx_learned_patterns_category ON learned_patterns (pattern_category)",
];

/** Dropped children first, so foreign keys never point at a missing table. */
const DROP_ORDER: readonly string[] = [
  "system_health",
  "backend_selection_history",
  "backend_performance",
  "backends",
  "system_config",
  "user_preferences",
  "learned_patterns",
  "question_templates",
  "conversations",
  "jobs",
  "idea_threads",
];

// biome-ignore lint/suspicious/noExplicitAny: migrations run against whatever schema exists at that point
export async function up(db: Kysely<any>): Promise<void> {
  for (const statement of [...TABLES, ...INDEXES]) {
    await sql.raw(statement).execute(db);
  }
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  for (const table of DROP_ORDER) {
    await sql.raw(`DROP TABLE IF EXISTS ${table}`).execute(db);
  }
}
