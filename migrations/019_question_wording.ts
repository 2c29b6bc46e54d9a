import type { Kysely } from "kysely";

/**
 * 019 — a question that read badly with most topics: "How big should the answer on this weekly
 * newsletter about local food be?". The template keeps its name and statistics (the learner keys
 * on them); only the wording changes.
 */
export const REWORDED: Record<string, { old: string; now: string }> = {
  scope_size: {
    old: "How big should the answer on {{topic}} be?",
    now: "How long or detailed should {{topic}} be?",
  },
};

// biome-ignore lint/suspicious/noExplicitAny: migrations run against whatever schema exists at that point
async function set(db: Kysely<any>, which: "old" | "now"): Promise<void> {
  for (const [name, text] of Object.entries(REWORDED))
    await db
      .updateTable("question_templates")
      .set({ question_template: text[which] })
      .where("template_name", "=", name)
      .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see set()
export const up = (db: Kysely<any>) => set(db, "now");
// biome-ignore lint/suspicious/noExplicitAny: see set()
export const down = (db: Kysely<any>) => set(db, "old");
