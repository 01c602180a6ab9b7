// BIP152's getblocktxn and blocktxn messages: asking the announcer of a compact block for the
// transactions it lacks, by index, and the answer.
//   getblocktxn: block hash (32) | indexes_length (CompactSize) | indexes (CompactSize each,
//                differentially encoded: each is the gap since the previous one, minus one)
//   blocktxn:    block hash (32) | transactions_length (CompactSize) | transactions
// (Core: BlockTransactionsRequest, BlockTransactions in blockencodings.h.) Decoders bound every
// count by the bytes left and by the caller's maxTxs, and reject indexes past 16 bits.
import { DecodeError, Reader, Writer } from './bytes.js';
import { MAX_COMPACT_INDEX } from './compact-block.js';
import { type Tx, readTx, txSize, writeTx } from './tx.js';

export interface BlockTxnRequest {
  readonly blockHash: Uint8Array;
  /** Absolute indexes, strictly increasing. */
  readonly indexes: readonly number[];
}

export interface BlockTxn {
  readonly blockHash: Uint8Array;
  readonly txs: readonly Tx[];
}

export function encodeGetBlockTxn(req: BlockTxnRequest): Uint8Array {
  const w = new Writer(32 + 3 + 3 * req.indexes.length).bytes(req.blockHash).compactSize(req.indexes.length);
  let last = -1;
  for (const i of req.indexes) {
    if (i <= last) throw new RangeError('indexes must increase');
    w.compactSize(i - last - 1);
    last = i;
  }
  return w.finish();
}

export function decodeGetBlockTxn(bytes: Uint8Array, maxTxs: number): BlockTxnRequest {
  const r = new Reader(bytes);
  const blockHash = r.bytes(32, 'block hash').slice();
  const n = r.count(1, 'indexes');
  if (n > maxTxs) throw new DecodeError(`${n} indexes exceed ${maxTxs} transactions`);
  const indexes: number[] = [];
  let last = -1;
  for (let k = 0; k < n; k++) {
    const i = last + 1 + r.compactSize('index');
    if (i > MAX_COMPACT_INDEX) throw new DecodeError('getblocktxn indexes overflowed 16 bits');
    indexes.push(i);
    last = i;
  }
  r.end('getblocktxn');
  return { blockHash, indexes };
}

export function encodeBlockTxn(b: BlockTxn): Uint8Array {
  let size = 32 + 9;
  for (const tx of b.txs) size += txSize(tx);
  const w = new Writer(size).bytes(b.blockHash).compactSize(b.txs.length);
  for (const tx of b.txs) writeTx(w, tx);
  return w.finish();
}

export function decodeBlockTxn(bytes: Uint8Array, maxTxs: number): BlockTxn {
  const r = new Reader(bytes);
  const blockHash = r.bytes(32, 'block hash').slice();
  const n = r.count(51, 'transactions');
  if (n > maxTxs) throw new DecodeError(`${n} transactions exceed ${maxTxs}`);
  const txs: Tx[] = [];
  for (let k = 0; k < n; k++) txs.push(readTx(r));
  r.end('blocktxn');
  return { blockHash, txs };
}
