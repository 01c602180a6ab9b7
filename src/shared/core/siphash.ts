// SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF", 2012): the keyed hash
// BIP152 uses for compact blocks' short transaction ids (Core: CSipHasher, SipHashUint256 in
// crypto/siphash.cpp). @noble/hashes has no SipHash, so it is written here, over pairs of 32-bit
// halves (no BigInt in the rounds: a short id is computed for every mempool transaction each time
// a compact block arrives). Checked against the paper's 64 reference vectors (test/vectors/siphash).

/** A 64-bit word as two unsigned 32-bit halves. */
interface Word {
  lo: number;
  hi: number;
}

const word = (lo: number, hi: number): Word => ({ lo: lo >>> 0, hi: hi >>> 0 });

/** The key as Core's CSipHasher(k0, k1) takes it: two 64-bit words. */
export interface SipKey {
  readonly k0: bigint;
  readonly k1: bigint;
}

function fromBig(n: bigint): Word {
  return word(Number(n & 0xffffffffn), Number((n >> 32n) & 0xffffffffn));
}

/** The SipHash state, v0..v3 as eight 32-bit halves, and its compression round. */
class SipState {
  private readonly v = new Uint32Array(8); // v0lo v0hi v1lo v1hi v2lo v2hi v3lo v3hi

  constructor(k0: Word, k1: Word) {
    // "somepseudorandomlygeneratedbytes", the paper's initialisation constants.
    this.set(0, k0.lo ^ 0x70736575, k0.hi ^ 0x736f6d65);
    this.set(1, k1.lo ^ 0x6e646f6d, k1.hi ^ 0x646f7261);
    this.set(2, k0.lo ^ 0x6e657261, k0.hi ^ 0x6c796765);
    this.set(3, k1.lo ^ 0x79746573, k1.hi ^ 0x74656462);
  }

  private set(i: number, lo: number, hi: number): void {
    this.v[2 * i] = lo;
    this.v[2 * i + 1] = hi;
  }

  /** v[a] += v[b] (mod 2^64). */
  private add(a: number, b: number): void {
    const v = this.v;
    const lo = (v[2 * a]! + v[2 * b]!) >>> 0;
    const carry = lo < v[2 * a]! ? 1 : 0;
    v[2 * a + 1] = (v[2 * a + 1]! + v[2 * b + 1]! + carry) >>> 0;
    v[2 * a] = lo;
  }

  /** v[i] = rotl(v[i], n), 0 < n <= 32. */
  private rotl(i: number, n: number): void {
    const v = this.v;
    const lo = v[2 * i]!;
    const hi = v[2 * i + 1]!;
    if (n === 32) {
      v[2 * i] = hi;
      v[2 * i + 1] = lo;
      return;
    }
    v[2 * i + 1] = ((hi << n) | (lo >>> (32 - n))) >>> 0;
    v[2 * i] = ((lo << n) | (hi >>> (32 - n))) >>> 0;
  }

  /** v[a] ^= v[b]. */
  private xor(a: number, b: number): void {
    this.v[2 * a]! ^= this.v[2 * b]!;
    this.v[2 * a + 1]! ^= this.v[2 * b + 1]!;
  }

  /** SipRound (the paper, section 2). */
  round(): void {
    this.add(0, 1);
    this.rotl(1, 13);
    this.xor(1, 0);
    this.rotl(0, 32);
    this.add(2, 3);
    this.rotl(3, 16);
    this.xor(3, 2);
    this.add(0, 3);
    this.rotl(3, 21);
    this.xor(3, 0);
    this.add(2, 1);
    this.rotl(1, 17);
    this.xor(1, 2);
    this.rotl(2, 32);
  }

  /** One message word m: v3 ^= m, c = 2 rounds, v0 ^= m. */
  compress(lo: number, hi: number): void {
    this.v[6]! ^= lo;
    this.v[7]! ^= hi;
    this.round();
    this.round();
    this.v[0]! ^= lo;
    this.v[1]! ^= hi;
  }

  /** v2 ^= 0xff, d = 4 rounds, v0 ^ v1 ^ v2 ^ v3. */
  finish(): Word {
    this.v[4]! ^= 0xff;
    for (let i = 0; i < 4; i++) this.round();
    const v = this.v;
    return word(v[0]! ^ v[2]! ^ v[4]! ^ v[6]!, v[1]! ^ v[3]! ^ v[5]! ^ v[7]!);
  }
}

/** Little-endian 32-bit word of data at offset i (bytes past the end read as 0). */
function le32(data: Uint8Array, i: number, end: number): number {
  let n = 0;
  for (let k = 3; k >= 0; k--) n = (n << 8) | (i + k < end ? data[i + k]! : 0);
  return n >>> 0;
}

function sipWords(k0: Word, k1: Word, data: Uint8Array): Word {
  const s = new SipState(k0, k1);
  const full = data.length - (data.length % 8);
  for (let i = 0; i < full; i += 8) s.compress(le32(data, i, full), le32(data, i + 4, full));
  // The last word: the remaining bytes, then the message length (mod 256) in the top byte.
  const lo = le32(data, full, data.length);
  const hi = (le32(data, full + 4, data.length) | ((data.length & 0xff) << 24)) >>> 0;
  s.compress(lo, hi);
  return s.finish();
}

/** SipHash-2-4 of data under a 16-byte key (the paper's k, read as two little-endian words). */
export function siphash24(key: Uint8Array, data: Uint8Array): bigint {
  if (key.length !== 16) throw new RangeError('SipHash key must be 16 bytes');
  const r = sipWords(word(le32(key, 0, 16), le32(key, 4, 16)), word(le32(key, 8, 16), le32(key, 12, 16)), data);
  return (BigInt(r.hi) << 32n) | BigInt(r.lo);
}

/**
 * The low 48 bits of SipHash-2-4(k0, k1) over data, as a number: BIP152's short id is
 * SipHash-2-4(k0, k1, txid) with the two most significant bytes dropped.
 */
export function siphash24Low48(key: SipKey, data: Uint8Array): number {
  const r = sipWords(fromBig(key.k0), fromBig(key.k1), data);
  return (r.hi & 0xffff) * 0x1_0000_0000 + r.lo;
}
