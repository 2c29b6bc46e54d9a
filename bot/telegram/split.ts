/** Telegram's hard limit on a text message, in UTF-16 code units. */
export const TELEGRAM_TEXT_LIMIT = 4096;

/**
 * Splits text into parts under the limit, preferring paragraph boundaries, then lines, then
 * sentences/words, and only as a last resort a hard cut. Nothing is lost or reordered.
 */
export function splitMessage(text: string, limit = TELEGRAM_TEXT_LIMIT): string[] {
  if (text.length <= limit) return [text];
  const parts: string[] = [];
  let rest = text;
  while (rest.length > limit) {
    const window = rest.slice(0, limit);
    const cut =
      lastBreak(window, /\n\s*\n/g, limit) ??
      lastBreak(window, /\n/g, limit) ??
      lastBreak(window, /[.!?]\s/g, limit) ??
      lastBreak(window, /\s/g, limit) ??
      safeHardCut(window);
    parts.push(rest.slice(0, cut).trimEnd());
    rest = rest.slice(cut).replace(/^\s+/, "");
  }
  if (rest.length > 0) parts.push(rest);
  return parts.filter((p) => p.length > 0);
}

/** End index of the last match that keeps at least a quarter of the window (avoids tiny parts). */
function lastBreak(window: string, re: RegExp, limit: number): number | undefined {
  let best: number | undefined;
  for (const m of window.matchAll(re)) {
    const end = (m.index ?? 0) + m[0].length;
    if (end >= limit / 4 && end <= window.length) best = end;
  }
  return best;
}

/** Never split a surrogate pair (an emoji) in half. */
function safeHardCut(window: string): number {
  const last = window.charCodeAt(window.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? window.length - 1 : window.length;
}
