// Answer frames the block server sent lately, bounded in bytes and least recently used first
// out: BLOCK frames by block hash (a block never changes under its hash) and HEADERS frames by
// fork point, count and tip (the same question while the tip stands has the same answer). Each
// is made once (serialisation plus checksum: milliseconds for a full block or 2 000 headers)
// however many connections ask, and connections that have not yet taken their copy share one
// buffer instead of one each.

export class FrameCache {
  private readonly frames = new Map<string, Uint8Array>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  get(key: string): Uint8Array | undefined {
    const f = this.frames.get(key);
    if (f) {
      // Map order is insertion order: taking it out and back in makes it the most recent.
      this.frames.delete(key);
      this.frames.set(key, f);
    }
    return f;
  }

  set(key: string, frame: Uint8Array): void {
    if (frame.length > this.maxBytes / 4 || this.frames.has(key)) return;
    this.frames.set(key, frame);
    this.bytes += frame.length;
    for (const [k, f] of this.frames) {
      if (this.bytes <= this.maxBytes) break;
      this.frames.delete(k);
      this.bytes -= f.length;
    }
  }

  get size(): number {
    return this.bytes;
  }
}
