/** A sliding-window limit per key (per user): at most `limit` events in any `windowMs`. */
export class RateLimiter {
  private readonly hits = new Map<string, number[]>();
  private readonly limit: () => number;
  private readonly windowMs: number;
  private readonly now: () => number;

  constructor(limit: () => number, windowMs: number, now: () => number) {
    this.limit = limit;
    this.windowMs = windowMs;
    this.now = now;
  }

  /** Records a hit and returns 0, or returns the seconds to wait when over the limit (nothing recorded). */
  take(key: string): number {
    const now = this.now();
    const recent = (this.hits.get(key) ?? []).filter((t) => t > now - this.windowMs);
    if (recent.length >= this.limit()) {
      this.hits.set(key, recent);
      const oldest = recent[0] ?? now;
      return Math.max(1, Math.ceil((oldest + this.windowMs - now) / 1000));
    }
    recent.push(now);
    this.hits.set(key, recent);
    // Keep the map from growing without bound with one-off keys.
    if (this.hits.size > 10_000) {
      for (const [k, v] of this.hits) if ((v.at(-1) ?? 0) <= now - this.windowMs) this.hits.delete(k);
    }
    return 0;
  }
}
