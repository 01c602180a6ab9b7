// The 80-byte block header: version, previous block hash, Merkle root, time, nBits, nonce.
// https://developer.bitcoin.org/reference/block_chain.html#block-headers
import { Reader, Writer, bytesToBigIntLE } from './bytes.js';
import { sha256d } from './hash.js';

export const HEADER_BYTES = 80;

export interface Header {
  readonly version: number;
  /** Internal byte order. */
  readonly prevHash: Uint8Array;
  /** Internal byte order. */
  readonly merkleRoot: Uint8Array;
  /** Seconds since the Unix epoch (uint32). */
  readonly time: number;
  /** Compact target ("nBits"). */
  readonly bits: number;
  readonly nonce: number;
}

export function writeHeader(w: Writer, h: Header): Writer {
  return w.i32(h.version).bytes(h.prevHash).bytes(h.merkleRoot).u32(h.time).u32(h.bits).u32(h.nonce);
}

export function encodeHeader(h: Header): Uint8Array {
  return writeHeader(new Writer(HEADER_BYTES), h).finish();
}

export function readHeader(r: Reader): Header {
  const version = r.i32('header version');
  const prevHash = r.bytes(32, 'header prevHash').slice();
  const merkleRoot = r.bytes(32, 'header merkleRoot').slice();
  const time = r.u32('header time');
  const bits = r.u32('header bits');
  const nonce = r.u32('header nonce');
  return { version, prevHash, merkleRoot, time, bits, nonce };
}

/** Decodes exactly 80 bytes. */
export function decodeHeader(bytes: Uint8Array): Header {
  const r = new Reader(bytes);
  const h = readHeader(r);
  r.end('header');
  return h;
}

/** Block hash: HASH256 of the 80-byte header, internal byte order. */
export function headerHash(h: Header): Uint8Array {
  return sha256d(encodeHeader(h));
}

/** The hash read as a little-endian number, the way Core compares it with the target. */
export function hashToNumber(hash: Uint8Array): bigint {
  return bytesToBigIntLE(hash);
}
