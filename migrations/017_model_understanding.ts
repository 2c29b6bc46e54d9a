import { seedOnly } from "./seed-rows.ts";

/**
 * 017 — model-assisted understanding of ideas (src/engine/understanding/): the deadline of the
 * analysis call and whether it may leave the owner's machines, as system_config rows from the key
 * registry (src/config/keys.ts, `since: "017"`).
 */
export const { up, down } = seedOnly("017");
