// Hand-tuned double SHA-256 for mining (FIPS 180-4). A header is 80 bytes, two 64-byte SHA-256
// blocks, and only the nonce (bytes 76..79) changes between attempts. So per job we compute once
// the state after the first block (the "midstate") and the first 3 rounds of the second block
// (they read only words 0..2: the merkle root's tail, time and bits); per nonce, the generated
// scanNonces runs the remaining 61 rounds and the second hash with the padding inlined as
// constants, stopping after the 61st round, which already fixes the digest's last word: the most
// significant 32 bits of the hash as Bitcoin compares it. No memory is allocated per nonce.
import { compress, scanNonces } from './sha256d-rounds.js';

const K0_2 = [0x428a2f98, 0x71374491, 0xb5c0fbcf];
const IV = new Int32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);

function readBE(b: Uint8Array, o: number): number {
  return (b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!;
}

function bswap(x: number): number {
  return ((x >>> 24) | ((x >>> 8) & 0xff00) | ((x & 0xff00) << 8) | (x << 24)) >>> 0;
}

/** Working variables a..h after the first 3 rounds of a compression from state s over words w0..w2. */
function threeRounds(s: Int32Array, w: readonly number[]): Int32Array {
  let [a, b, c, d, e, f, g, h] = Array.from(s) as [number, number, number, number, number, number, number, number];
  for (let i = 0; i < 3; i++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (h + S1 + ((e & f) ^ (~e & g)) + K0_2[i]! + w[i]!) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    [h, g, f, e, d, c, b, a] = [g, f, e, (d + t1) | 0, c, b, a, (t1 + t2) | 0];
  }
  return Int32Array.of(a, b, c, d, e, f, g, h);
}

/** Which scan loop a hasher runs: the WebAssembly SIMD kernel (4 nonces at once) or plain JS. */
export type HashKernel = 'wasm-simd' | 'js';

/** Scans the nonces of one 80-byte header (its nonce field is ignored). One instance per job. */
export interface HeaderHasher {
  readonly kernel: HashKernel;
  scan(from: number, to: number): number;
  hash(nonce: number): Uint8Array;
}

/** The JavaScript scan: runs everywhere, and is the reference the SIMD kernel is tested against. */
export class JsHeaderHasher implements HeaderHasher {
  readonly kernel: HashKernel = 'js';
  /** SHA-256 state after the header's first 64 bytes. */
  protected readonly mid = new Int32Array(8);
  private readonly pre = new Int32Array(11);
  /** Target as 8 words, most significant first. */
  protected readonly target = new Uint32Array(8);
  /** Words 0..2 of the second block (the end of the merkle root, time, bits). */
  protected readonly tail: number[];

  /** header: at least the first 76 bytes; target: the 256-bit target. */
  constructor(header: Uint8Array, target: bigint) {
    const w = new Int32Array(16);
    for (let i = 0; i < 16; i++) w[i] = readBE(header, i * 4);
    this.mid.set(IV);
    compress(this.mid, w);
    this.tail = [readBE(header, 64), readBE(header, 68), readBE(header, 72)];
    this.pre.set(threeRounds(this.mid, this.tail), 0);
    this.pre.set(this.tail, 8);
    for (let i = 0; i < 8; i++) this.target[i] = Number((target >> BigInt(224 - 32 * i)) & 0xffffffffn);
  }

  scan(from: number, to: number): number {
    const top = this.target[0]!;
    for (let n = from; n < to;) {
      const found = scanNonces(this.mid, this.pre, n, to, top);
      if (found < 0) return -1;
      if (this.meets(this.hash(found))) return found;
      n = found + 1;
    }
    return -1;
  }

  /** Whether a digest (internal byte order) is <= the target, compared as Core does. */
  protected meets(hash: Uint8Array): boolean {
    // Compare as Core does: the digest read as a little-endian 256-bit number.
    for (let i = 0; i < 8; i++) {
      const o = 28 - 4 * i;
      const h = (hash[o]! | (hash[o + 1]! << 8) | (hash[o + 2]! << 16) | (hash[o + 3]! << 24)) >>> 0;
      const t = this.target[i]!;
      if (h !== t) return h < t;
    }
    return true;
  }

  hash(nonce: number): Uint8Array {
    const w = new Int32Array(16);
    w[0] = this.tail[0]!;
    w[1] = this.tail[1]!;
    w[2] = this.tail[2]!;
    w[3] = bswap(nonce) | 0;
    w[4] = 0x80000000 | 0;
    w[15] = 640;
    const s1 = Int32Array.from(this.mid);
    compress(s1, w);
    const w2 = new Int32Array(16);
    w2.set(s1);
    w2[8] = 0x80000000 | 0;
    w2[15] = 256;
    const s2 = Int32Array.from(IV);
    compress(s2, w2);
    const out = new Uint8Array(32);
    for (let i = 0; i < 8; i++) {
      const v = s2[i]!;
      out[i * 4] = v >>> 24;
      out[i * 4 + 1] = v >>> 16;
      out[i * 4 + 2] = v >>> 8;
      out[i * 4 + 3] = v;
    }
    return out;
  }
}
