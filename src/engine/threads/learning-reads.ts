import { z } from "zod";
import { parseJsonColumn } from "../../store/json-column.ts";
import type { PatternFilter, PatternRow } from "../../store/learning/listing-repo.ts";
import type { ThreadRecord } from "../../store/threads/repo.ts";
import type { ThreadContext } from "./records.ts";

/** What the learning tables hold, for the transports: learned patterns and question templates. */

/** Learned patterns, most confident first, with the filters applied. */
export function learnedPatterns(d: ThreadContext, filter: PatternFilter = {}): Promise<PatternRow[]> {
  return d.listing.patterns(filter);
}

/** Patterns whose trigger conditions mention the thread's idea type, at or above a confidence. */
export async function applicablePatterns(
  d: ThreadContext,
  thread: ThreadRecord,
  minConfidence: number,
): Promise<PatternRow[]> {
  const all = await d.listing.patterns({ minConfidence, limit: 500 });
  const type = thread.idea_type ?? "mixed";
  return all.filter((p) => {
    const at = { table: "learned_patterns", column: "trigger_conditions", rowId: p.id };
    const cond = parseJsonColumn(z.unknown(), p.trigger_conditions, at);
    return JSON.stringify(cond).includes(`"${type}"`);
  });
}
