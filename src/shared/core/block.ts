// A block: header followed by a CompactSize count of transactions.
import { Reader, Writer, compactSizeLength } from './bytes.js';
import { type Header, HEADER_BYTES, headerHash, readHeader, writeHeader } from './header.js';
import { type Tx, readTx, txSize, writeTx } from './tx.js';

export interface Block {
  readonly header: Header;
  readonly txs: readonly Tx[];
}

/** The smallest transaction encoding: version 4, 1 input of 41, no outputs, locktime 4, counts 2. */
const MIN_TX_BYTES = 51;

export function writeBlock(w: Writer, b: Block): Writer {
  writeHeader(w, b.header);
  w.compactSize(b.txs.length);
  for (const tx of b.txs) writeTx(w, tx);
  return w;
}

export function blockSize(b: Block): number {
  let n = HEADER_BYTES + compactSizeLength(b.txs.length);
  for (const tx of b.txs) n += txSize(tx);
  return n;
}

export function encodeBlock(b: Block): Uint8Array {
  return writeBlock(new Writer(blockSize(b)), b).finish();
}

export function readBlock(r: Reader): Block {
  const header = readHeader(r);
  const n = r.count(MIN_TX_BYTES, 'block transaction');
  const txs: Tx[] = new Array(n);
  for (let i = 0; i < n; i++) txs[i] = readTx(r);
  return { header, txs };
}

export function decodeBlock(bytes: Uint8Array): Block {
  const r = new Reader(bytes);
  const b = readBlock(r);
  r.end('block');
  return b;
}

export function blockHash(b: Block): Uint8Array {
  return headerHash(b.header);
}
