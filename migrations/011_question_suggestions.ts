import type { Kysely } from "kysely";

/**
 * 011 — suggestions that fit their question for any idea: "What problem should this birthday
 * present solve for you?" offered [Convince someone] [Learn something new] [Save money] [Save time].
 */
export const FITTING_SUGGESTIONS: Record<string, { old: readonly string[]; now: readonly string[] }> = {
  intent_problem: {
    old: ["Save time", "Save money", "Learn something new", "Convince someone"],
    now: ["Something practical", "Something that brings joy", "Save time or money", "Not sure yet"],
  },
};

// biome-ignore lint/suspicious/noExplicitAny: migrations run against whatever schema exists at that point
async function set(db: Kysely<any>, which: "old" | "now"): Promise<void> {
  for (const [name, s] of Object.entries(FITTING_SUGGESTIONS)) {
    const row = await db
      .selectFrom("question_templates")
      .select("style_variations")
      .where("template_name", "=", name)
      .executeTakeFirst();
    if (!row) continue;
    const style = JSON.parse(String(row.style_variations ?? "{}")) as Record<string, unknown>;
    await db
      .updateTable("question_templates")
      .set({ style_variations: JSON.stringify({ ...style, suggestions: s[which] }) })
      .where("template_name", "=", name)
      .execute();
  }
}

// biome-ignore lint/suspicious/noExplicitAny: see set()
export const up = (db: Kysely<any>) => set(db, "now");
// biome-ignore lint/suspicious/noExplicitAny: see set()
export const down = (db: Kysely<any>) => set(db, "old");
