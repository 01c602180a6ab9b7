// A set that remembers the most recent keys added to it: Core's CRollingBloomFilter (used for
// m_recent_rejects), but exact: two generations of at most capacity/2 keys each; when the newer
// one fills, the older is forgotten. No false positives, memory bounded by capacity.
export class RollingFilter {
  private current = new Set<string>();
  private previous = new Set<string>();

  constructor(readonly capacity: number) {
    if (!(capacity >= 2)) throw new RangeError('capacity must be at least 2');
  }

  add(key: string): void {
    if (this.current.size >= this.capacity / 2) {
      this.previous = this.current;
      this.current = new Set();
    }
    this.current.add(key);
  }

  has(key: string): boolean {
    return this.current.has(key) || this.previous.has(key);
  }

  /** Forgets everything (Core resets m_recent_rejects when the tip changes). */
  reset(): void {
    this.current.clear();
    this.previous.clear();
  }

  get size(): number {
    return this.current.size + this.previous.size;
  }
}
