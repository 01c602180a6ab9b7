// BIP152's cmpctblock message (https://github.com/bitcoin/bips/blob/master/bip-0152.mediawiki),
// version 1: short ids over txids (mvb has no segwit, so txid = wtxid). Byte for byte:
//   header (80) | nonce (uint64 LE) | shortids_length (CompactSize) | shortids (6 bytes LE each)
//   | prefilledtxn_length (CompactSize) | prefilledtxn: index (CompactSize, differentially
//   encoded) then the transaction.
// A short id is SipHash-2-4 keyed by the first two little-endian uint64 of
// SHA256(header || nonce), over the txid, with the two most significant bytes dropped
// (Core: CBlockHeaderAndShortTxIDs::FillShortTxIDSelector, GetShortID in blockencodings.cpp).
// Decoding is for hostile input: counts bounded by the bytes left and by the caller's maxTxs.
import { DecodeError, Reader, Writer } from './bytes.js';
import { sha256 } from './hash.js';
import { type Header, HEADER_BYTES, readHeader, writeHeader } from './header.js';
import type { Block } from './block.js';
import { type SipKey, sipKey, siphash24Low48 } from './siphash.js';
import { type Tx, readTx, txSize, txid, writeTx } from './tx.js';

export const SHORT_ID_BYTES = 6;
/** Differential indexes must stay within 16 bits (Core: "indexes overflowed 16 bits"). */
export const MAX_COMPACT_INDEX = 0xffff;
/** The smallest transaction encoding (block.ts MIN_TX_BYTES): bounds a block's transaction count. */
const MIN_TX_BYTES = 51;

export interface PrefilledTx {
  /** The transaction's position in the block (absolute, decoded from the differential form). */
  readonly index: number;
  readonly tx: Tx;
}

export interface CompactBlock {
  readonly header: Header;
  readonly nonce: bigint;
  /** 48-bit short ids, in block order of the transactions not prefilled. */
  readonly shortIds: readonly number[];
  readonly prefilled: readonly PrefilledTx[];
}

/** At most this many transactions fit a block of maxBlockBytes (Core bounds by weight likewise). */
export function maxBlockTxs(maxBlockBytes: number): number {
  return Math.floor(maxBlockBytes / MIN_TX_BYTES);
}

/** The SipHash key of a compact block: SHA256(header || nonce LE), its first two LE uint64. */
export function shortIdKey(header: Header, nonce: bigint): SipKey {
  const w = new Writer(HEADER_BYTES + 8);
  writeHeader(w, header).u64(nonce);
  const d = sha256(w.finish());
  const v = new DataView(d.buffer, d.byteOffset, d.byteLength);
  return sipKey(v.getBigUint64(0, true), v.getBigUint64(8, true));
}

/** A transaction's short id: the low 6 bytes of SipHash-2-4 over its txid. */
export function shortId(key: SipKey, id: Uint8Array): number {
  return siphash24Low48(key, id);
}

/** The compact form of a block: the transactions at `prefill` (the coinbase at least) sent whole. */
export function compactFromBlock(block: Block, nonce: bigint, prefill: readonly number[] = [0]): CompactBlock {
  const want = new Set([0, ...prefill].filter((i) => i < block.txs.length));
  const key = shortIdKey(block.header, nonce);
  const shortIds: number[] = [];
  const prefilled: PrefilledTx[] = [];
  block.txs.forEach((tx, index) => {
    if (want.has(index)) prefilled.push({ index, tx });
    else shortIds.push(shortId(key, txid(tx)));
  });
  return { header: block.header, nonce, shortIds, prefilled };
}

export function compactBlockSize(cb: CompactBlock): number {
  let n = HEADER_BYTES + 8 + 9 + SHORT_ID_BYTES * cb.shortIds.length + 9;
  for (const p of cb.prefilled) n += 3 + txSize(p.tx);
  return n;
}

export function encodeCompactBlock(cb: CompactBlock): Uint8Array {
  const w = new Writer(compactBlockSize(cb));
  writeHeader(w, cb.header).u64(cb.nonce).compactSize(cb.shortIds.length);
  for (const id of cb.shortIds) w.u32(id % 0x1_0000_0000).u16(Math.floor(id / 0x1_0000_0000));
  w.compactSize(cb.prefilled.length);
  let last = -1;
  for (const p of cb.prefilled) {
    if (p.index <= last) throw new RangeError('prefilled indexes must increase');
    w.compactSize(p.index - last - 1); // differential: the gap since the previous index
    writeTx(w, p.tx);
    last = p.index;
  }
  return w.finish();
}

/**
 * Decodes a cmpctblock payload. Rejects what Core's InitData rejects as READ_STATUS_INVALID: no
 * transactions at all, more than maxTxs, a differential index past 16 bits, a prefilled index
 * beyond the block's transaction count.
 */
export function decodeCompactBlock(bytes: Uint8Array, maxTxs: number): CompactBlock {
  const r = new Reader(bytes);
  const header = readHeader(r);
  const nonce = r.u64('nonce');
  const nIds = r.count(SHORT_ID_BYTES, 'short ids');
  if (nIds > maxTxs) throw new DecodeError(`${nIds} short ids exceed ${maxTxs} transactions`);
  const shortIds: number[] = new Array(nIds);
  for (let i = 0; i < nIds; i++) shortIds[i] = r.u32('short id') + r.u16('short id') * 0x1_0000_0000;
  const nPre = r.count(1 + MIN_TX_BYTES, 'prefilled transactions');
  if (nIds + nPre > maxTxs) throw new DecodeError(`${nIds + nPre} transactions exceed ${maxTxs}`);
  if (nIds + nPre === 0) throw new DecodeError('compact block without transactions');
  const prefilled: PrefilledTx[] = [];
  let last = -1;
  for (let i = 0; i < nPre; i++) {
    const index = last + 1 + r.compactSize('prefilled index');
    if (index > MAX_COMPACT_INDEX) throw new DecodeError('prefilled indexes overflowed 16 bits');
    if (index >= nIds + nPre) throw new DecodeError(`prefilled index ${index} beyond ${nIds + nPre} transactions`);
    prefilled.push({ index, tx: readTx(r) });
    last = index;
  }
  r.end('cmpctblock');
  return { header, nonce, shortIds, prefilled };
}
