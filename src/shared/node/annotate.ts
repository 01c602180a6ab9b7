// Byte-by-byte descriptions of headers and transactions, for the explorer's pages and the inspect
// commands: every field's byte range in the serialization, its name, what it means, and its value
// as a reader would write it. A P2PKH scriptSig is split into its DER signature (r and s), hash
// type and public key (BIP66 layout: 0x30 len 0x02 rlen r 0x02 slen s). Reads only what it is
// given; nothing here is trusted for validation.
import { compactSizeLength, hashToHex, toHex } from '../core/bytes.js';
import { type Header, encodeHeader } from '../core/header.js';
import { bitsToTarget } from '../core/pow.js';
import { getScriptOp, p2pkhHash } from '../core/script.js';
import { SIGHASH_ANYONECANPAY, legacySighashPreimage } from '../core/sighash.js';
import { type Tx, isCoinbase } from '../core/tx.js';
import { sha256d } from '../core/hash.js';
import { derLayout } from '../core/ecdsa.js';

export interface ByteField {
  /** Byte offsets [start, end) in the serialization. */
  readonly start: number;
  readonly end: number;
  /** A short machine name, e.g. "vin[0].scriptSig.der.r". */
  readonly name: string;
  /** What it means, in one line. */
  readonly meaning: string;
  /** The value as a person reads it (numbers in decimal, hashes in display order). */
  readonly value: string;
}

const u32le = (b: Uint8Array, at: number) => new DataView(b.buffer, b.byteOffset + at, 4).getUint32(0, true);

/** The 80 header bytes, field by field. */
export function headerFields(h: Header): ByteField[] {
  const target = bitsToTarget(h.bits);
  return [
    { start: 0, end: 4, name: 'version', meaning: 'block version (little-endian int32)', value: String(h.version) },
    {
      start: 4,
      end: 36,
      name: 'prevHash',
      meaning: 'hash of the previous block header (stored byte-reversed)',
      value: hashToHex(h.prevHash),
    },
    { start: 36, end: 68, name: 'merkleRoot', meaning: 'Merkle root of the txids (stored byte-reversed)', value: hashToHex(h.merkleRoot) },
    {
      start: 68,
      end: 72,
      name: 'time',
      meaning: 'block time, seconds since 1970 (uint32)',
      value: `${h.time} (${new Date(h.time * 1000).toISOString()})`,
    },
    {
      start: 72,
      end: 76,
      name: 'bits',
      meaning: 'nBits: the target in compact form (exponent byte, 3-byte mantissa)',
      value: `0x${h.bits.toString(16).padStart(8, '0')} → target ${target.toString(16).padStart(64, '0')}`,
    },
    { start: 76, end: 80, name: 'nonce', meaning: 'nonce the miner varied until HASH256(header) ≤ target', value: String(h.nonce) },
  ];
}

export function headerHex(h: Header): string {
  return toHex(encodeHeader(h));
}

function compactField(raw: Uint8Array, at: number, name: string, meaning: string, n: number): ByteField {
  return { start: at, end: at + compactSizeLength(n), name, meaning, value: String(n) };
}

/** A scriptSig's parts: each push's opcode and data; a signature push split further (DER r, s, hash type). */
function scriptSigFields(script: Uint8Array, base: number, prefix: string, coinbase: boolean): ByteField[] {
  if (coinbase)
    return [
      {
        start: base,
        end: base + script.length,
        name: `${prefix}.coinbase`,
        meaning: 'coinbase data: BIP34 height push, then anything the miner likes',
        value: toHex(script),
      },
    ];
  const out: ByteField[] = [];
  let item = 0;
  for (let pc = 0; pc < script.length && item < 16; item++) {
    const op = getScriptOp(script, pc);
    if (!op.ok || op.data === undefined) {
      out.push({
        start: base + pc,
        end: base + script.length,
        name: `${prefix}.other`,
        meaning: 'script bytes that are not a plain data push',
        value: toHex(script.subarray(pc)),
      });
      return out;
    }
    const dataStart = op.next - op.data.length;
    out.push({
      start: base + pc,
      end: base + dataStart,
      name: `${prefix}.push${item}`,
      meaning: `push opcode: the next ${op.data.length} bytes are data`,
      value: `0x${toHex(script.subarray(pc, dataStart))}`,
    });
    const der = item === 0 ? derParts(op.data) : undefined;
    if (der) {
      for (const f of der)
        out.push({ ...f, start: base + dataStart + f.start, end: base + dataStart + f.end, name: `${prefix}.sig.${f.name}` });
    } else if (op.data.length === 33 || op.data.length === 65) {
      out.push({
        start: base + dataStart,
        end: base + op.next,
        name: `${prefix}.pubkey`,
        meaning: `public key (${op.data.length === 33 ? 'compressed: 02/03 then x' : 'uncompressed: 04, x, y'}); its HASH160 must match the output's`,
        value: toHex(op.data),
      });
    } else {
      out.push({
        start: base + dataStart,
        end: base + op.next,
        name: `${prefix}.data${item}`,
        meaning: 'pushed data',
        value: toHex(op.data),
      });
    }
    pc = op.next;
  }
  return out;
}

