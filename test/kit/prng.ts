// A seeded generator for tests (the same seed gives the same draws on every run, so a failing run
// can be repeated): sfc32 (Chris Doty-Humphrey's Small Fast Counting generator, PractRand), whose
// 32-bit outputs pass the usual statistical batteries. Integers come from its outputs scaled to
// the range, never from the low bits of a product (a linear congruential step in doubles loses
// its low bits past 2^53, which once made every draw of rand(2) in the chaos test 0).

/** sfc32: the next 32-bit unsigned output each call. */
export function sfc32(seed: number): () => number {
  let a = 0x9e3779b9;
  let b = 0x243f6a88;
  let c = 0xb7e15162;
  let d = seed >>> 0;
  const next = (): number => {
    a >>>= 0;
    b >>>= 0;
    c >>>= 0;
    d >>>= 0;
    let t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    t = (t + d) | 0;
    c = (c + t) | 0;
    return t >>> 0;
  };
  for (let i = 0; i < 16; i++) next(); // mix the seed in, as the reference implementation does
  return next;
}

/** Typed draws over sfc32. */
export class SeededGen {
  protected readonly next: () => number;
  constructor(readonly seed: number) {
    this.next = sfc32(seed);
  }
  u32(): number {
    return this.next();
  }
  i32(): number {
    return this.next() | 0;
  }
  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor((this.next() / 2 ** 32) * (hi - lo + 1));
  }
  /** Integer in [0, n). */
  below(n: number): number {
    return this.int(0, n - 1);
  }
  /** A number in [0, 1), 32 bits of it. */
  float(): number {
    return this.next() / 2 ** 32;
  }
  chance(p: number): boolean {
    return this.next() / 2 ** 32 < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.below(xs.length)]!;
  }
  /** The items in a random order (Fisher-Yates). */
  shuffled<T>(xs: readonly T[]): T[] {
    const out = [...xs];
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }
  bytes(n: number): Uint8Array {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = this.next() & 0xff;
    return b;
  }
}
