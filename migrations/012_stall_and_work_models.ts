import { seedOnly } from "./seed-rows.ts";

/**
 * 012 — settings of two resilience rules (issue 16):
 * - hermes.execution.stall_first_token_seconds / stall_between_tokens_seconds: a backend whose
 *   stream sends nothing for that long has stalled (TIMEOUT: failed over, counted against it);
 * - backend.<name>.work_models for the built-in backends: the model each runs for a kind of work
 *   (a job carries its kind of work, and a model only when the user pinned one).
 * The rows come from the key registry (src/config/keys.ts, `since: "012"`).
 */
export const { up, down } = seedOnly("012");
