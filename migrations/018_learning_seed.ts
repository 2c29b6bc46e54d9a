import { seedOnly } from "./seed-rows.ts";

/**
 * 018 — hermes.learning.random_seed: the learners' randomness comes from configuration, so a
 * benchmark run (or a reported behaviour) can be repeated exactly; 0 keeps a new seed per start.
 */
export const { up, down } = seedOnly("018");
