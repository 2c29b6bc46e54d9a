import type { Kysely } from "kysely";
import { sql } from "kysely";

/**
 * 005 — the question templates Hermes starts with, and the owner of a preference.
 *
 * question_templates (one row per template):
 * - question_category: the clarity slot it asks about — intent, constraints, success, context, scope
 *   (the slot names of src/learning/quick-analysis.ts; the spec's comment says "constraint").
 * - question_template: the question, with `{{topic}}` filled by a short noun phrase taken from the
 *   idea's own words (src/learning/topic.ts).
 * - style_variations (JSON): `{"suggestions": [2–4 suggested answers, shown as buttons],
 *   "expected_seconds": prior guess of how long people take to answer}`.
 * - trigger_patterns (JSON): `{"keywords": [...]}` — words in an idea that make this template a
 *   good fit (a small bonus in the prior); empty means "any idea".
 * - applicable_input_types (JSON): the idea types it is asked for.
 * - optimal_timing: beginning, middle or end of the conversation (a hint; the learner decides).
 * The statistics columns (usage_count, success_rate, …) start at their defaults and are kept
 * current by src/store/learning/templates-repo.ts.
 *
 * user_preferences gets a `user_id` column (the Telegram user id, 'cli' or 'api'): the spec's table
 * has no owner, and preferences are per person.
 */

type IdeaType = "research" | "creation" | "analysis" | "decision" | "mixed";
const ALL: readonly IdeaType[] = ["research", "creation", "analysis", "decision", "mixed"];

interface SeedTemplate {
  name: string;
  category: "intent" | "constraints" | "success" | "context" | "scope";
  text: string;
  suggestions: readonly string[];
  types: readonly IdeaType[];
  keywords?: readonly string[];
  timing: "beginning" | "middle" | "end";
  expectedSeconds: number;
}

