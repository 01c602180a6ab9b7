// Work waiting its turn, one first-in first-out line per source, served in turn (round robin): a
// source that sends a thousand waits behind everyone else's one. Capped in total, not per source:
// when full, the longest line loses its newest item (the newcomer itself when its own line is the
// longest), so a flood takes only its own share of the room, however many items it sends, and a
// quiet source always finds a place. A line exists only while it holds something, so the number
// of sources remembered is bounded by the cap too.
export class FairQueue<T> {
  /** Lines in serving order: the next one served is the first in the Map. */
  private readonly lines = new Map<string, T[]>();
  private count = 0;

  constructor(readonly capacity: number) {
    if (!(capacity >= 1)) throw new RangeError('capacity must be at least 1');
  }

  get size(): number {
    return this.count;
  }

  /** Sources with something waiting. */
  sources(): IterableIterator<string> {
    return this.lines.keys();
  }

  /** Queues an item; returns what was dropped to make room (the newcomer itself, or the newest of the longest line), if anything. */
  push(source: string, item: T): T | undefined {
    let dropped: T | undefined;
    if (this.count >= this.capacity) {
      const own = this.lines.get(source)?.length ?? 0;
      const longest = this.longestLine();
      if (!longest || longest[1].length <= own + 1) return item;
      dropped = longest[1].pop();
      this.count--;
      if (longest[1].length === 0) this.lines.delete(longest[0]);
    }
    const line = this.lines.get(source);
    if (line) line.push(item);
    else this.lines.set(source, [item]);
    this.count++;
    return dropped;
  }

  /**
   * The oldest item of the first source in turn that `may` lets go now; that source goes to the
   * back of the turn. Sources `may` holds back keep their place.
   */
  shift(may: (source: string) => boolean = () => true): { source: string; item: T } | undefined {
    for (const [source, line] of this.lines) {
      if (!may(source)) continue;
      const item = line.shift()!;
      this.count--;
      this.lines.delete(source);
      if (line.length) this.lines.set(source, line); // to the back of the turn
      return { source, item };
    }
    return undefined;
  }

  /** Empties the queue; returns everything that was waiting. */
  clear(): T[] {
    const out = [...this.lines.values()].flat();
    this.lines.clear();
    this.count = 0;
    return out;
  }

  private longestLine(): [string, T[]] | undefined {
    let best: [string, T[]] | undefined;
    for (const entry of this.lines) if (!best || entry[1].length > best[1].length) best = entry;
    return best;
  }
}
