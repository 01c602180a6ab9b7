// Legacy (pre-segwit) transaction serialization, byte for byte as Bitcoin Core's
// CTransaction without witness: version, vin, vout, nLockTime.
// https://developer.bitcoin.org/reference/transactions.html#raw-transaction-format
import { DecodeError, Reader, Writer, compactSizeLength } from './bytes.js';
import { sha256d } from './hash.js';

export interface TxInput {
  /** Previous transaction id, internal byte order. */
  readonly prevTxid: Uint8Array;
  readonly vout: number;
  readonly scriptSig: Uint8Array;
  readonly sequence: number;
}

export interface TxOutput {
  /** Amount in base units (satoshis). Encoded as a signed 64-bit integer, as in Core. */
  readonly value: bigint;
  readonly scriptPubKey: Uint8Array;
}

export interface Tx {
  readonly version: number;
  readonly inputs: readonly TxInput[];
  readonly outputs: readonly TxOutput[];
  readonly locktime: number;
}

/** An input's sequence that opts out of lock time (Core's CTxIn::SEQUENCE_FINAL). */
export const SEQUENCE_FINAL = 0xffffffff;
/** The output index of the null outpoint a coinbase input names (Core's COutPoint::NULL_INDEX). */
export const NULL_INDEX = 0xffffffff;
/** Bounds on a coinbase's scriptSig, bytes (Core's CheckTransaction: bad-cb-length outside them). */
export const MIN_COINBASE_SCRIPT_BYTES = 2;
export const MAX_COINBASE_SCRIPT_BYTES = 100;

/** Smallest encodings, used to bound counts before allocating: outpoint 36 + script len 1 + sequence 4. */
const MIN_INPUT_BYTES = 41;
/** value 8 + script len 1. */
const MIN_OUTPUT_BYTES = 9;

export function writeTx(w: Writer, tx: Tx): Writer {
  w.i32(tx.version);
  w.compactSize(tx.inputs.length);
  for (const i of tx.inputs) {
    w.bytes(i.prevTxid).u32(i.vout).varBytes(i.scriptSig).u32(i.sequence);
  }
  w.compactSize(tx.outputs.length);
  for (const o of tx.outputs) w.i64(o.value).varBytes(o.scriptPubKey);
  w.u32(tx.locktime);
  return w;
}

export function encodeTx(tx: Tx): Uint8Array {
  return writeTx(new Writer(txSize(tx)), tx).finish();
}

/** Serialized size in bytes, computed without serializing. */
export function txSize(tx: Tx): number {
  let n = 4 + compactSizeLength(tx.inputs.length) + compactSizeLength(tx.outputs.length) + 4;
  for (const i of tx.inputs) n += 36 + compactSizeLength(i.scriptSig.length) + i.scriptSig.length + 4;
  for (const o of tx.outputs) n += 8 + compactSizeLength(o.scriptPubKey.length) + o.scriptPubKey.length;
  return n;
}

/** Reads one transaction from r. Byte arrays are copied so the result outlives the input buffer. */
export function readTx(r: Reader): Tx {
  const version = r.i32('tx version');
  const nIn = r.count(MIN_INPUT_BYTES, 'tx input');
  if (nIn === 0) {
    // A zero input count is how the segwit marker (0x00 0x01) begins; we speak legacy only.
    throw new DecodeError('transaction has no inputs (segwit serialization is not supported)');
  }
  const inputs: TxInput[] = new Array(nIn);
  for (let k = 0; k < nIn; k++) {
    const prevTxid = r.bytes(32, 'prevout hash').slice();
    const vout = r.u32('prevout index');
    const scriptSig = r.varBytes('scriptSig').slice();
    const sequence = r.u32('sequence');
    inputs[k] = { prevTxid, vout, scriptSig, sequence };
  }
  const nOut = r.count(MIN_OUTPUT_BYTES, 'tx output');
  const outputs: TxOutput[] = new Array(nOut);
  for (let k = 0; k < nOut; k++) {
    const value = r.i64('output value');
    const scriptPubKey = r.varBytes('scriptPubKey').slice();
    outputs[k] = { value, scriptPubKey };
  }
  const locktime = r.u32('locktime');
  return { version, inputs, outputs, locktime };
}

/** Decodes exactly one transaction; trailing bytes are an error. */
export function decodeTx(bytes: Uint8Array): Tx {
  const r = new Reader(bytes);
  const tx = readTx(r);
  r.end('transaction');
  return tx;
}

/** Transaction id: HASH256 of the legacy serialization, internal byte order. */
export function txid(tx: Tx): Uint8Array {
  return sha256d(encodeTx(tx));
}

export function isCoinbase(tx: Tx): boolean {
  const i = tx.inputs[0];
  return tx.inputs.length === 1 && i !== undefined && i.vout === NULL_INDEX && i.prevTxid.every((b) => b === 0);
}
