// Disk formats of the chain store, written with the same Writer/Reader as the wire.
// Coin layout follows Core's idea (height, coinbase flag, output) in a plain fixed form.
import { DecodeError, Reader, Writer, bigIntToBytesLE } from '../../core/bytes.js';
import { writeHeader } from '../../core/header.js';
import type { EntryRecord, EntryStatus } from '../../core/chain.js';
import type { Coin } from '../../core/validation.js';

const STATUS: readonly EntryStatus[] = ['header', 'data', 'valid', 'failed'];

export function encodeEntry(e: EntryRecord): Uint8Array {
  const w = new Writer(128);
  writeHeader(w, e.header);
  w.u32(e.height).bytes(bigIntToBytesLE(e.chainWork, 32)).u8(STATUS.indexOf(e.status)).u32(e.seq);
  return w.finish();
}

/** Bytes of an encoded entry: header, height, chain work, status, arrival order. */
const ENTRY_BYTES = 80 + 4 + 32 + 1 + 4;

/**
 * Decodes an entry. Read with one DataView and no intermediate objects (a node's restart decodes
 * every entry it has: 100 000 of them in well under a second); the chain work is four 64-bit words.
 */
export function decodeEntry(hash: Uint8Array, b: Uint8Array): EntryRecord {
  if (b.length !== ENTRY_BYTES) throw new DecodeError(`corrupt entry: ${b.length} bytes, expected ${ENTRY_BYTES}`);
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const status = STATUS[v.getUint8(116)];
  if (!status) throw new DecodeError('corrupt entry status');
  const header = {
    version: v.getInt32(0, true),
    prevHash: b.slice(4, 36),
    merkleRoot: b.slice(36, 68),
    time: v.getUint32(68, true),
    bits: v.getUint32(72, true),
    nonce: v.getUint32(76, true),
  };
  const chainWork =
    (v.getBigUint64(108, true) << 192n) |
    (v.getBigUint64(100, true) << 128n) |
    (v.getBigUint64(92, true) << 64n) |
    v.getBigUint64(84, true);
  return { hash, header, height: v.getUint32(80, true), chainWork, status, seq: v.getUint32(117, true) };
}

export function writeCoin(w: Writer, c: Coin): Writer {
  return w
    .i64(c.value)
    .u32(c.height)
    .u8(c.coinbase ? 1 : 0)
    .varBytes(c.scriptPubKey);
}

export function readCoin(r: Reader): Coin {
  const value = r.i64();
  const height = r.u32();
  const coinbase = r.u8() === 1;
  const scriptPubKey = r.varBytes().slice();
  return { value, height, coinbase, scriptPubKey };
}

export function encodeCoin(c: Coin): Uint8Array {
  return writeCoin(new Writer(48), c).finish();
}

export function decodeCoin(b: Uint8Array): Coin {
  const r = new Reader(b);
  const c = readCoin(r);
  r.end('coin');
  return c;
}

export function encodeUndo(spent: readonly Coin[]): Uint8Array {
  const w = new Writer(64 * spent.length + 8);
  w.compactSize(spent.length);
  for (const c of spent) writeCoin(w, c);
  return w.finish();
}

export function decodeUndo(b: Uint8Array): Coin[] {
  const r = new Reader(b);
  const n = r.count(14, 'undo coins');
  const out: Coin[] = [];
  for (let i = 0; i < n; i++) out.push(readCoin(r));
  r.end('undo');
  return out;
}