export const SEED_TEMPLATES: readonly SeedTemplate[] = [
  // intent
  {
    name: "intent_outcome",
    category: "intent",
    text: "What do you most want to get out of {{topic}}?",
    suggestions: [
      "A clear plan I can follow",
      "A finished piece I can use",
      "A quick overview",
      "A recommendation",
    ],
    types: ALL,
    timing: "beginning",
    expectedSeconds: 9,
  },
  {
    name: "intent_problem",
    category: "intent",
    text: "What problem should {{topic}} solve for you?",
    suggestions: ["Save time", "Save money", "Learn something new", "Convince someone"],
    types: ALL,
    timing: "beginning",
    expectedSeconds: 10,
  },
  {
    name: "intent_why_now",
    category: "intent",
    text: "Why {{topic}}, and why now?",
    suggestions: ["Something is due soon", "I'm exploring options", "Someone asked me for it"],
    types: ALL,
    timing: "beginning",
    expectedSeconds: 11,
  },
  {
    name: "intent_decision_options",
    category: "intent",
    text: "Which options are you weighing for {{topic}}?",
    suggestions: ["Two clear options", "Several options", "Yes or no", "Not sure yet"],
    types: ["decision", "mixed"],
    keywords: ["or", "vs", "versus", "between", "choose", "decide", "should"],
    timing: "beginning",
    expectedSeconds: 9,
  },
  // constraints
  {
    name: "constraints_budget_deadline",
    category: "constraints",
    text: "Is there a budget or a deadline for {{topic}}?",
    suggestions: ["Tight budget", "Firm deadline", "Both", "Neither"],
    types: ALL,
    keywords: ["buy", "cost", "price", "launch", "event", "trip"],
    timing: "beginning",
    expectedSeconds: 7,
  },
  {
    name: "constraints_must_avoid",
    category: "constraints",
    text: "Anything {{topic}} must include or avoid?",
    suggestions: ["Keep it simple", "Nothing paid", "Must use what I already have"],
    types: ALL,
    timing: "middle",
    expectedSeconds: 9,
  },
  {
    name: "constraints_resources",
    category: "constraints",
    text: "How much time can you put into {{topic}}?",
    suggestions: ["An hour or two", "A weekend", "A few weeks", "As long as it takes"],
    types: ["creation", "research", "analysis", "mixed"],
    timing: "middle",
    expectedSeconds: 6,
  },
  // success
  {
    name: "success_done_when",
    category: "success",
    text: "How will you know {{topic}} worked?",
    suggestions: [
      "I can act on it today",
      "Someone else approves it",
      "It saves me time",
      "I understand it well",
    ],
    types: ALL,
    timing: "middle",
    expectedSeconds: 10,
  },
  {
    name: "success_excellent",
    category: "success",
    text: "What would an excellent result for {{topic}} look like?",
    suggestions: ["Short and actionable", "Thorough and detailed", "Creative and surprising"],
    types: ALL,
    timing: "middle",
    expectedSeconds: 9,
  },
  {
    name: "success_measure",
    category: "success",
    text: "Is there a number or a test that says {{topic}} is done?",
    suggestions: ["A target number", "A checklist", "A clear decision", "Gut feeling"],
    types: ["analysis", "decision", "research", "mixed"],
    timing: "end",
    expectedSeconds: 8,
  },
  // context
  {
    name: "context_who_for",
    category: "context",
    text: "Who is {{topic}} for?",
    suggestions: ["Just me", "My team", "A client", "The public"],
    types: ALL,
    keywords: ["write", "post", "email", "letter", "talk", "presentation"],
    timing: "beginning",
    expectedSeconds: 5,
  },
  {
    name: "context_background",
    category: "context",
    text: "How familiar are you with {{topic}} already?",
    suggestions: ["I'm a beginner", "I know the basics", "I'm an expert"],
    types: ALL,
    timing: "beginning",
    expectedSeconds: 6,
  },
  {
    name: "context_where_used",
    category: "context",
    text: "Where will {{topic}} be used?",
    suggestions: ["At work", "At home", "At school", "Online"],
    types: ["creation", "analysis", "mixed"],
    timing: "middle",
    expectedSeconds: 6,
  },
  // scope
  {
    name: "scope_size",
    category: "scope",
    text: "How big should the answer on {{topic}} be?",
    suggestions: ["One page", "A short list", "A full plan", "A deep dive"],
    types: ALL,
    timing: "end",
    expectedSeconds: 5,
  },
  {
    name: "scope_focus",
    category: "scope",
    text: "Which part of {{topic}} matters most?",
    suggestions: ["The first step", "The big picture", "The details", "The risks"],
    types: ALL,
    timing: "middle",
    expectedSeconds: 7,
  },
  {
    name: "scope_exclude",
    category: "scope",
    text: "Anything to leave out of {{topic}}?",
    suggestions: ["Leave out theory", "Leave out costs", "Nothing"],
    types: ["research", "analysis", "creation", "mixed"],
    timing: "end",
    expectedSeconds: 7,
  },
];

// biome-ignore lint/suspicious/noExplicitAny: migrations run against whatever schema exists at that point
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE user_preferences ADD COLUMN user_id TEXT`.execute(db);
  await sql`CREATE INDEX idx_user_preferences_user ON user_preferences (user_id, preference_category, preference_key)`.execute(
    db,
  );
  await sql`CREATE INDEX idx_conversations_template ON conversations (question_template_id)`.execute(db);
  for (const t of SEED_TEMPLATES) {
    await db
      .insertInto("question_templates")
      .values({
        template_name: t.name,
        question_category: t.category,
        question_template: t.text,
        trigger_patterns: JSON.stringify({ keywords: t.keywords ?? [] }),
        applicable_input_types: JSON.stringify(t.types),
        required_confidence_threshold: 0.5,
        optimal_timing: t.timing,
        style_variations: JSON.stringify({ suggestions: t.suggestions, expected_seconds: t.expectedSeconds }),
        is_active: 1,
        effectiveness_trend: "stable",
      })
      .execute();
  }
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db
    .deleteFrom("question_templates")
    .where(
      "template_name",
      "in",
      SEED_TEMPLATES.map((t) => t.name),
    )
    .execute();
  await sql`DROP INDEX IF EXISTS idx_conversations_template`.execute(db);
  await sql`DROP INDEX IF EXISTS idx_user_preferences_user`.execute(db);
  await sql`ALTER TABLE user_preferences DROP COLUMN user_id`.execute(db);
}
