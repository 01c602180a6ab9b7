// Token buckets per source address: each source may spend `ratePerSecond` tokens on average,
// with bursts up to `burst`. The one rate limiter of the node layer and its apps, used three ways:
// datagrams on the status port (one token each, taken before any decoding), transactions posted
// to the explorer (one token each) and signature checks in the transaction intake (charged after
// the work, so a source may go into debt and then waits until it is paid off).
//
// Memory is a fixed-size table. A newcomer to a full table takes the place of a source heard from
// long ago whose bucket has filled up again (forgetting it loses nothing); failing that, it takes
// over the oldest bucket as it stands. Cycling through forged addresses therefore never mints
// tokens: whatever the number of addresses, they share at most the table's buckets.
export interface RateLimit {
  readonly ratePerSecond: number;
  readonly burst: number;
}

/** Sources remembered at most, by default. */
export const DEFAULT_MAX_SOURCES = 4096;
/** Oldest buckets looked at for a full one when a newcomer needs a place (bounds the cost of a newcomer). */
const EVICTION_SCAN = 32;

interface Bucket {
  tokens: number;
  atMs: number;
}

export class SourceRateLimiter {
  /** In the order last heard from, least recently first (a Map keeps insertion order). */
  private readonly buckets = new Map<string, Bucket>();
  dropped = 0;

  constructor(
    readonly limit: RateLimit,
    private readonly nowMs: () => number = Date.now,
    readonly maxSources = DEFAULT_MAX_SOURCES,
  ) {
    if (!(limit.ratePerSecond > 0 && limit.burst >= 1))
      throw new RangeError('a rate limit needs a positive rate and a burst of at least 1');
    if (!(maxSources >= 1)) throw new RangeError('maxSources must be at least 1');
  }

  /** Takes one token from the source's bucket; false (and counted) when it has none left. */
  allow(source: string): boolean {
    const b = this.touch(source);
    if (b.tokens < 1) {
      this.dropped++;
      return false;
    }
    b.tokens -= 1;
    return true;
  }

  /** Whether the source may start costly work now: its bucket is not empty or in debt. */
  hasCredit(source: string): boolean {
    return this.tokensOf(source) > 0;
  }

  /** Charges work already done (it may take the bucket into debt, paid off at ratePerSecond). */
  spend(source: string, tokens: number): void {
    if (tokens > 0) this.touch(source).tokens -= tokens;
  }

  /** Milliseconds until the source has credit again (0 when it has some now). */
  msUntilCredit(source: string): number {
    const t = this.tokensOf(source);
    return t > 0 ? 0 : Math.ceil(((1e-6 - t) / this.limit.ratePerSecond) * 1000);
  }

  get sources(): number {
    return this.buckets.size;
  }

  /** The source's tokens now, without remembering it. */
  private tokensOf(source: string): number {
    const b = this.buckets.get(source);
    return b ? this.refilled(b, this.nowMs()) : this.limit.burst;
  }

  private refilled(b: Bucket, now: number): number {
    return Math.min(this.limit.burst, b.tokens + ((now - b.atMs) / 1000) * this.limit.ratePerSecond);
  }

  /** The source's bucket, refilled to now and moved to the back (most recently heard). */
  private touch(source: string): Bucket {
    const now = this.nowMs();
    let b = this.buckets.get(source);
    if (b) this.buckets.delete(source);
    else b = this.place(now);
    b.tokens = this.refilled(b, now);
    b.atMs = now;
    this.buckets.set(source, b);
    return b;
  }

  /** A bucket for a newcomer: a fresh one while there is room or a forgotten source was full again, else the oldest one's. */
  private place(now: number): Bucket {
    if (this.buckets.size < this.maxSources) return { tokens: this.limit.burst, atMs: now };
    let scanned = 0;
    let oldest: [string, Bucket] | undefined;
    for (const entry of this.buckets) {
      oldest ??= entry;
      if (this.refilled(entry[1], now) >= this.limit.burst) {
        this.buckets.delete(entry[0]);
        return { tokens: this.limit.burst, atMs: now };
      }
      if (++scanned >= EVICTION_SCAN) break;
    }
    this.buckets.delete(oldest![0]);
    return oldest![1];
  }
}
