import { seedOnly } from "./seed-rows.ts";

/**
 * 015 — voice notes and files in Telegram: the transcription endpoint, model and key, and how much
 * of an attached text document goes into an idea. The rows come from the key registry
 * (src/config/keys.ts, `since: "015"`).
 */
export const { up, down } = seedOnly("015");
