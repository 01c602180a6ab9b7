// The small part of Bitcoin Script that mvb needs: pushes, P2PKH scripts and Core's opcode
// iterator (GetScriptOp), which legacy signature hashing uses to drop OP_CODESEPARATORs.
import { DecodeError, Writer } from './bytes.js';

export const OP_0 = 0x00;
export const OP_PUSHDATA1 = 0x4c;
export const OP_PUSHDATA2 = 0x4d;
export const OP_PUSHDATA4 = 0x4e;
export const OP_DUP = 0x76;
export const OP_EQUALVERIFY = 0x88;
export const OP_HASH160 = 0xa9;
export const OP_CHECKSIG = 0xac;
export const OP_CODESEPARATOR = 0xab;

export interface ScriptOp {
  readonly ok: boolean;
  readonly opcode: number;
  /** Position after the op; on failure, where Core's GetScriptOp left its iterator. */
  readonly next: number;
  readonly data?: Uint8Array;
}

/** Core's GetScriptOp: reads one opcode (and its push data) at pc. */
export function getScriptOp(script: Uint8Array, pc: number): ScriptOp {
  const end = script.length;
  if (pc >= end) return { ok: false, opcode: 0xff, next: pc };
  const opcode = script[pc++]!;
  if (opcode <= OP_PUSHDATA4) {
    let size: number;
    if (opcode < OP_PUSHDATA1) size = opcode;
    else if (opcode === OP_PUSHDATA1) {
      if (end - pc < 1) return { ok: false, opcode: 0xff, next: pc };
      size = script[pc++]!;
    } else if (opcode === OP_PUSHDATA2) {
      if (end - pc < 2) return { ok: false, opcode: 0xff, next: pc };
      size = script[pc]! | (script[pc + 1]! << 8);
      pc += 2;
    } else {
      if (end - pc < 4) return { ok: false, opcode: 0xff, next: pc };
      size = (script[pc]! | (script[pc + 1]! << 8) | (script[pc + 2]! << 16) | (script[pc + 3]! << 24)) >>> 0;
      pc += 4;
    }
    if (end - pc < size) return { ok: false, opcode: 0xff, next: pc };
    return { ok: true, opcode, next: pc + size, data: script.subarray(pc, pc + size) };
  }
  return { ok: true, opcode, next: pc };
}

/** Appends a minimal push of data (what Core's CScript << vector produces). */
export function pushData(w: Writer, data: Uint8Array): Writer {
  const n = data.length;
  if (n < OP_PUSHDATA1) w.u8(n);
  else if (n <= 0xff) w.u8(OP_PUSHDATA1).u8(n);
  else if (n <= 0xffff) w.u8(OP_PUSHDATA2).u16(n);
  else w.u8(OP_PUSHDATA4).u32(n);
  return w.bytes(data);
}

/** P2PKH output script: OP_DUP OP_HASH160 <20-byte pubkey hash> OP_EQUALVERIFY OP_CHECKSIG. */
export function p2pkhScript(pubkeyHash: Uint8Array): Uint8Array {
  if (pubkeyHash.length !== 20) throw new RangeError('pubkey hash must be 20 bytes');
  const s = new Uint8Array(25);
  s[0] = OP_DUP;
  s[1] = OP_HASH160;
  s[2] = 20;
  s.set(pubkeyHash, 3);
  s[23] = OP_EQUALVERIFY;
  s[24] = OP_CHECKSIG;
  return s;
}

/** The pubkey hash of a P2PKH script, or undefined for any other script. */
export function p2pkhHash(script: Uint8Array): Uint8Array | undefined {
  if (
    script.length === 25 &&
    script[0] === OP_DUP &&
    script[1] === OP_HASH160 &&
    script[2] === 20 &&
    script[23] === OP_EQUALVERIFY &&
    script[24] === OP_CHECKSIG
  ) {
    return script.subarray(3, 23);
  }
  return undefined;
}

/** P2PKH input script: <signature with hash type byte> <public key>. */
export function p2pkhScriptSig(sigWithHashType: Uint8Array, pubkey: Uint8Array): Uint8Array {
  const w = new Writer(sigWithHashType.length + pubkey.length + 4);
  pushData(w, sigWithHashType);
  pushData(w, pubkey);
  return w.finish();
}

/**
 * Splits a scriptSig made only of data pushes into its pushed items. Throws DecodeError on a
 * non-push opcode or a truncated push (a P2PKH spend must be push-only).
 */
export function parsePushes(script: Uint8Array): Uint8Array[] {
  const items: Uint8Array[] = [];
  let pc = 0;
  while (pc < script.length) {
    const op = getScriptOp(script, pc);
    if (!op.ok) throw new DecodeError('truncated push in script');
    if (op.opcode > OP_PUSHDATA4 || op.data === undefined) throw new DecodeError('non-push opcode in scriptSig');
    items.push(op.data);
    pc = op.next;
  }
  return items;
}

/**
 * BIP34 height in a coinbase scriptSig: the first item is a minimal push of the height as a
 * little-endian script number (Core: CScript() << nHeight).
 */
export function encodeScriptNum(n: number): Uint8Array {
  if (n === 0) return new Uint8Array(0);
  const out: number[] = [];
  let v = Math.abs(n);
  while (v > 0) {
    out.push(v & 0xff);
    v = Math.floor(v / 256);
  }
  if (out[out.length - 1]! & 0x80) out.push(n < 0 ? 0x80 : 0);
  else if (n < 0) out[out.length - 1]! |= 0x80;
  return Uint8Array.from(out);
}

/** The scriptSig prefix BIP34 requires for height h (Core's CScript() << h, OP_1..OP_16 for small h). */
export function bip34Prefix(height: number): Uint8Array {
  if (height === 0) return Uint8Array.of(OP_0);
  if (height >= 1 && height <= 16) return Uint8Array.of(0x50 + height);
  const num = encodeScriptNum(height);
  const w = new Writer(num.length + 1);
  pushData(w, num);
  return w.finish();
}
