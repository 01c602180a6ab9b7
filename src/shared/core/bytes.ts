// Byte helpers and the one writer/reader pair that every wire, disk and hashing format uses.
// Bitcoin serializes integers little-endian and prefixes lists with a CompactSize
// (https://en.bitcoin.it/wiki/Protocol_documentation#Variable_length_integer).

/** Thrown by every decoder for input that is not a valid encoding. Never anything else. */
export class DecodeError extends Error {
  override readonly name = 'DecodeError';
  constructor(message: string) {
    super(message);
  }
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Character codes of '0'..'9', 'a'..'f'. */
const HEX_CODES = Array.from('0123456789abcdef', (c) => c.charCodeAt(0));

export function toHex(b: Uint8Array): string {
  // Hashes (the chain's map keys) build one flat string from char codes: no intermediate strings.
  if (b.length <= 64) {
    const codes: number[] = new Array<number>(b.length * 2);
    for (let i = 0; i < b.length; i++) {
      codes[2 * i] = HEX_CODES[b[i]! >> 4]!;
      codes[2 * i + 1] = HEX_CODES[b[i]! & 15]!;
    }
    return String.fromCharCode(...codes);
  }
  let s = '';
  for (let i = 0; i < b.length; i++) s += HEX[b[i]!];
  return s;
}

export function fromHex(s: string): Uint8Array {
  if (s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s)) throw new DecodeError('invalid hex');
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.substr(i * 2, 2), 16);
  return out;
}

/** A copy with the bytes in reverse order (internal <-> display order of hashes). */
export function reverse(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(b.length);
  for (let i = 0; i < b.length; i++) out[i] = b[b.length - 1 - i]!;
  return out;
}

/** Display form of a hash: the digest bytes reversed, as explorers and Core's RPC print them. */
export function hashToHex(h: Uint8Array): string {
  return toHex(reverse(h));
}

export function hexToHash(s: string): Uint8Array {
  const b = fromHex(s);
  if (b.length !== 32) throw new DecodeError('hash must be 32 bytes');
  return reverse(b);
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Interprets 32 bytes as a little-endian 256-bit integer (how Core compares a hash to a target). */
export function bytesToBigIntLE(b: Uint8Array): bigint {
  let n = 0n;
  for (let i = b.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(b[i]!);
  return n;
}

export function bigIntToBytesLE(n: bigint, len: number): Uint8Array {
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++) {
    out[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return out;
}

/** Size in bytes of the CompactSize encoding of n. */
export function compactSizeLength(n: number): number {
  return n < 0xfd ? 1 : n <= 0xffff ? 3 : n <= 0xffffffff ? 5 : 9;
}

/** Growable little-endian writer. */
export class Writer {
  private buf: Uint8Array;
  private view: DataView;
  private pos = 0;

  constructor(initial = 256) {
    this.buf = new Uint8Array(initial);
    this.view = new DataView(this.buf.buffer);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(n: number): this {
    this.ensure(1);
    this.buf[this.pos++] = n & 0xff;
    return this;
  }
  u16(n: number): this {
    this.ensure(2);
    this.view.setUint16(this.pos, n, true);
    this.pos += 2;
    return this;
  }
  u32(n: number): this {
    this.ensure(4);
    this.view.setUint32(this.pos, n >>> 0, true);
    this.pos += 4;
    return this;
  }
  i32(n: number): this {
    this.ensure(4);
    this.view.setInt32(this.pos, n | 0, true);
    this.pos += 4;
    return this;
  }
  u64(n: bigint): this {
    this.ensure(8);
    this.view.setBigUint64(this.pos, BigInt.asUintN(64, n), true);
    this.pos += 8;
    return this;
  }
  i64(n: bigint): this {
    this.ensure(8);
    this.view.setBigInt64(this.pos, BigInt.asIntN(64, n), true);
    this.pos += 8;
    return this;
  }
  bytes(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }
  compactSize(n: number): this {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError('compact size out of range');
    if (n < 0xfd) return this.u8(n);
    if (n <= 0xffff) return this.u8(0xfd).u16(n);
    if (n <= 0xffffffff) return this.u8(0xfe).u32(n);
    return this.u8(0xff).u64(BigInt(n));
  }
  /** CompactSize length prefix followed by the bytes. */
  varBytes(b: Uint8Array): this {
    return this.compactSize(b.length).bytes(b);
  }
  get length(): number {
    return this.pos;
  }
  /** The written bytes (a copy, so the writer can be reused or dropped). */
  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

/**
 * Reader for hostile input: every read checks the remaining length first and throws DecodeError,
 * counts are checked against what the remaining bytes could possibly hold before anything is
 * allocated, and CompactSize must be canonical (Core: "non-canonical ReadCompactSize()").
 */
export class Reader {
  private pos = 0;
  private readonly view: DataView;

  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  get offset(): number {
    return this.pos;
  }
  get remaining(): number {
    return this.buf.length - this.pos;
  }

  private need(n: number, what: string): void {
    if (this.buf.length - this.pos < n) throw new DecodeError(`unexpected end of data reading ${what}`);
  }

  u8(what = 'u8'): number {
    this.need(1, what);
    return this.buf[this.pos++]!;
  }
  u16(what = 'u16'): number {
    this.need(2, what);
    const v = this.view.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }
  u32(what = 'u32'): number {
    this.need(4, what);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }
  i32(what = 'i32'): number {
    this.need(4, what);
    const v = this.view.getInt32(this.pos, true);
    this.pos += 4;
    return v;
  }
  u64(what = 'u64'): bigint {
    this.need(8, what);
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    return v;
  }
  i64(what = 'i64'): bigint {
    this.need(8, what);
    const v = this.view.getBigInt64(this.pos, true);
    this.pos += 8;
    return v;
  }
  /** A view into the input (no copy); callers that keep it beyond the input's life should copy. */
  bytes(n: number, what = 'bytes'): Uint8Array {
    this.need(n, what);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }
  compactSize(what = 'compact size'): number {
    const first = this.u8(what);
    if (first < 0xfd) return first;
    if (first === 0xfd) {
      const v = this.u16(what);
      if (v < 0xfd) throw new DecodeError(`non-canonical compact size in ${what}`);
      return v;
    }
    if (first === 0xfe) {
      const v = this.u32(what);
      if (v <= 0xffff) throw new DecodeError(`non-canonical compact size in ${what}`);
      return v;
    }
    const v = this.u64(what);
    if (v <= 0xffffffffn) throw new DecodeError(`non-canonical compact size in ${what}`);
    // Nothing we decode can hold 2^32 items; Core caps at MAX_SIZE (0x02000000) as well.
    throw new DecodeError(`compact size too large in ${what}`);
  }
  /**
   * A count of items each at least minItemBytes long: rejected before allocating if the rest of
   * the input could not hold that many.
   */
  count(minItemBytes: number, what: string): number {
    const n = this.compactSize(what);
    if (n * minItemBytes > this.remaining) throw new DecodeError(`${what} count ${n} exceeds remaining data`);
    return n;
  }
  varBytes(what = 'bytes'): Uint8Array {
    const n = this.compactSize(what);
    return this.bytes(n, what);
  }
  /** Decoders call this last: trailing bytes make an encoding invalid. */
  end(what: string): void {
    if (this.pos !== this.buf.length) throw new DecodeError(`${this.buf.length - this.pos} trailing bytes after ${what}`);
  }
}
