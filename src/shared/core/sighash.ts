// Legacy signature hashing (Core's SignatureHash for SigVersion::BASE, src/script/interpreter.cpp).
// The signed message is HASH256 of a modified copy of the transaction followed by the 32-bit hash
// type; what the copy keeps depends on the hash type, which lets a signer commit to all or part of
// the transaction. https://en.bitcoin.it/wiki/OP_CHECKSIG
import { Writer } from './bytes.js';
import { sha256d } from './hash.js';
import { OP_CODESEPARATOR, getScriptOp } from './script.js';
import type { Tx } from './tx.js';

export const SIGHASH_ALL = 0x01;
export const SIGHASH_NONE = 0x02;
export const SIGHASH_SINGLE = 0x03;
export const SIGHASH_ANYONECANPAY = 0x80;

/**
 * uint256 ONE in internal order. Core returns it instead of failing when the input index is out
 * of range, or for SIGHASH_SINGLE without a matching output (the "SIGHASH_SINGLE bug").
 */
const ONE = (() => {
  const b = new Uint8Array(32);
  b[0] = 1;
  return b;
})();

/** Core's SerializeScriptCode: the script with every OP_CODESEPARATOR removed. */
function writeScriptCode(w: Writer, script: Uint8Array): void {
  let separators = 0;
  for (let pc = 0; ;) {
    const op = getScriptOp(script, pc);
    if (!op.ok) break;
    if (op.opcode === OP_CODESEPARATOR) separators++;
    pc = op.next;
  }
  w.compactSize(script.length - separators);
  // Copy runs between separators; like Core, the last run ends where the op iterator stopped.
  let begin = 0;
  let pc = 0;
  for (;;) {
    const op = getScriptOp(script, pc);
    pc = op.next;
    if (!op.ok) break;
    if (op.opcode === OP_CODESEPARATOR) {
      w.bytes(script.subarray(begin, pc - 1));
      begin = pc;
    }
  }
  if (begin !== script.length) w.bytes(script.subarray(begin, pc));
}

/** The preimage whose HASH256 is the legacy signature hash (exposed for fast verification paths). */
export function legacySighashPreimage(tx: Tx, inputIndex: number, scriptCode: Uint8Array, hashType: number): Uint8Array | undefined {
  if (inputIndex >= tx.inputs.length) return undefined;
  const base = hashType & 0x1f;
  const single = base === SIGHASH_SINGLE;
  const none = base === SIGHASH_NONE;
  const anyoneCanPay = (hashType & SIGHASH_ANYONECANPAY) !== 0;
  if (single && inputIndex >= tx.outputs.length) return undefined;

  const w = new Writer(256 + scriptCode.length);
  w.i32(tx.version);
  const nInputs = anyoneCanPay ? 1 : tx.inputs.length;
  w.compactSize(nInputs);
  for (let k = 0; k < nInputs; k++) {
    const idx = anyoneCanPay ? inputIndex : k;
    const inp = tx.inputs[idx]!;
    w.bytes(inp.prevTxid).u32(inp.vout);
    if (idx !== inputIndex) w.compactSize(0);
    else writeScriptCode(w, scriptCode);
    // Other inputs' sequences are zeroed under NONE and SINGLE so they can be updated freely.
    w.u32(idx !== inputIndex && (single || none) ? 0 : inp.sequence);
  }
  const nOutputs = none ? 0 : single ? inputIndex + 1 : tx.outputs.length;
  w.compactSize(nOutputs);
  for (let k = 0; k < nOutputs; k++) {
    if (single && k !== inputIndex) {
      w.i64(-1n).compactSize(0); // CTxOut() is "null": value -1, empty script
    } else {
      const o = tx.outputs[k]!;
      w.i64(o.value).varBytes(o.scriptPubKey);
    }
  }
  w.u32(tx.locktime);
  w.i32(hashType);
  return w.finish();
}

/** The 32 bytes a legacy signature signs, internal order. */
export function legacySighash(tx: Tx, inputIndex: number, scriptCode: Uint8Array, hashType: number): Uint8Array {
  const pre = legacySighashPreimage(tx, inputIndex, scriptCode, hashType);
  return pre === undefined ? ONE.slice() : sha256d(pre);
}
