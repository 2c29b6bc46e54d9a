import type { PatternFilter, PatternRow } from "../../store/learning/listing-repo.ts";
import type { ThreadContext } from "./records.ts";

/** What the learning tables hold, for the transports: learned patterns, most confident first, filtered. */
export function learnedPatterns(d: ThreadContext, filter: PatternFilter = {}): Promise<PatternRow[]> {
  return d.listing.patterns(filter);
}
