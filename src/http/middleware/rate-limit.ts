/**
 * A token bucket per client: `perMinute` requests may burst at once, then they refill evenly over
 * the minute. Buckets of idle clients are forgotten so the map stays small.
 */
export class ClientRateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly now: () => number;
  private readonly maxClients: number;

  constructor(now: () => number, maxClients = 10_000) {
    this.now = now;
    this.maxClients = maxClients;
  }

  /** Takes one request from the client's bucket; returns 0 when allowed, else seconds to wait. */
  take(client: string, perMinute: number): number {
    const now = this.now();
    const rate = perMinute / 60_000;
    const bucket = this.buckets.get(client) ?? { tokens: perMinute, at: now };
    bucket.tokens = Math.min(perMinute, bucket.tokens + (now - bucket.at) * rate);
    bucket.at = now;
    this.buckets.delete(client);
    this.buckets.set(client, bucket);
    if (this.buckets.size > this.maxClients) {
      const oldest = this.buckets.keys().next().value;
      if (oldest !== undefined) this.buckets.delete(oldest);
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / rate / 1000));
  }
}
