// An outpoint: one output of one transaction, named by the transaction's id and the output's
// index (Core's COutPoint, src/primitives/transaction.h). mvb writes it in three forms, all here:
// - the key:     txid hex in internal byte order, ':', the index; the key of in-memory maps and of
//                the wallet's databases (stored on disk as strings, so its form is fixed);
// - the bytes:   36 bytes, txid (internal order) then the index big-endian; the key of the LMDB
//                coin table, big-endian so that the coins of one transaction sort together (this is
//                not Bitcoin's wire form, which writes the index little-endian inside a TxIn);
// - the display: txid in display (reversed) order, ':', the index, as bitcoin-cli prints it.
import { fromHex, hashToHex, toHex } from './bytes.js';

export interface Outpoint {
  /** Internal byte order. */
  readonly txid: Uint8Array;
  readonly vout: number;
}

/** Size of the bytes form: a 32-byte txid and a 4-byte index. */
export const OUTPOINT_BYTES = 36;

const KEY_RE = /^([0-9a-f]{64}):(\d{1,10})$/;

export class OutpointError extends Error {
  override readonly name = 'OutpointError';
}

/** The key form: txid hex (internal order) and the index. */
export function outpointKey(txid: Uint8Array, vout: number): string {
  return `${toHex(txid)}:${vout}`;
}

/** Reads a key form back; throws OutpointError on anything outpointKey does not write. */
export function parseOutpointKey(key: string): Outpoint {
  const m = KEY_RE.exec(key);
  const vout = m ? Number(m[2]) : NaN;
  if (!m || vout > 0xffffffff) throw new OutpointError(`not an outpoint key: ${JSON.stringify(key.slice(0, 80))}`);
  return { txid: fromHex(m[1]!), vout };
}

/** The bytes form: txid (internal order), then the index big-endian (the store's coin key). */
export function outpointBytes(txid: Uint8Array, vout: number): Uint8Array {
  const k = new Uint8Array(OUTPOINT_BYTES);
  k.set(txid, 0);
  new DataView(k.buffer).setUint32(32, vout, false);
  return k;
}

/** Reads a bytes form back; throws OutpointError unless it is 36 bytes. */
export function parseOutpointBytes(bytes: Uint8Array): Outpoint {
  if (bytes.length !== OUTPOINT_BYTES) throw new OutpointError(`an outpoint is ${OUTPOINT_BYTES} bytes, not ${bytes.length}`);
  return { txid: bytes.slice(0, 32), vout: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(32, false) };
}

/** The display form: txid in display order, then the index. */
export function displayOutpoint(txid: Uint8Array, vout: number): string {
  return `${hashToHex(txid)}:${vout}`;
}

/** A key form as people read it (the display form). */
export function displayOutpointKey(key: string): string {
  const o = parseOutpointKey(key);
  return displayOutpoint(o.txid, o.vout);
}
