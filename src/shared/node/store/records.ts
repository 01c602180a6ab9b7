// Disk formats of the chain store, written with the same Writer/Reader as the wire.
// Coin layout follows Core's idea (height, coinbase flag, output) in a plain fixed form.
import { DecodeError, Reader, Writer, bigIntToBytesLE, bytesToBigIntLE } from '../../core/bytes.js';
import { readHeader, writeHeader } from '../../core/header.js';
import type { EntryRecord, EntryStatus } from '../../core/chain.js';
import type { Coin } from '../../core/validation.js';

const STATUS: readonly EntryStatus[] = ['header', 'data', 'valid', 'failed'];

export function encodeEntry(e: EntryRecord): Uint8Array {
  const w = new Writer(128);
  writeHeader(w, e.header);
  w.u32(e.height).bytes(bigIntToBytesLE(e.chainWork, 32)).u8(STATUS.indexOf(e.status)).u32(e.seq);
  return w.finish();
}

export function decodeEntry(hash: Uint8Array, b: Uint8Array): EntryRecord {
  const r = new Reader(b);
  const header = readHeader(r);
  const height = r.u32();
  const chainWork = bytesToBigIntLE(r.bytes(32));
  const status = STATUS[r.u8()];
  const seq = r.u32();
  r.end('entry');
  if (!status) throw new DecodeError('corrupt entry status');
  return { hash, header, height, chainWork, status, seq };
}

export function writeCoin(w: Writer, c: Coin): Writer {
  return w.i64(c.value).u32(c.height).u8(c.coinbase ? 1 : 0).varBytes(c.scriptPubKey);
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