/**
 * DER signature + hash type byte, split: offsets relative to the pushed data. Read with core's one DER
 * parser, so only strict DER (BIP66, a consensus rule) is split; anything else is shown as one push.
 */
export function derParts(sig: Uint8Array): ByteField[] | undefined {
  const at = sig.length >= 1 ? derLayout(sig.subarray(0, sig.length - 1)) : undefined;
  if (at === undefined) return undefined;
  const rLen = at.rEnd - at.rStart;
  const sAt = at.rEnd;
  const sLen = at.sEnd - at.sStart;
  const ht = sig[sig.length - 1]!;
  const htName = ['', 'ALL', 'NONE', 'SINGLE'][ht & 0x1f] ?? 'unknown';
  return [
    { start: 0, end: 2, name: 'der.header', meaning: 'DER: 0x30 (a sequence) and its length', value: `0x30, ${sig[1]} bytes` },
    { start: 2, end: 4, name: 'der.rHeader', meaning: 'DER: 0x02 (an integer) and the length of r', value: `${rLen} bytes` },
    {
      start: 4,
      end: sAt,
      name: 'der.r',
      meaning: 'r: x coordinate of the signer’s random point k·G (mod n)',
      value: toHex(sig.subarray(4, sAt)),
    },
    { start: sAt, end: sAt + 2, name: 'der.sHeader', meaning: 'DER: 0x02 (an integer) and the length of s', value: `${sLen} bytes` },
    {
      start: sAt + 2,
      end: sig.length - 1,
      name: 'der.s',
      meaning: 's = k⁻¹(z + r·d) mod n, low-S (BIP62)',
      value: toHex(sig.subarray(sAt + 2, sig.length - 1)),
    },
    {
      start: sig.length - 1,
      end: sig.length,
      name: 'hashType',
      meaning: 'sighash type: which parts of the transaction the signature commits to',
      value: `0x${ht.toString(16).padStart(2, '0')} SIGHASH_${htName}${ht & SIGHASH_ANYONECANPAY ? '|ANYONECANPAY' : ''}`,
    },
  ];
}

function outputScriptMeaning(spk: Uint8Array, encodeAddress: (pkh: Uint8Array) => string): string {
  const pkh = p2pkhHash(spk);
  return pkh
    ? `P2PKH: OP_DUP OP_HASH160 <${toHex(pkh)}> OP_EQUALVERIFY OP_CHECKSIG, address ${encodeAddress(pkh)}`
    : 'a script mvb does not spend (not P2PKH)';
}

