// Token buckets per source address: each source may send `ratePerSecond` on average with bursts
// up to `burst`; what it sends beyond is dropped before any decoding or hashing. The table is
// bounded: when a flood of (forged) sources fills it, the source heard from longest ago goes,
// and comes back later with a full bucket, which costs an attacker one datagram per source.
export interface RateLimit {
  readonly ratePerSecond: number;
  readonly burst: number;
}

/** Sources remembered at most. */
const MAX_SOURCES = 4096;

export class SourceRateLimiter {
  private readonly buckets = new Map<string, { tokens: number; atMs: number }>();
  dropped = 0;

  constructor(
    readonly limit: RateLimit,
    private readonly nowMs: () => number = Date.now,
  ) {}

  /** Takes one token from the source's bucket; false (and counted) when it has none left. */
  allow(source: string): boolean {
    const now = this.nowMs();
    let b = this.buckets.get(source);
    if (b) {
      this.buckets.delete(source); // re-inserted below: the Map's order is least recently heard first
      b.tokens = Math.min(this.limit.burst, b.tokens + ((now - b.atMs) / 1000) * this.limit.ratePerSecond);
      b.atMs = now;
    } else {
      if (this.buckets.size >= MAX_SOURCES) this.buckets.delete(this.buckets.keys().next().value!);
      b = { tokens: this.limit.burst, atMs: now };
    }
    this.buckets.set(source, b);
    if (b.tokens < 1) {
      this.dropped++;
      return false;
    }
    b.tokens -= 1;
    return true;
  }

  get sources(): number {
    return this.buckets.size;
  }
}
