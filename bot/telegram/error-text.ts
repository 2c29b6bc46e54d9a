import type { ErrorCode } from "../../src/errors.ts";
import { isHermesError, isStorageFull, toHermesError } from "../../src/errors.ts";

/** The one place that turns an error code into a sentence for a Telegram user. */
const SENTENCES: Record<ErrorCode, string> = {
  INVALID_INPUT: "That didn't work: the input isn't valid.",
  UNAUTHORIZED: "You are not signed in for that.",
  FORBIDDEN: "Sorry, you aren't allowed to do that.",
  NOT_FOUND: "I couldn't find that.",
  RATE_LIMITED: "Slow down a little — too many requests at once.",
  QUEUE_FULL: "My queue is full right now, so I couldn't take this one.",
  BUDGET_EXCEEDED: "That would go over the spending budget, so I didn't run it.",
  BACKEND_UNAVAILABLE: "No model backend is reachable right now.",
  TALOS_UNAVAILABLE: "Talos (the model machine) isn't answering right now.",
  BACKEND_ERROR: "The model backend returned an error.",
  TIMEOUT: "The model took too long to answer.",
  CANCELLED: "Cancelled.",
  STORAGE_FULL: "I couldn't save that.",
  INTERNAL: "Something went wrong inside Hermes.",
};

export function errorText(thrown: unknown): string {
  // A full disk is not a bug: the user is told what happened and that what they sent before is kept.
  const error = isStorageFull(thrown) ? toHermesError(thrown) : thrown;
  if (!isHermesError(error)) return `${SENTENCES.INTERNAL} It has been logged.`;
  const lines = [SENTENCES[error.code]];
  if (error.code !== "INTERNAL" && error.message && error.message !== SENTENCES[error.code])
    lines.push(error.message);
  if (error.userAction) lines.push(error.userAction);
  return lines.join("\n");
}

export function errorCodeText(code: string, message: string, userAction?: string): string {
  const head = (SENTENCES as Record<string, string>)[code] ?? SENTENCES.INTERNAL;
  return [head, message, userAction].filter((s) => s !== undefined && s !== "").join("\n");
}