/** Every field of a legacy transaction's serialization, in order. raw must be encodeTx(tx). */
export function txFields(tx: Tx, raw: Uint8Array, encodeAddress: (pkh: Uint8Array) => string): ByteField[] {
  const f: ByteField[] = [];
  let at = 0;
  const push = (len: number, name: string, meaning: string, value: string) => {
    f.push({ start: at, end: at + len, name, meaning, value });
    at += len;
  };
  push(4, 'version', 'transaction version (little-endian int32)', String(tx.version));
  f.push(compactField(raw, at, 'vinCount', 'number of inputs (CompactSize)', tx.inputs.length));
  at += compactSizeLength(tx.inputs.length);
  const cb = isCoinbase(tx);
  tx.inputs.forEach((i, k) => {
    push(32, `vin[${k}].prevTxid`, 'outpoint: txid of the transaction whose output this spends (byte-reversed)', hashToHex(i.prevTxid));
    push(4, `vin[${k}].vout`, 'outpoint: which output of that transaction (uint32)', String(i.vout));
    f.push(compactField(raw, at, `vin[${k}].scriptSigLength`, 'scriptSig length in bytes (CompactSize)', i.scriptSig.length));
    at += compactSizeLength(i.scriptSig.length);
    f.push(...scriptSigFields(i.scriptSig, at, `vin[${k}].scriptSig`, cb));
    at += i.scriptSig.length;
    push(4, `vin[${k}].sequence`, 'sequence (0xffffffff: final)', `0x${i.sequence.toString(16).padStart(8, '0')}`);
  });
  f.push(compactField(raw, at, 'voutCount', 'number of outputs (CompactSize)', tx.outputs.length));
  at += compactSizeLength(tx.outputs.length);
  tx.outputs.forEach((o, k) => {
    push(8, `vout[${k}].value`, 'amount in base units (little-endian int64)', o.value.toString());
    f.push(compactField(raw, at, `vout[${k}].scriptPubKeyLength`, 'scriptPubKey length in bytes (CompactSize)', o.scriptPubKey.length));
    at += compactSizeLength(o.scriptPubKey.length);
    push(o.scriptPubKey.length, `vout[${k}].scriptPubKey`, outputScriptMeaning(o.scriptPubKey, encodeAddress), toHex(o.scriptPubKey));
  });
  push(4, 'locktime', 'nLockTime: earliest height (< 500000000) or time the transaction may be mined; 0 = any', String(u32le(raw, at)));
  return f;
}

export interface SighashView {
  readonly input: number;
  readonly hashType: number;
  /** The legacy preimage: the transaction with this input's scriptSig replaced by the spent output's script, others emptied, then the 4-byte hash type. */
  readonly preimage: string;
  /** HASH256(preimage) in internal order: the number the signature signs. */
  readonly sighash: string;
}

/** What input k's signature commits to, given the script of the output it spends. */
export function sighashView(tx: Tx, k: number, prevScriptPubKey: Uint8Array): SighashView | undefined {
  const inp = tx.inputs[k];
  if (!inp || isCoinbase(tx)) return undefined;
  const first = getScriptOp(inp.scriptSig, 0);
  const sig = first.ok ? first.data : undefined;
  if (!sig || sig.length === 0) return undefined;
  const hashType = sig[sig.length - 1]!;
  const pre = legacySighashPreimage(tx, k, prevScriptPubKey, hashType);
  if (!pre) return undefined;
  return { input: k, hashType, preimage: toHex(pre), sighash: toHex(sha256d(pre)) };
}

/** Merkle tree levels from the txids (level 0) to the root, each hash in display order (Core duplicates an odd last hash). */
export function merkleLevels(txids: readonly Uint8Array[]): string[][] {
  const levels: string[][] = [txids.map(hashToHex)];
  let cur = [...txids];
  while (cur.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < cur.length; i += 2) {
      const a = cur[i]!;
      const b = cur[i + 1] ?? a;
      const both = new Uint8Array(64);
      both.set(a, 0);
      both.set(b, 32);
      next.push(sha256d(both));
    }
    levels.push(next.map(hashToHex));
    cur = next;
  }
  return levels;
}

/** The Merkle branch for the txid at pos (Esplora's merkle-proof), hashes in display order. */
export function merkleBranch(txids: readonly Uint8Array[], pos: number): string[] {
  const out: string[] = [];
  let cur = [...txids];
  let i = pos;
  while (cur.length > 1) {
    const sib = i ^ 1;
    out.push(hashToHex(cur[sib] ?? cur[i]!));
    const next: Uint8Array[] = [];
    for (let j = 0; j < cur.length; j += 2) {
      const both = new Uint8Array(64);
      both.set(cur[j]!, 0);
      both.set(cur[j + 1] ?? cur[j]!, 32);
      next.push(sha256d(both));
    }
    cur = next;
    i >>= 1;
  }
  return out;
}
