// A map that remembers the most recent keys set in it: Core's CRollingBloomFilter (used for
// m_recent_rejects), but exact and with a value per key: two generations of at most capacity/2
// keys each; when the newer one fills, the older is forgotten. No false positives, memory bounded
// by capacity. The mempool keeps one, of refused txids with their reason and tip (pool.ts).
export class RollingFilter<V = true> {
  private current = new Map<string, V>();
  private previous = new Map<string, V>();

  constructor(readonly capacity: number) {
    if (!(capacity >= 2)) throw new RangeError('capacity must be at least 2');
  }

  set(key: string, value: V): void {
    if (this.current.size >= this.capacity / 2 && !this.current.has(key)) {
      this.previous = this.current;
      this.current = new Map();
    }
    this.current.set(key, value);
  }

  get(key: string): V | undefined {
    return this.current.get(key) ?? this.previous.get(key);
  }

  has(key: string): boolean {
    return this.current.has(key) || this.previous.has(key);
  }

  /** Forgets everything. */
  reset(): void {
    this.current.clear();
    this.previous.clear();
  }

  get size(): number {
    return this.current.size + this.previous.size;
  }
}
