// SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF", 2012): the keyed hash
// BIP152 uses for compact blocks' short transaction ids (Core: CSipHasher, SipHashUint256 in
// crypto/siphash.cpp). @noble/hashes has no SipHash, so it is written here, over pairs of 32-bit
// halves held in local variables (no BigInt in the rounds: a short id is computed for every
// mempool transaction each time a compact block arrives). Checked against the paper's 64
// reference vectors (test/vectors/siphash).

/** The key as Core's CSipHasher(k0, k1) takes it: two 64-bit words, and their 32-bit halves. */
export interface SipKey {
  readonly k0: bigint;
  readonly k1: bigint;
  /** k0 low, k0 high, k1 low, k1 high. */
  readonly words: readonly [number, number, number, number];
}

export function sipKey(k0: bigint, k1: bigint): SipKey {
  const half = (n: bigint, shift: bigint) => Number((n >> shift) & 0xffffffffn);
  return { k0, k1, words: [half(k0, 0n), half(k0, 32n), half(k1, 0n), half(k1, 32n)] };
}

/** Little-endian 32-bit word of data at offset i (bytes at or past end read as 0). */
function le32(data: Uint8Array, i: number, end: number): number {
  if (i + 4 <= end) return (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24)) >>> 0;
  let n = 0;
  for (let k = 3; k >= 0; k--) n = (n << 8) | (i + k < end ? data[i + k]! : 0);
  return n >>> 0;
}

/**
 * SipHash-2-4 as 32-bit halves [lo, hi]. Each message word m: v3 ^= m, two SipRounds, v0 ^= m;
 * the last word holds the remaining bytes and the length mod 256 in its top byte; then v2 ^= 0xff
 * and four SipRounds (the paper, section 2). Every value is kept unsigned (>>> 0) so that the
 * carry of an addition is `sum < addend`.
 */
function sipWords(k: SipKey['words'], data: Uint8Array): [number, number] {
  // "somepseudorandomlygeneratedbytes", the paper's initialisation constants, xored with the key.
  // prettier-ignore
  let v0l = (k[0] ^ 0x70736575) >>> 0, v0h = (k[1] ^ 0x736f6d65) >>> 0, v1l = (k[2] ^ 0x6e646f6d) >>> 0, v1h = (k[3] ^ 0x646f7261) >>> 0;
  // prettier-ignore
  let v2l = (k[0] ^ 0x6e657261) >>> 0, v2h = (k[1] ^ 0x6c796765) >>> 0, v3l = (k[2] ^ 0x79746573) >>> 0, v3h = (k[3] ^ 0x74656462) >>> 0;
  const len = data.length;
  const words = (len - (len % 8)) / 8 + 1; // the full words, then the last
  let lo = 0;
  let t = 0;
  let ml = 0;
  let mh = 0;
  for (let w = 0; w <= words; w++) {
    let rounds = 4;
    if (w < words) {
      ml = le32(data, 8 * w, len);
      mh = le32(data, 8 * w + 4, len);
      if (w === words - 1) mh = (mh | ((len & 0xff) << 24)) >>> 0;
      v3l = (v3l ^ ml) >>> 0;
      v3h = (v3h ^ mh) >>> 0;
      rounds = 2;
    } else v2l = (v2l ^ 0xff) >>> 0;
    // SipRound, one line per step of the paper's figure: v0 += v1, v1 <<<= 13, v1 ^= v0, v0 <<<= 32,
    // v2 += v3, v3 <<<= 16, v3 ^= v2, v0 += v3, v3 <<<= 21, v3 ^= v0, v2 += v1, v1 <<<= 17,
    // v1 ^= v2, v2 <<<= 32 (each 64-bit word as its low and high halves).
    // prettier-ignore
    for (let r = 0; r < rounds; r++) {
      lo = (v0l + v1l) >>> 0; v0h = (v0h + v1h + (lo < v0l ? 1 : 0)) >>> 0; v0l = lo;
      t = v1h; v1h = ((v1h << 13) | (v1l >>> 19)) >>> 0; v1l = ((v1l << 13) | (t >>> 19)) >>> 0;
      v1l = (v1l ^ v0l) >>> 0; v1h = (v1h ^ v0h) >>> 0;
      t = v0l; v0l = v0h; v0h = t;
      lo = (v2l + v3l) >>> 0; v2h = (v2h + v3h + (lo < v2l ? 1 : 0)) >>> 0; v2l = lo;
      t = v3h; v3h = ((v3h << 16) | (v3l >>> 16)) >>> 0; v3l = ((v3l << 16) | (t >>> 16)) >>> 0;
      v3l = (v3l ^ v2l) >>> 0; v3h = (v3h ^ v2h) >>> 0;
      lo = (v0l + v3l) >>> 0; v0h = (v0h + v3h + (lo < v0l ? 1 : 0)) >>> 0; v0l = lo;
      t = v3h; v3h = ((v3h << 21) | (v3l >>> 11)) >>> 0; v3l = ((v3l << 21) | (t >>> 11)) >>> 0;
      v3l = (v3l ^ v0l) >>> 0; v3h = (v3h ^ v0h) >>> 0;
      lo = (v2l + v1l) >>> 0; v2h = (v2h + v1h + (lo < v2l ? 1 : 0)) >>> 0; v2l = lo;
      t = v1h; v1h = ((v1h << 17) | (v1l >>> 15)) >>> 0; v1l = ((v1l << 17) | (t >>> 15)) >>> 0;
      v1l = (v1l ^ v2l) >>> 0; v1h = (v1h ^ v2h) >>> 0;
      t = v2l; v2l = v2h; v2h = t;
    }
    if (w < words) {
      v0l = (v0l ^ ml) >>> 0;
      v0h = (v0h ^ mh) >>> 0;
    }
  }
  return [(v0l ^ v1l ^ v2l ^ v3l) >>> 0, (v0h ^ v1h ^ v2h ^ v3h) >>> 0];
}

const le64 = (b: Uint8Array, i: number): bigint => (BigInt(le32(b, i + 4, b.length)) << 32n) | BigInt(le32(b, i, b.length));

/** SipHash-2-4 of data under a 16-byte key (the paper's k, read as two little-endian words). */
export function siphash24(key: Uint8Array, data: Uint8Array): bigint {
  if (key.length !== 16) throw new RangeError('SipHash key must be 16 bytes');
  const [lo, hi] = sipWords(sipKey(le64(key, 0), le64(key, 8)).words, data);
  return (BigInt(hi) << 32n) | BigInt(lo);
}

/**
 * The low 48 bits of SipHash-2-4(k0, k1) over data, as a number: BIP152's short id is
 * SipHash-2-4(k0, k1, txid) with the two most significant bytes dropped.
 */
export function siphash24Low48(key: SipKey, data: Uint8Array): number {
  const [lo, hi] = sipWords(key.words, data);
  return (hi & 0xffff) * 0x1_0000_0000 + lo;
}
